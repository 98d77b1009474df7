package weir_test

import (
	"context"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// TestStatsSampledBelow512Records: at batches of 64 each goroutine times
// its first batch and then one in every 8 (512/64), and Busy is the timed
// calls' time scaled up to every call, the calls after the last timed one
// included. On synctest's fake clock every Read takes 1ms and every Write
// 10ms, so the scaled busy times are exact.
func TestStatsSampledBelow512Records(t *testing.T) {
	skipWithoutTiming(t)
	synctest.Test(t, func(t *testing.T) {
		const batches = 44 // one worker: batches 1, 9, 17, 25, 33 and 41 are timed
		reads := 0
		src := weir.SourceFunc[int](func(_ context.Context, buf []int) (int, error) {
			time.Sleep(time.Millisecond) // fake clock: a source taking 1ms a Read
			reads++
			if reads > batches {
				return 0, io.EOF // the 45th Read: not timed (41 + 8 = 49)
			}
			for i := range buf {
				buf[i] = i
			}
			return len(buf), nil
		})
		sink := weir.SinkFunc[int](func(context.Context, []int) error {
			time.Sleep(10 * time.Millisecond) // fake clock: a slow database
			return nil
		})
		p := mustNew(t, src, weir.Identity[int](), sink, weir.Config{BatchSize: 64, Workers: 1})
		mustRun(t, p)
		st := p.Stats()
		if st.Load.Batches != batches || st.Load.Latency.Count != 6 || st.Transform.Latency.Count != 6 || st.Extract.Latency.Count != 6 {
			t.Errorf("timed batches: extract %d, transform %d, load %d of %d; want 6 each (one in 8)",
				st.Extract.Latency.Count, st.Transform.Latency.Count, st.Load.Latency.Count, st.Load.Batches)
		}
		if st.Load.Latency.P50 != 10*time.Millisecond || st.Load.Busy != batches*10*time.Millisecond {
			t.Errorf("load: p50 %v, busy %v; want 10ms and %v (6 timed writes scaled to 44)",
				st.Load.Latency.P50, st.Load.Busy, batches*10*time.Millisecond)
		}
		if st.Extract.Busy != (batches+1)*time.Millisecond {
			t.Errorf("extract busy %v, want %v (6 timed Reads scaled to 45)", st.Extract.Busy, (batches+1)*time.Millisecond)
		}
		// A batch that one Read filled took that Read's time to gather; the
		// wait for the queue behind the 10ms writes is not in it.
		if st.Extract.Latency.Max != time.Millisecond {
			t.Errorf("extract latency max %v, want the Read's 1ms", st.Extract.Latency.Max)
		}
	})
}

// TestRunStartsOnlyTheGoroutinesItNeeds: the fixed cost of a small run is
// mostly its goroutines. A run of full chunks without checkpoints starts
// its workers and nothing else: the reader runs on Run's goroutine, the
// batch timer starts only when a batch stays open after a Read, and the
// checkpoint saver only when checkpointing.
func TestRunStartsOnlyTheGoroutinesItNeeds(t *testing.T) {
	cases := []struct {
		name  string
		chunk int // records per Read; BatchSize is 8
		opts  []weir.Option
		want  int // goroutines during the run, beyond Run's own
	}{
		{"full chunks", 8, nil, 2},
		{"partial chunks need the timer", 3, nil, 3},
		{"checkpointing needs the saver", 8, []weir.Option{weir.WithCheckpoint(&memStore{}, "job")}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runner := goroutineID() // Run's caller: the run's goroutines are its children
			var during atomic.Int64
			sink := weir.SinkFunc[int](func(context.Context, []int) error {
				if during.Load() == 0 {
					during.CompareAndSwap(0, int64(startedBy(runner)))
				}
				return nil
			})
			src := &chunked{numbers: numbers{n: 40}, chunk: c.chunk}
			p := mustNew(t, src, weir.Identity[int](), sink, weir.Config{BatchSize: 8, Workers: 2, QueueDepth: 1}, c.opts...)
			mustRun(t, p)
			if got := int(during.Load()); got != c.want {
				t.Errorf("%d goroutines during the run, want %d", got, c.want)
			}
		})
	}
}

// goroutineID returns the calling goroutine's number, as stack traces
// print it.
func goroutineID() string {
	buf := make([]byte, 64)
	return strings.Fields(string(buf[:runtime.Stack(buf, false)]))[1]
}

// startedBy counts the live goroutines that goroutine id started.
func startedBy(id string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), " in goroutine "+id+"\n")
}

// chunked is a numbers source whose Reads return at most chunk records.
type chunked struct {
	numbers
	chunk int
}

func (c *chunked) Read(ctx context.Context, buf []int) (int, error) {
	return c.numbers.Read(ctx, buf[:min(len(buf), c.chunk)])
}
