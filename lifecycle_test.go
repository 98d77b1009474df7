package weir_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// closeCounter is a source and sink that counts Close calls.
type closeCounter struct {
	weir.Source[int]
	closed atomic.Int32
}

func (c *closeCounter) Close(context.Context) error { c.closed.Add(1); return nil }

type closingSink struct {
	weir.Sink[int]
	closed atomic.Int32
}

func (c *closingSink) Close(context.Context) error { c.closed.Add(1); return nil }

func TestHooksRunExactlyOnce(t *testing.T) {
	sinkErr := errors.New("sink down")
	beforeErr := errors.New("no schema")
	cases := []struct {
		name       string
		src        weir.Source[int]
		sink       func(context.Context, []int) error
		before     error
		cancelCtx  bool
		wantErr    error
		wantLoaded int64
	}{
		{name: "success", src: weir.FromSlice(ints(1000)), wantLoaded: 1000},
		{name: "sink failure", src: weir.FromSlice(ints(1000)), sink: func(_ context.Context, b []int) error {
			if b[0] >= 512 {
				return sinkErr
			}
			return nil
		}, wantErr: sinkErr},
		{name: "before hook failure reads nothing", src: weir.FromSlice(ints(1000)), before: beforeErr, wantErr: beforeErr},
		{name: "cancelled", src: blockingSource(300), cancelCtx: true, wantErr: context.Canceled, wantLoaded: 300},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after atomic.Int32
			var afterErr error
			var afterStats weir.Stats
			src := &closeCounter{Source: c.src}
			var loaded atomic.Int64
			sinkFn := c.sink
			if sinkFn == nil {
				sinkFn = func(context.Context, []int) error { return nil }
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := &closingSink{Sink: weir.SinkFunc[int](func(ctx context.Context, b []int) error {
				if err := sinkFn(ctx, b); err != nil {
					return err
				}
				if loaded.Add(int64(len(b))) == 300 && c.cancelCtx {
					cancel()
				}
				return nil
			})}
			p := mustNew(t, weir.Source[int](src), weir.Identity[int](), weir.Sink[int](sink), weir.Config{BatchSize: 100, Workers: 1},
				weir.WithHooks(weir.Hooks{
					Before: func(context.Context) error { before.Add(1); return c.before },
					After: func(_ context.Context, st weir.Stats, err error) error {
						after.Add(1)
						afterErr, afterStats = err, st
						return nil
					},
				}))
			err := p.Run(ctx)
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("Run = %v, want %v", err, c.wantErr)
			}
			if before.Load() != 1 || after.Load() != 1 {
				t.Errorf("Before ran %d times, After %d times; want once each", before.Load(), after.Load())
			}
			if src.closed.Load() != 1 || sink.closed.Load() != 1 {
				t.Errorf("source closed %d times, sink %d times; want once each", src.closed.Load(), sink.closed.Load())
			}
			if !errors.Is(afterErr, c.wantErr) || (c.wantErr == nil) != (afterErr == nil) {
				t.Errorf("After was told %v, want %v", afterErr, c.wantErr)
			}
			if afterStats.Running {
				t.Errorf("After saw Running stats")
			}
			if c.wantLoaded != 0 && afterStats.Load.Records != c.wantLoaded {
				t.Errorf("After saw %d loaded, want %d", afterStats.Load.Records, c.wantLoaded)
			}
			if c.before != nil && afterStats.Extract.Records != 0 {
				t.Errorf("a failed Before hook still let %d records be read", afterStats.Extract.Records)
			}
		})
	}
}

func TestAfterHookErrorIsJoined(t *testing.T) {
	hookErr := errors.New("report failed")
	p := mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), &collector[int]{}, weir.Config{}, weir.WithHooks(weir.Hooks{After: func(context.Context, weir.Stats, error) error { return hookErr }}))
	if err := p.Run(context.Background()); !errors.Is(err, hookErr) || !strings.Contains(err.Error(), "after hook") {
		t.Fatalf("Run = %v, want the after hook's error", err)
	}
}

func TestErrorsAreWrappedWithStage(t *testing.T) {
	srcErr := errors.New("cursor lost")
	sinkErr := errors.New("disk full")
	t.Run("source error names the position", func(t *testing.T) {
		n := 0
		src := weir.SourceFunc[int](func(_ context.Context, buf []int) (int, error) {
			if n >= 250 {
				return 0, srcErr
			}
			k := min(len(buf), 250-n)
			n += k
			return k, nil
		})
		p := mustNew(t, src, weir.Identity[int](), &collector[int]{}, weir.Config{BatchSize: 100, Workers: 1})
		err := p.Run(context.Background())
		var se *weir.StageError
		if !errors.As(err, &se) || se.Stage != weir.StageExtract || se.First != 250 || !errors.Is(err, srcErr) {
			t.Fatalf("Run = %v (%+v), want extract error after record 250", err, se)
		}
		if !strings.Contains(err.Error(), "extract after record 250") {
			t.Errorf("message %q", err)
		}
	})
	t.Run("sink error names the batch", func(t *testing.T) {
		for _, load := range []int{0, 2} {
			p := mustNew(t, weir.FromSlice(ints(1000)), weir.Identity[int](), weir.SinkFunc[int](func(_ context.Context, b []int) error {
				if b[0] == 300 {
					return sinkErr
				}
				return nil
			}), weir.Config{BatchSize: 100, Workers: 2, LoadConcurrency: load})
			err := p.Run(context.Background())
			var se *weir.StageError
			if !errors.As(err, &se) || se.Stage != weir.StageLoad || se.Batch != 3 || se.First != 300 || se.Count != 100 || !errors.Is(err, sinkErr) {
				t.Fatalf("LoadConcurrency %d: Run = %v (%+v), want load error in batch 3", load, err, se)
			}
			if !strings.Contains(err.Error(), "load batch 3 (records 300-399)") {
				t.Errorf("message %q", err)
			}
		}
	})
	t.Run("source returning too many records", func(t *testing.T) {
		src := weir.SourceFunc[int](func(_ context.Context, buf []int) (int, error) { return len(buf) + 1, nil })
		p := mustNew(t, src, weir.Identity[int](), &collector[int]{}, weir.Config{BatchSize: 10})
		if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "returned 11 records for a buffer of 10") {
			t.Fatalf("Run = %v", err)
		}
	})
}

func TestPanicsBecomeErrors(t *testing.T) {
	cases := []struct {
		name  string
		src   weir.Source[int]
		tr    weir.Transform[int, int]
		sink  weir.Sink[int]
		cfg   weir.Config
		stage weir.Stage
	}{
		{"in map", weir.FromSlice(ints(100)), weir.Map(func(_ context.Context, v int) (int, error) {
			if v == 50 {
				panic("bad record")
			}
			return v, nil
		}), &collector[int]{}, weir.Config{}, weir.StageTransform},
		{"in map on a helper goroutine", weir.FromSlice(ints(100)), weir.Map(func(_ context.Context, v int) (int, error) {
			if v%10 == 3 {
				panic("bad record")
			}
			return v, nil
		}), &collector[int]{}, weir.Config{BatchSize: 50, TransformConcurrency: 4}, weir.StageTransform},
		{"in flatmap with concurrency", weir.FromSlice(ints(100)), weir.FlatMap(func(_ context.Context, v int, out []int) ([]int, error) {
			if v == 99 {
				panic("bad record")
			}
			return append(out, v), nil
		}), &collector[int]{}, weir.Config{BatchSize: 50, TransformConcurrency: 3}, weir.StageTransform},
		{"in sink", weir.FromSlice(ints(100)), weir.Identity[int](), weir.SinkFunc[int](func(context.Context, []int) error {
			panic("sink bug")
		}), weir.Config{}, weir.StageLoad},
		{"in source", weir.SourceFunc[int](func(context.Context, []int) (int, error) {
			panic("source bug")
		}), weir.Identity[int](), &collector[int]{}, weir.Config{}, weir.StageExtract},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustNew(t, c.src, c.tr, c.sink, c.cfg)
			err := p.Run(context.Background())
			var pe *weir.PanicError
			var se *weir.StageError
			if !errors.As(err, &pe) || !errors.As(err, &se) || se.Stage != c.stage {
				t.Fatalf("Run = %v, want a *PanicError in stage %v", err, c.stage)
			}
			if len(pe.Stack) == 0 {
				t.Errorf("PanicError has no stack")
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	cases := []struct {
		name string
		// build returns the pipeline and a channel closed once the run is
		// in the state where the test cancels it.
		build func() (weir.Runner, <-chan struct{})
	}{
		{"while the source blocks", func() (weir.Runner, <-chan struct{}) {
			ready := make(chan struct{})
			var once atomic.Bool
			src := weir.SourceFunc[int](func(ctx context.Context, buf []int) (int, error) {
				if once.CompareAndSwap(false, true) {
					close(ready)
				}
				<-ctx.Done()
				return 0, ctx.Err()
			})
			p, _ := weir.New(src, weir.Identity[int](), weir.Sink[int](&collector[int]{}), weir.Config{})
			return p, ready
		}},
		{"while the sink blocks mid-batch", func() (weir.Runner, <-chan struct{}) {
			ready := make(chan struct{})
			var once atomic.Bool
			sink := weir.SinkFunc[int](func(ctx context.Context, b []int) error {
				if once.CompareAndSwap(false, true) {
					close(ready)
				}
				<-ctx.Done()
				return ctx.Err()
			})
			p, _ := weir.New(weir.FromSlice(ints(100_000)), weir.Identity[int](), weir.Sink[int](sink), weir.Config{LoadConcurrency: 2})
			return p, ready
		}},
		{"while a transform blocks", func() (weir.Runner, <-chan struct{}) {
			ready := make(chan struct{})
			var once atomic.Bool
			tr := weir.Map(func(ctx context.Context, v int) (int, error) {
				if once.CompareAndSwap(false, true) {
					close(ready)
				}
				<-ctx.Done()
				return 0, ctx.Err()
			})
			p, _ := weir.New(weir.FromSlice(ints(100_000)), tr, weir.Sink[int](&collector[int]{}), weir.Config{TransformConcurrency: 4})
			return p, ready
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ready := c.build()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- r.Run(ctx) }()
			<-ready
			cancel()
			err := <-done
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run cancelled") {
				t.Fatalf("Run = %v, want a wrapped context.Canceled", err)
			}
			if !strings.Contains(err.Error(), "records extracted") {
				t.Errorf("cancellation error %q should say how far the run got", err)
			}
			// goleak (TestMain) checks nothing outlived Run.
		})
	}
}

func TestCancellationReportsCounts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var loaded atomic.Int64
	p := mustNew(t, blockingSource(1000), weir.Identity[int](), weir.SinkFunc[int](func(_ context.Context, b []int) error {
		if loaded.Add(int64(len(b))) == 1000 {
			cancel()
		}
		return nil
	}), weir.Config{BatchSize: 100})
	err := p.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	st := p.Stats()
	if st.Extract.Records != 1000 || st.Transform.Records != 1000 || st.Load.Records != 1000 {
		t.Fatalf("stats after cancel: extracted %d, transformed %d, loaded %d; want 1000 each",
			st.Extract.Records, st.Transform.Records, st.Load.Records)
	}
	if want := "1000 records extracted, 1000 transformed, 1000 loaded"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q should contain %q", err, want)
	}
}

func TestSinkFailureWhileSourceBlocks(t *testing.T) {
	sinkErr := errors.New("constraint")
	p := mustNew(t, blockingSource(10), weir.Identity[int](), weir.SinkFunc[int](func(context.Context, []int) error {
		return sinkErr
	}), weir.Config{BatchSize: 5})
	if err := p.Run(context.Background()); !errors.Is(err, sinkErr) {
		t.Fatalf("Run = %v, want the sink's error although the source is blocked", err)
	}
}

func TestRunTwice(t *testing.T) {
	p := mustNew(t, weir.FromSlice(ints(3)), weir.Identity[int](), &collector[int]{}, weir.Config{})
	mustRun(t, p)
	if err := p.Run(context.Background()); !errors.Is(err, weir.ErrAlreadyRun) {
		t.Fatalf("second Run = %v, want ErrAlreadyRun", err)
	}
}

func TestStats(t *testing.T) {
	skipWithoutTiming(t)
	synctest.Test(t, func(t *testing.T) {
		var live weir.Stats
		var calls atomic.Int32
		sink := weir.SinkFunc[int](func(context.Context, []int) error {
			time.Sleep(10 * time.Millisecond) // fake clock: a slow database
			if calls.Add(1) == 5 {
				live = pipelineForStats.Stats()
			}
			return nil
		})
		src := weir.FromFunc(func() func(context.Context) (int, error) {
			i := 0
			return func(context.Context) (int, error) {
				if i == 5120 {
					return 0, io.EOF
				}
				i++
				return i, nil
			}
		}())
		p := mustNew(t, src, weir.Filter(func(v int) bool { return v%2 == 0 }), sink,
			weir.Config{BatchSize: 512, Workers: 2}) // 512: every batch timed
		pipelineForStats = p
		mustRun(t, p)
		st := p.Stats()
		if st.Running || st.Elapsed <= 0 {
			t.Errorf("final stats: Running=%v Elapsed=%v", st.Running, st.Elapsed)
		}
		if !live.Running || live.Load.Records == 0 || live.Load.Records >= 2560 {
			t.Errorf("live stats during the run: Running=%v loaded=%d", live.Running, live.Load.Records)
		}
		if st.Extract.Records != 5120 || st.Extract.Batches != 10 ||
			st.Transform.In != 5120 || st.Transform.Records != 2560 || st.Transform.Batches != 10 ||
			st.Load.Records != 2560 || st.Load.Batches != 10 {
			t.Errorf("counts: %+v", st)
		}
		// 10 loads of 10ms on 2 workers: 50ms of wall clock, 100ms busy.
		if st.Load.Latency.Count != 10 || st.Load.Latency.P50 < 10*time.Millisecond || st.Load.Latency.P99 > 12*time.Millisecond {
			t.Errorf("load latency = %+v, want 10 samples of 10ms", st.Load.Latency)
		}
		if st.Load.Busy != 100*time.Millisecond {
			t.Errorf("load busy = %v, want 100ms", st.Load.Busy)
		}
		if b := st.Bottleneck(); b != weir.StageLoad {
			t.Errorf("Bottleneck = %v, want load", b)
		}
		if got := st.RecordsPerSec(); got != 2560/st.Elapsed.Seconds() {
			t.Errorf("RecordsPerSec = %v", got)
		}
		if s := fmt.Sprint(weir.StageTransform); s != "transform" {
			t.Errorf("Stage.String = %q", s)
		}
	})
}

var pipelineForStats interface{ Stats() weir.Stats }

func TestStopFinishesWhatWasRead(t *testing.T) {
	var loaded atomic.Int64
	var p *weir.Pipeline[int, int]
	sink := weir.SinkFunc[int](func(_ context.Context, b []int) error {
		if loaded.Add(int64(len(b))) >= 500 {
			p.Stop() // from inside the run, as a signal handler would
		}
		return nil
	})
	p = mustNew(t, blockingSource(1_000_000), weir.Identity[int](), weir.Sink[int](sink), weir.Config{BatchSize: 100, Workers: 2})
	err := p.Run(context.Background())
	if !errors.Is(err, weir.ErrStopped) || errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	st := p.Stats()
	if st.Extract.Records == 0 || st.Load.Records != st.Extract.Records || st.CheckAccounting() != nil {
		t.Fatalf("after Stop: extracted %d, loaded %d; every record read must be loaded", st.Extract.Records, st.Load.Records)
	}
	// Stop before Run: the run ends after its first Read and says so.
	q := mustNew(t, blockingSource(10), weir.Identity[int](), weir.Sink[int](&collector[int]{}), weir.Config{})
	q.Stop()
	if err := q.Run(context.Background()); !errors.Is(err, weir.ErrStopped) {
		t.Fatalf("Run after Stop = %v", err)
	}
}

// TestTransformTimeExcludesWaitingForTheLoader: with a separate, slow load
// stage, a worker blocks handing batches over; that wait must not count as
// transform time (it once did, and the report blamed the transform).
func TestTransformTimeExcludesWaitingForTheLoader(t *testing.T) {
	skipWithoutTiming(t)
	synctest.Test(t, func(t *testing.T) {
		sink := weir.SinkFunc[int](func(context.Context, []int) error {
			time.Sleep(10 * time.Millisecond) // fake clock: a slow database
			return nil
		})
		p := mustNew(t, weir.FromSlice(ints(2000)), weir.Map(func(_ context.Context, v int) (int, error) { return v, nil }),
			sink, weir.Config{BatchSize: 100, Workers: 2, LoadConcurrency: 1})
		mustRun(t, p)
		st := p.Stats()
		if st.Transform.Busy != 0 || st.Load.Busy != 200*time.Millisecond {
			t.Fatalf("transform busy %v (want 0 on a fake clock: it never sleeps), load busy %v (want 200ms)", st.Transform.Busy, st.Load.Busy)
		}
		if b := st.Bottleneck(); b != weir.StageLoad {
			t.Errorf("Bottleneck = %v, want load", b)
		}
	})
}
