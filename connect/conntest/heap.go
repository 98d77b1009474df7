package conntest

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/weir-etl/weir"
)

// PeakHeap opens a source with open and reads it to the end in buffers of
// batch records, and returns how many it read and the largest growth of
// the live heap above what it was before the source opened (sampled every
// 20 reads, after a GC at the start): for a test that a streaming source's
// memory does not grow with its input. It fails t on any error.
func PeakHeap[E any](t testing.TB, open func() (weir.Source[E], error), batch int) (records int, peak uint64) {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	src, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := src.(weir.Closer); ok {
		defer c.Close(context.Background())
	}
	buf := make([]E, batch)
	for reads := 0; ; reads++ {
		n, err := src.Read(context.Background(), buf)
		records += n
		if reads%20 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		}
		if errors.Is(err, io.EOF) {
			return records, peak
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
