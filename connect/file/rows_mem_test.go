package file_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/file"
)

// A JSON array of a million objects is read one object at a time: the
// heap stays a small fraction of the file, which a whole-file read (the
// file's bytes, then its objects) would exceed.
func TestRowSourceJSONArrayStreamsInFlatMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("reads a 1M-object file: not in -short, and the race detector's shadow memory would blur the measure")
	}
	const objects = 1_000_000
	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("[\n")
	for i := range objects {
		if i > 0 {
			w.WriteString(",\n")
		}
		fmt.Fprintf(w, `{"id": %d, "name": "name %d", "tags": [%d, "x"], "ok": true}`, i, i, i%7)
	}
	w.WriteString("\n]\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	f.Close()

	total, peak := conntest.PeakHeap(t, func() (weir.Source[connect.Row], error) {
		return file.OpenRows(path, file.RowSourceConfig{})
	}, 1000)
	if total != objects {
		t.Fatalf("read %d rows, want %d", total, objects)
	}
	t.Logf("file %.1f MB, peak heap above the start %.1f MB (sampled every 20 reads of 1000 rows)",
		float64(size)/1e6, float64(peak)/1e6)
	if bound := uint64(size) / 4; peak > bound {
		t.Errorf("peak heap %d bytes > %d (a quarter of the file): the array is not streamed", peak, bound)
	}
}
