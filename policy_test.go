package weir_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// atomicSink stores whole batches or nothing, like a database transaction,
// and refuses any batch holding a record that bad() rejects.
type atomicSink struct {
	mu     sync.Mutex
	got    map[int]int // record → times stored
	bad    func(int) bool
	flaky  func() bool // a transient failure for this call?
	calls  atomic.Int64
	failed atomic.Int64
}

func (s *atomicSink) Write(_ context.Context, b []int) error {
	s.calls.Add(1)
	if s.flaky != nil && s.flaky() {
		s.failed.Add(1)
		return weir.Transient(errors.New("connection reset"))
	}
	for _, v := range b {
		if s.bad != nil && s.bad(v) {
			return fmt.Errorf("record %d violates check constraint", v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[int]int{}
	}
	for _, v := range b {
		s.got[v]++
	}
	return nil
}

// deadLetters collects failures.
type deadLetters struct {
	mu    sync.Mutex
	fails []weir.Failure
}

func (d *deadLetters) Write(_ context.Context, f []weir.Failure) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fails = append(d.fails, f...)
	return nil
}

func (d *deadLetters) items() []int {
	var out []int
	for _, f := range d.fails {
		out = append(out, f.Record.(int))
	}
	slices.Sort(out)
	return out
}

func TestTransientSinkFailuresAreRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		sink := &atomicSink{flaky: func() bool { return n.Add(1)%10 == 0 }} // every 10th call fails
		p := mustNew(t, weir.FromSlice(ints(10_000)), weir.Identity[int](), weir.Sink[int](sink), weir.Config{
			BatchSize: 50, Workers: 3,
			Retry: weir.RetryPolicy{MaxAttempts: 5, InitialBackoff: 10 * time.Millisecond},
		})
		mustRun(t, p)
		if len(sink.got) != 10_000 {
			t.Fatalf("stored %d distinct records, want 10000", len(sink.got))
		}
		for v, k := range sink.got {
			if k != 1 {
				t.Fatalf("record %d stored %d times", v, k)
			}
		}
		st := p.Stats()
		if st.Load.Retries != sink.failed.Load() || st.Load.Retries == 0 {
			t.Errorf("Stats.Load.Retries = %d, sink failed %d times", st.Load.Retries, sink.failed.Load())
		}
	})
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	sink := &atomicSink{bad: func(v int) bool { return v == 5 }}
	p := mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](sink), weir.Config{
		Retry: weir.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Hour},
	})
	err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "violates") || sink.calls.Load() != 1 {
		t.Fatalf("Run = %v after %d calls; want the constraint error after 1 call", err, sink.calls.Load())
	}
}

func TestRetriesGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		always := &atomicSink{flaky: func() bool { return true }}
		p := mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](always), weir.Config{
			Retry: weir.RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond},
		})
		err := p.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "after 4 attempts") || always.calls.Load() != 4 {
			t.Fatalf("Run = %v after %d calls, want failure after 4 attempts", err, always.calls.Load())
		}
		// MaxElapsed stops earlier than MaxAttempts.
		always = &atomicSink{flaky: func() bool { return true }}
		p = mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](always), weir.Config{
			Retry: weir.RetryPolicy{MaxAttempts: 100, InitialBackoff: time.Second, MaxElapsed: 5 * time.Second},
		})
		start := time.Now()
		if err := p.Run(context.Background()); err == nil {
			t.Fatal("Run succeeded against a sink that always fails")
		}
		if el := time.Since(start); el > 5*time.Second || always.calls.Load() >= 100 {
			t.Errorf("gave up after %v and %d calls, want within MaxElapsed 5s", el, always.calls.Load())
		}
	})
}

func TestCancellationInterruptsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		always := &atomicSink{flaky: func() bool { return true }}
		p := mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](always), weir.Config{
			Retry: weir.RetryPolicy{MaxAttempts: 10, InitialBackoff: time.Hour, MaxBackoff: time.Hour},
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() { done <- p.Run(ctx) }()
		synctest.Wait() // the run is now waiting out its first backoff
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("cancellation took %v of backoff, want 0", el)
		}
	})
}

func TestSourceReadsAreRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		next, calls := 0, 0
		src := weir.SourceFunc[int](func(_ context.Context, buf []int) (int, error) {
			calls++
			if calls%3 == 0 {
				return 0, weir.Transient(errors.New("cursor timed out"))
			}
			if next >= 1000 {
				return 0, errIOEOF
			}
			k := min(len(buf), 1000-next)
			for i := range k {
				buf[i] = next + i
			}
			next += k
			return k, nil
		})
		sink := &atomicSink{}
		p := mustNew(t, src, weir.Identity[int](), weir.Sink[int](sink), weir.Config{
			BatchSize: 64, Retry: weir.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond},
		})
		mustRun(t, p)
		if len(sink.got) != 1000 || p.Stats().Extract.Retries == 0 {
			t.Fatalf("stored %d records with %d read retries", len(sink.got), p.Stats().Extract.Retries)
		}
	})
}

func TestSkipIsolatesPoisonRecordsByBisection(t *testing.T) {
	bad := func(v int) bool { return v%997 == 13 }
	for _, cfg := range []weir.Config{
		{BatchSize: 128, Workers: 2},
		{BatchSize: 500, Workers: 3, LoadConcurrency: 2},
		{BatchSize: 1, Workers: 1},
	} {
		t.Run(cfgName(cfg), func(t *testing.T) {
			cfg.OnLoadError = weir.Skip
			sink := &atomicSink{bad: bad}
			var dl deadLetters
			const n = 20_000
			p := mustNew(t, weir.FromSlice(ints(n)), weir.Map(func(_ context.Context, v int) (int, error) { return v, nil }), weir.Sink[int](sink), cfg, weir.WithDeadLetter(&dl))
			mustRun(t, p)
			var want []int
			for v := range n {
				if bad(v) {
					want = append(want, v)
				}
			}
			if got := dl.items(); !slices.Equal(got, want) {
				t.Fatalf("dead-lettered %v, want exactly the poison records %v", got, want)
			}
			for _, f := range dl.fails {
				if f.Stage != weir.StageLoad || f.Position != int64(f.Record.(int)) || !strings.Contains(f.Error, "violates") {
					t.Errorf("failure record %+v", f)
				}
			}
			if len(sink.got) != n-len(want) {
				t.Fatalf("stored %d records, want %d", len(sink.got), n-len(want))
			}
			for v, k := range sink.got {
				if k != 1 || bad(v) {
					t.Fatalf("record %d stored %d times (bad: %v)", v, k, bad(v))
				}
			}
			st := p.Stats()
			if st.Load.DeadLettered != int64(len(want)) || st.Load.Records != int64(n-len(want)) || st.CheckAccounting() != nil {
				t.Errorf("stats: %+v, accounting: %v", st.Load, st.CheckAccounting())
			}
		})
	}
}

func TestSkipDeadLettersFailingTransforms(t *testing.T) {
	poison := func(v int) bool { return v%50 == 7 }
	mapF := func(_ context.Context, v int) (int, error) {
		switch {
		case v%100 == 7:
			panic(fmt.Sprintf("cannot handle %d", v))
		case poison(v):
			return 0, fmt.Errorf("bad record %d", v)
		}
		return v, nil
	}
	kinds := map[string]weir.Transform[int, int]{
		"map": weir.Map(mapF),
		"inplace": weir.InPlace(func(ctx context.Context, v *int) error {
			_, err := mapF(ctx, *v)
			return err
		}),
		"flatmap": weir.FlatMap(func(ctx context.Context, v int, out []int) ([]int, error) {
			out = append(out, v) // a partial output that must be dropped on failure
			if _, err := mapF(ctx, v); err != nil {
				return out, err
			}
			return out, nil
		}),
		"filter": weir.Filter(func(v int) bool {
			if poison(v) {
				panic("predicate bug")
			}
			return true
		}),
	}
	for name, tr := range kinds {
		for _, conc := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/tconc=%d", name, conc), func(t *testing.T) {
				sink := &atomicSink{}
				var dl deadLetters
				const n = 1000
				p := mustNew(t, weir.FromSlice(ints(n)), tr, weir.Sink[int](sink),
					weir.Config{BatchSize: 64, Workers: 2, TransformConcurrency: conc, OnTransformError: weir.Skip}, weir.WithDeadLetter(&dl))
				mustRun(t, p)
				var want []int
				for v := range n {
					if poison(v) {
						want = append(want, v)
					}
				}
				if got := dl.items(); !slices.Equal(got, want) {
					t.Fatalf("dead-lettered %v, want %v", got, want)
				}
				for _, f := range dl.fails {
					if f.Stage != weir.StageTransform || f.Position != int64(f.Record.(int)) || f.Error == "" {
						t.Errorf("failure %+v", f)
					}
				}
				if len(sink.got) != n-len(want) {
					t.Fatalf("stored %d, want %d", len(sink.got), n-len(want))
				}
				for v := range sink.got {
					if poison(v) {
						t.Fatalf("poison record %d was loaded", v)
					}
				}
				st := p.Stats()
				if st.Transform.DeadLettered != int64(len(want)) || st.Filtered() != 0 || st.CheckAccounting() != nil {
					t.Errorf("transform stats %+v, filtered %d, accounting %v", st.Transform, st.Filtered(), st.CheckAccounting())
				}
			})
		}
	}
}

func TestSkipWholeBatchForMapBatch(t *testing.T) {
	var dl deadLetters
	sink := &atomicSink{}
	p := mustNew(t, weir.FromSlice(ints(100)), weir.MapBatch(func(_ context.Context, in []int, out []int) ([]int, error) {
		if in[0] == 50 {
			return out, errors.New("lookup service down")
		}
		return append(out, in...), nil
	}), weir.Sink[int](sink), weir.Config{BatchSize: 10, OnTransformError: weir.Skip}, weir.WithDeadLetter(&dl))
	mustRun(t, p)
	if got := dl.items(); !slices.Equal(got, []int{50, 51, 52, 53, 54, 55, 56, 57, 58, 59}) || len(sink.got) != 90 {
		t.Fatalf("dead-lettered %v, stored %d", got, len(sink.got))
	}
}

func TestSkipNeedsADeadLetterSinkThatWorks(t *testing.T) {
	_, err := weir.New(weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](&atomicSink{}), weir.Config{OnLoadError: weir.Skip})
	if err == nil || !strings.Contains(err.Error(), "WithDeadLetter") {
		t.Fatalf("New without a dead-letter sink = %v", err)
	}
	dlErr := errors.New("dead-letter disk full")
	p := mustNew(t, weir.FromSlice(ints(10)), weir.Identity[int](), weir.Sink[int](&atomicSink{bad: func(v int) bool { return v == 3 }}),
		weir.Config{OnLoadError: weir.Skip}, weir.WithDeadLetter(weir.SinkFunc[weir.Failure](func(context.Context, []weir.Failure) error { return dlErr })))
	if err := p.Run(context.Background()); !errors.Is(err, dlErr) {
		t.Fatalf("Run with a failing dead-letter sink = %v, want its error", err)
	}
}

func TestRetryPolicyValidation(t *testing.T) {
	for _, c := range []struct {
		cfg  weir.Config
		want string
	}{
		{weir.Config{Retry: weir.RetryPolicy{MaxAttempts: -1}}, "Retry.MaxAttempts"},
		{weir.Config{Retry: weir.RetryPolicy{InitialBackoff: time.Minute, MaxBackoff: time.Second}}, "exceeds MaxBackoff"},
		{weir.Config{OnLoadError: weir.ErrorPolicy(7)}, "OnLoadError"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}

var errIOEOF = ioEOF()
