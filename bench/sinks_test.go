package bench_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

// counted is what every bench sink reports.
type counted interface {
	Records() int64
	Batches() int64
}

// runSlim moves the slim users 1..n through TransformSlim into sink.
func runSlim(t *testing.T, n int, sink weir.Sink[bench.SlimTransformed], cfg weir.Config) {
	t.Helper()
	p, err := weir.New(bench.NewSlimSource(n, 11), weir.Map(bench.TransformSlim), sink, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// expected computes, sequentially, what a sink should have seen for the
// transformed slim users 1..n: their fold sum and their hash sum.
func expected(t *testing.T, n, rounds int) (fold, hashes uint64) {
	t.Helper()
	for _, u := range readAll(t, bench.NewSlimSource(n, 11), 256) {
		out, err := bench.TransformSlim(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		fold = out.Fold(fold)
		hashes += bench.HashRounds(uint64(out.ID), rounds)
	}
	return fold, hashes
}

func TestSinksCountExactly(t *testing.T) {
	const n = 3001 // not a multiple of any batch size: the last batch is partial
	const rounds = 5
	wantFold, wantHashes := expected(t, n, rounds)
	for _, cfg := range []weir.Config{
		{BatchSize: 100, Workers: 1},
		{BatchSize: 64, Workers: 3},
		{BatchSize: 128, Workers: 4, LoadConcurrency: 2},
	} {
		sum := &bench.SumSink[bench.SlimTransformed]{}
		mem := &bench.MemorySink[bench.SlimTransformed]{}
		cpu, err := bench.NewCPUSink[bench.SlimTransformed](rounds)
		if err != nil {
			t.Fatal(err)
		}
		ios, err := bench.NewIOSink[bench.SlimTransformed](bench.IOConfig{RoundTrip: 50 * time.Microsecond, PerRecord: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		sinks := []struct {
			name string
			sink weir.Sink[bench.SlimTransformed]
			c    counted
		}{{"sum", sum, sum}, {"memory", mem, mem}, {"cpu", cpu, cpu}, {"io", ios, ios}}
		for _, s := range sinks {
			runSlim(t, n, s.sink, cfg)
			wantBatches := int64((n + cfg.BatchSize - 1) / cfg.BatchSize)
			if got := s.c.Records(); got != n {
				t.Errorf("%s sink, %+v: %d records, want %d", s.name, cfg, got, n)
			}
			if got := s.c.Batches(); got != wantBatches {
				t.Errorf("%s sink, %+v: %d batches, want %d", s.name, cfg, got, wantBatches)
			}
		}
		if got, want := sum.Sum(), int64(n*(n+1)/2); got != want {
			t.Errorf("SumSink.Sum = %d, want %d", got, want)
		}
		if got := mem.Sum(); got != wantFold {
			t.Errorf("MemorySink.Sum = %d, want %d (every byte of every record, once)", got, wantFold)
		}
		if got := cpu.Sum(); got != wantHashes {
			t.Errorf("CPUSink.Sum = %d, want %d", got, wantHashes)
		}
		if got, limit := ios.MaxInFlight(), max(cfg.Workers, cfg.LoadConcurrency); got < 1 || got > limit {
			t.Errorf("IOSink.MaxInFlight = %d, want 1..%d", got, limit)
		}
		if ios.InFlight() != 0 {
			t.Errorf("IOSink.InFlight = %d after the run, want 0", ios.InFlight())
		}
	}
}

func TestSinksOnFatRecords(t *testing.T) {
	const n = 40
	var want uint64
	for _, u := range readAll(t, bench.NewFatSource(n, 4), 8) {
		out, err := bench.TransformFat(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		want = out.Fold(want)
	}
	mem := &bench.MemorySink[bench.FatTransformed]{}
	p, err := weir.New(bench.NewFatSource(n, 4), weir.Map(bench.TransformFat), mem, weir.Config{BatchSize: 8, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if mem.Records() != n || mem.Sum() != want {
		t.Errorf("MemorySink saw %d records summing to %d, want %d summing to %d", mem.Records(), mem.Sum(), n, want)
	}

	// The untransformed fat user is a Record too, and folding it reads its
	// blobs: the sum is at least 50,000 bytes of 'a' (97) per user.
	raw := &bench.MemorySink[bench.FatUser]{}
	p2, err := weir.New(bench.NewFatSource(n, 4), weir.Identity[bench.FatUser](), raw, weir.Config{BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if raw.Records() != n || raw.Sum() < n*50_000*97 {
		t.Errorf("MemorySink[FatUser] saw %d records summing to %d", raw.Records(), raw.Sum())
	}
}

func TestIOSinkLatency(t *testing.T) {
	s, err := bench.NewIOSink[int](bench.IOConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Config(), (bench.IOConfig{RoundTrip: time.Millisecond, PerRecord: 2 * time.Microsecond, Limit: 4}); got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	tests := []struct {
		records, inflight int
		want              time.Duration
	}{
		{0, 1, time.Millisecond},
		{100, 1, 1200 * time.Microsecond},
		{100, 4, 1200 * time.Microsecond}, // at the limit: no slowdown
		{100, 8, 2400 * time.Microsecond}, // twice the limit: twice as slow
		{500, 6, 3 * time.Millisecond},    // 2ms × 6/4
	}
	for _, tt := range tests {
		if got := s.Latency(tt.records, tt.inflight); got != tt.want {
			t.Errorf("Latency(%d records, %d in flight) = %v, want %v", tt.records, tt.inflight, got, tt.want)
		}
	}
}

// TestIOSinkWaits checks, on synctest's fake clock, that a Write takes
// exactly its latency and that concurrent Writes beyond the limit slow down.
func TestIOSinkWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := bench.NewIOSink[int](bench.IOConfig{RoundTrip: time.Millisecond, PerRecord: time.Microsecond, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.Write(context.Background(), make([]int, 10)); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 1010*time.Microsecond {
			t.Errorf("one Write of 10 records took %v, want 1.01ms", got)
		}

		// Two Writes at once with a limit of 1: the second to start waits
		// twice as long.
		start = time.Now()
		done := make(chan time.Duration, 2)
		for range 2 {
			go func() {
				if err := s.Write(context.Background(), make([]int, 10)); err != nil {
					t.Error(err)
				}
				done <- time.Since(start)
			}()
		}
		first, second := <-done, <-done
		if first != 1010*time.Microsecond || second != 2020*time.Microsecond {
			t.Errorf("concurrent Writes took %v and %v, want 1.01ms and 2.02ms", first, second)
		}
		if s.Records() != 30 || s.MaxInFlight() != 2 {
			t.Errorf("Records = %d, MaxInFlight = %d; want 30, 2", s.Records(), s.MaxInFlight())
		}
	})
}

// TestIOSinkInFlightByClock starts a Write at the instant another one ends:
// it must not count that one as in flight, whichever of the two goroutines
// the scheduler runs first at that instant (each round draws that order
// anew). Counting by goroutines made adaptive runs on the fake clock
// depend on the schedule.
func TestIOSinkInFlightByClock(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			s, err := bench.NewIOSink[int](bench.IOConfig{RoundTrip: time.Millisecond, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			first := make(chan error, 1)
			go func() { first <- s.Write(context.Background(), nil) }()
			time.Sleep(time.Millisecond) // fake time: wakes as the first Write ends
			start := time.Now()
			if err := s.Write(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != time.Millisecond {
				t.Fatalf("a Write starting as another ended took %v, want 1ms (the ended one counted as in flight)", got)
			}
			if got := s.MaxInFlight(); got != 1 {
				t.Errorf("MaxInFlight = %d, want 1", got)
			}
		})
	}
}

// TestIOSinkCancel cancels a run while every Write is waiting on a one-hour
// round trip: Run must return promptly with context.Canceled, and nothing
// may be counted as written.
func TestIOSinkCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink, err := bench.NewIOSink[bench.SlimTransformed](bench.IOConfig{RoundTrip: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		p, err := weir.New(bench.NewSlimSource(5000, 1), weir.Map(bench.TransformSlim), sink,
			weir.Config{BatchSize: 100, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- p.Run(ctx) }()

		synctest.Wait() // every goroutine of the run is now blocked
		if got := sink.InFlight(); got != 3 {
			t.Fatalf("%d Writes waiting before cancel, want 3 (one per worker)", got)
		}
		cancel()
		err = <-errc
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want an error wrapping context.Canceled", err)
		}
		if elapsed := time.Since(start); elapsed != 0 {
			t.Errorf("Run returned after %v of fake time, want 0: the Writes did not honour ctx", elapsed)
		}
		if sink.Records() != 0 || sink.InFlight() != 0 {
			t.Errorf("after cancel: %d records counted, %d Writes in flight; want 0, 0", sink.Records(), sink.InFlight())
		}
	})
}

func TestSinkConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"negative CPU rounds", second(bench.NewCPUSink[bench.SlimTransformed](-1)), "rounds"},
		{"negative round trip", second(bench.NewIOSink[int](bench.IOConfig{RoundTrip: -1})), "RoundTrip"},
		{"negative per record", second(bench.NewIOSink[int](bench.IOConfig{PerRecord: -1})), "PerRecord"},
		{"negative limit", second(bench.NewIOSink[int](bench.IOConfig{Limit: -1})), "Limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.field) {
				t.Errorf("error = %v, want one naming %s", tt.err, tt.field)
			}
		})
	}
	cpu, err := bench.NewCPUSink[bench.SlimTransformed](0)
	if err != nil || cpu.Rounds() != bench.DefaultCPURounds {
		t.Errorf("NewCPUSink(0) = %v rounds, %v; want %d, nil", cpu.Rounds(), err, bench.DefaultCPURounds)
	}
}

func second[A any](_ A, err error) error { return err }
