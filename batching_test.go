package weir_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// sized is a record that reports its size in bytes.
type sized struct {
	id    int
	bytes int
}

func (s sized) Size() int { return s.bytes }

func TestFlushRules(t *testing.T) {
	cases := []struct {
		name  string
		cfg   weir.Config
		input []sized
		want  []int // batch sizes in load order (Workers = 1)
	}{
		{
			name:  "size closes full batches and EOF flushes the partial last one",
			cfg:   weir.Config{BatchSize: 4},
			input: makeSized(10, 1),
			want:  []int{4, 4, 2},
		},
		{
			name:  "exact multiple of the size leaves no empty batch",
			cfg:   weir.Config{BatchSize: 5},
			input: makeSized(10, 1),
			want:  []int{5, 5},
		},
		{
			name:  "bytes close a batch once the limit is reached",
			cfg:   weir.Config{BatchSize: 100, BatchBytes: 100},
			input: makeSized(10, 30), // 4 × 30 = 120 >= 100
			want:  []int{4, 4, 2},
		},
		{
			name:  "whichever of size and bytes comes first wins",
			cfg:   weir.Config{BatchSize: 3, BatchBytes: 100},
			input: makeSized(7, 30),
			want:  []int{3, 3, 1},
		},
		{
			name:  "a record over the byte limit closes the batch it joins",
			cfg:   weir.Config{BatchSize: 10, BatchBytes: 50},
			input: []sized{{0, 10}, {1, 500}, {2, 10}, {3, 10}},
			want:  []int{2, 2},
		},
		{
			name:  "empty source loads nothing",
			cfg:   weir.Config{BatchSize: 4},
			input: nil,
			want:  nil,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Workers = 1
			var sink collector[sized]
			p := mustNew(t, weir.FromSlice(c.input), weir.Identity[sized](), &sink, c.cfg)
			if err := p.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := sink.sizes(); !slices.Equal(got, c.want) {
				t.Errorf("batch sizes = %v, want %v", got, c.want)
			}
			if got := sink.all(); !slices.Equal(got, c.input) {
				t.Errorf("loaded %v, want %v", got, c.input)
			}
			st := p.Stats()
			wantBytes := 0
			for _, s := range c.input {
				wantBytes += s.bytes
			}
			if st.Extract.Bytes != int64(wantBytes) {
				t.Errorf("Extract.Bytes = %d, want %d", st.Extract.Bytes, wantBytes)
			}
		})
	}
}

func makeSized(n, bytes int) []sized {
	s := make([]sized, n)
	for i := range s {
		s[i] = sized{i, bytes}
	}
	return s
}

// TestFlushIntervalWithTricklingSource feeds one record per second into a
// pipeline with a 100ms interval and checks, on synctest's fake clock, that
// each record is loaded exactly 100ms after it arrived, alone in its batch.
func TestFlushIntervalWithTricklingSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan int)
		var (
			mu      sync.Mutex
			sentAt  = map[int]time.Time{}
			latency = map[int]time.Duration{}
			sizes   []int
		)
		sink := weir.SinkFunc[int](func(_ context.Context, b []int) error {
			mu.Lock()
			defer mu.Unlock()
			sizes = append(sizes, len(b))
			for _, v := range b {
				latency[v] = time.Since(sentAt[v])
			}
			return nil
		})
		p := mustNew(t, weir.FromChan(ch), weir.Identity[int](), sink,
			weir.Config{BatchSize: 100, FlushInterval: 100 * time.Millisecond, Workers: 1})
		done := make(chan error)
		go func() { done <- p.Run(context.Background()) }()
		for i := range 5 {
			mu.Lock()
			sentAt[i] = time.Now()
			mu.Unlock()
			ch <- i
			time.Sleep(time.Second) // fake clock: the source trickles
		}
		close(ch)
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if !slices.Equal(sizes, []int{1, 1, 1, 1, 1}) {
			t.Errorf("batch sizes = %v, want five batches of one", sizes)
		}
		for i := range 5 {
			if latency[i] != 100*time.Millisecond {
				t.Errorf("record %d loaded after %v, want exactly the 100ms flush interval", i, latency[i])
			}
		}
	})
}

// TestFlushIntervalStartsAtFirstRecord: records arriving inside one
// interval share a batch; the timer starts with the batch's first record.
func TestFlushIntervalStartsAtFirstRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan int)
		var sink collector[int]
		p := mustNew(t, weir.FromChan(ch), weir.Identity[int](), &sink,
			weir.Config{BatchSize: 100, FlushInterval: 100 * time.Millisecond, Workers: 1})
		done := make(chan error)
		go func() { done <- p.Run(context.Background()) }()
		// 0, 1, 2 within 60ms → one batch; 3 after the flush → next batch.
		for i, gap := range []time.Duration{30, 30, 90, 0} {
			ch <- i
			time.Sleep(gap * time.Millisecond)
		}
		close(ch)
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := sink.sizes(); !slices.Equal(got, []int{3, 1}) {
			t.Errorf("batch sizes = %v, want [3 1]", got)
		}
	})
}

// TestEndOfSourceFlushesAtOnce: the last partial batch does not wait for
// the interval once the source has ended.
func TestEndOfSourceFlushesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loadedAt time.Time
		sink := weir.SinkFunc[int](func(context.Context, []int) error {
			loadedAt = time.Now()
			return nil
		})
		start := time.Now()
		p := mustNew(t, weir.FromSlice(ints(3)), weir.Identity[int](), sink,
			weir.Config{BatchSize: 100, FlushInterval: time.Hour, Workers: 1})
		if err := p.Run(context.Background()); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if d := loadedAt.Sub(start); d != 0 {
			t.Errorf("last batch loaded %v after start, want 0 (no wait for the 1h interval)", d)
		}
	})
}

func TestBatchBytesNeedsSizes(t *testing.T) {
	_, err := weir.New(weir.FromSlice(ints(3)), weir.Identity[int](), weir.Sink[int](&collector[int]{}), weir.Config{BatchBytes: 10})
	if err == nil || !strings.Contains(err.Error(), "BatchBytes") {
		t.Fatalf("New = %v, want an error about BatchBytes without sizes", err)
	}
	// WithSize supplies them.
	var sink collector[int]
	p := mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), &sink, weir.Config{BatchBytes: 32, Workers: 1}, weir.WithSize(func(int) int { return 8 }))
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run with WithSize: %v", err)
	}
	if got := sink.sizes(); !slices.Equal(got, []int{4, 4, 2}) {
		t.Errorf("batch sizes = %v, want [4 4 2]", got)
	}
}
