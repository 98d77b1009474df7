package weir_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// heldCounter counts the bytes of the records a run holds: a source adds
// a chunk's bytes when its Read returns them, a sink takes a batch's away
// when its Write returns. peak is the most held at any instant.
type heldCounter struct {
	held, peak atomic.Int64
}

func (h *heldCounter) add(n int64) {
	v := h.held.Add(n)
	for {
		p := h.peak.Load()
		if v <= p || h.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// countingSource reads records of the given sizes and counts them in h.
// With short > 0, a Read returns at most short records, as sources that
// return what they have do; the engine then gathers batches over several
// Reads.
func countingSource(h *heldCounter, sizes []int, short int) weir.Source[sized] {
	next := 0
	return weir.SourceFunc[sized](func(_ context.Context, buf []sized) (int, error) {
		if next == len(sizes) {
			return 0, io.EOF
		}
		k := min(len(buf), len(sizes)-next)
		if short > 0 {
			k = min(k, short)
		}
		var bytes int64
		for i := range k {
			buf[i] = sized{id: next, bytes: sizes[next]}
			bytes += int64(sizes[next])
			next++
		}
		h.add(bytes)
		return k, nil
	})
}

// heldSink loads batches slowly (on synctest's fake clock: every other
// goroutine runs until it blocks first, so the queues fill) and keeps the
// ids it was given.
type heldSink struct {
	h        *heldCounter
	mu       sync.Mutex
	ids      []int
	maxBatch int64 // the most bytes in one batch
}

func (s *heldSink) Write(_ context.Context, b []sized) error {
	time.Sleep(time.Millisecond)
	var bytes int64
	s.mu.Lock()
	for _, r := range b {
		bytes += int64(r.bytes)
		s.ids = append(s.ids, r.id)
	}
	s.maxBatch = max(s.maxBatch, bytes)
	s.mu.Unlock()
	s.h.add(-bytes)
	return nil
}

func TestMemoryBoundsTheRecordsHeld(t *testing.T) {
	const budget = 64 << 10
	uniform := func(n, size int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = size
		}
		return s
	}
	// Sizes that vary, none larger than the first: the engine sizes its
	// Reads by the largest record it has seen.
	varying := func(n, size int) []int {
		rng := rand.New(rand.NewPCG(1, 2))
		s := make([]int, n)
		s[0] = size
		for i := 1; i < n; i++ {
			s[i] = 1 + rng.IntN(size)
		}
		return s
	}
	mapped := weir.Map(func(_ context.Context, r sized) (sized, error) { return r, nil })
	cases := []struct {
		name  string
		cfg   weir.Config
		tr    weir.Transform[sized, sized]
		sizes []int
		short int
	}{
		{"workers load", weir.Config{BatchSize: 500, Workers: 3}, weir.Identity[sized](), uniform(3000, 1000), 0},
		{"separate load stage", weir.Config{BatchSize: 500, Workers: 2, LoadConcurrency: 3}, weir.Identity[sized](), uniform(3000, 1000), 0},
		{"a transform that copies", weir.Config{BatchSize: 500, Workers: 2}, mapped, uniform(3000, 1000), 0},
		{"adaptive", weir.Config{Adaptive: true, Workers: 2}, weir.Identity[sized](), uniform(3000, 1000), 0},
		{"with BatchBytes below the share", weir.Config{BatchSize: 500, Workers: 2, BatchBytes: 3000}, weir.Identity[sized](), uniform(3000, 1000), 0},
		{"sizes that vary", weir.Config{BatchSize: 500, Workers: 3}, weir.Identity[sized](), varying(5000, 1500), 0},
		{"small records, large batches", weir.Config{BatchSize: 10_000, Workers: 2}, weir.Identity[sized](), uniform(50_000, 10), 0},
		{"short reads", weir.Config{BatchSize: 500, Workers: 2}, weir.Identity[sized](), varying(5000, 1500), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var h heldCounter
				sink := &heldSink{h: &h}
				c.cfg.Memory = budget
				p := mustNew(t, countingSource(&h, c.sizes, c.short), c.tr, weir.Sink[sized](sink), c.cfg)
				if err := p.Run(context.Background()); err != nil {
					t.Fatalf("Run: %v", err)
				}
				if peak := h.peak.Load(); peak > budget {
					t.Errorf("the run held %d bytes of records at once, over its budget of %d", peak, budget)
				}
				if len(sink.ids) != len(c.sizes) || h.held.Load() != 0 {
					t.Fatalf("loaded %d of %d records (%d bytes still held)", len(sink.ids), len(c.sizes), h.held.Load())
				}
				seen := make([]bool, len(c.sizes))
				for _, id := range sink.ids {
					if seen[id] {
						t.Fatalf("record %d loaded twice", id)
					}
					seen[id] = true
				}
				st := p.Stats()
				if m := st.Memory; m.Budget != budget || m.Batches < 1 || m.BatchBytes != budget/int64(m.Batches) || m.Largest != int64(c.sizes[0]) {
					t.Errorf("Stats.Memory = %+v, want budget %d, batch bytes budget/batches, largest %d", m, budget, c.sizes[0])
				}
				if sink.maxBatch > st.Memory.BatchBytes {
					t.Errorf("a batch held %d bytes, over a batch's share of %d", sink.maxBatch, st.Memory.BatchBytes)
				}
				t.Logf("peak %d bytes of %d (%d batches of %d bytes)", h.peak.Load(), budget, st.Memory.Batches, st.Memory.BatchBytes)
			})
		})
	}
}

// bigRecord is a record that knows where it was read.
type bigRecord struct {
	line, bytes int
}

func (l bigRecord) Size() int         { return l.bytes }
func (l bigRecord) SourcePos() string { return fmt.Sprintf("big.csv:%d", l.line) }

func TestMemoryRecordTooLarge(t *testing.T) {
	const budget, at = 40_000, 700
	for _, cfg := range []weir.Config{
		{BatchSize: 100, Workers: 2},
		{BatchSize: 100, Workers: 1, LoadConcurrency: 2},
	} {
		t.Run(fmt.Sprintf("load concurrency %d", cfg.LoadConcurrency), func(t *testing.T) {
			recs := make([]bigRecord, 1000)
			for i := range recs {
				recs[i] = bigRecord{line: i + 2, bytes: 100}
			}
			recs[at].bytes = budget // alone it takes the whole budget, more than a batch's share
			var sink collector[bigRecord]
			cfg.Memory = budget
			p := mustNew(t, weir.FromSlice(recs), weir.Identity[bigRecord](), &sink, cfg)
			err := p.Run(context.Background())
			var tl *weir.RecordTooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("Run = %v, want a *RecordTooLargeError", err)
			}
			if tl.Position != at || tl.Source != "big.csv:702" || tl.Size != budget || tl.Limit != p.Stats().Memory.BatchBytes {
				t.Errorf("error = %+v, want record %d at big.csv:702, %d bytes, limit %d", tl, at, budget, p.Stats().Memory.BatchBytes)
			}
			for _, want := range []string{"record 700 (big.csv:702)", "40000 bytes", "raise the budget"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var se *weir.StageError
			if !errors.As(err, &se) || se.Stage != weir.StageExtract {
				t.Errorf("error = %v, want a StageError of the extract stage", err)
			}
			// The records before it are loaded, as on a source failure.
			if got := len(sink.all()); got != at {
				t.Errorf("loaded %d records, want the %d before the large one", got, at)
			}
		})
	}
}

func TestMemoryConfigErrors(t *testing.T) {
	withSize := weir.WithSize(func(int) int { return 8 })
	cases := []struct {
		name string
		cfg  weir.Config
		opts []weir.Option
		want []string
	}{
		{"negative", weir.Config{Memory: -1}, []weir.Option{withSize}, []string{"Memory must be >= 0", "got -1"}},
		{"less than a byte per batch", weir.Config{Memory: 5, Workers: 2}, []weir.Option{withSize}, []string{"Memory (5 bytes)", "8 batches"}},
		{"BatchBytes above the share", weir.Config{Memory: 8000, Workers: 2, BatchBytes: 2000}, []weir.Option{withSize},
			[]string{"BatchBytes (2000)", "1000 = 8000 / 8 batches"}},
		{"no record sizes", weir.Config{Memory: 1 << 20}, nil, []string{"Memory is set but record sizes are unknown"}},
		{"less than one record", weir.Config{Memory: 40, Workers: 2}, []weir.Option{withSize}, []string{"lets one batch hold 5 bytes", "one int record (8 bytes)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := weir.New(weir.FromSlice(ints(3)), weir.Identity[int](), weir.Sink[int](&collector[int]{}), c.cfg, c.opts...)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New = %v, want it to say %q", err, w)
				}
			}
		})
	}
	// The boundary: exactly one record per batch is enough.
	if _, err := weir.New(weir.FromSlice(ints(3)), weir.Identity[int](), weir.Sink[int](&collector[int]{}),
		weir.Config{Memory: 64, Workers: 2}, withSize); err != nil {
		t.Errorf("New with 8 bytes per batch of 8-byte records: %v", err)
	}
}
