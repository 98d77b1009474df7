package adapt

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// ioLatency is bench.IOSink's model: a fixed round trip plus a cost per
// record, stretched in proportion once more loads are in flight than the
// database can serve at once.
func ioLatency(rtt, per time.Duration, limit int) func(records, inflight int) time.Duration {
	return func(records, inflight int) time.Duration {
		d := rtt + time.Duration(records)*per
		if inflight > limit {
			d = time.Duration(float64(d) * float64(inflight) / float64(limit))
		}
		return d
	}
}

func TestBatchSizerConvergesAndHolds(t *testing.T) {
	cases := []struct {
		name       string
		fixed, per time.Duration
		cfg        BatchConfig
		wantLo     int
		wantHi     int
	}{
		// 1ms round trip, 2µs per record: fixed share ≤ 10% needs
		// b ≥ (1ms+20µs)·0.9/(0.1·2µs) ≈ 4590 → capped at Max.
		{"io-bound grows to the maximum", time.Millisecond, 2 * time.Microsecond, BatchConfig{}, 4096, 4096},
		// No fixed cost but the engine's 20µs; 325ns per record (CPU
		// sink): b ≈ 20µs·0.9/(0.1·325ns) ≈ 554.
		// Holding one size starves the fit of spread, so now and then it
		// probes one rung up and comes back: one step, as allowed.
		{"cpu-bound settles near the engine's break-even", 0, 325 * time.Nanosecond, BatchConfig{}, 440, 770},
		// 100ms fixed, 5ms per record: the overhead rule wants 180, the
		// 500ms latency cap allows (500-100)/5 = 80 (a probe that re-measures
		// the slope may go one step above it for a batch).
		{"latency cap wins over throughput", 100 * time.Millisecond, 5 * time.Millisecond, BatchConfig{MaxLatency: 500 * time.Millisecond}, 64, 102},
		// Expensive records want tiny batches: the size goes to Min (and
		// probes one rung above it now and then).
		{"never below Min", 0, time.Millisecond, BatchConfig{Min: 32}, 32, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewBatchSizer(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			size := s.Size()
			var tail []int
			for i := range 400 {
				size = s.Observe(size, c.fixed+time.Duration(size)*c.per)
				if i >= 300 {
					tail = append(tail, size)
				}
			}
			lo, hi := tail[0], tail[0]
			for _, v := range tail {
				lo, hi = min(lo, v), max(hi, v)
			}
			if lo < c.wantLo || hi > c.wantHi {
				t.Errorf("steady state sizes in [%d, %d], want within [%d, %d]", lo, hi, c.wantLo, c.wantHi)
			}
			if float64(hi) > math.Ceil(float64(lo)*step) {
				t.Errorf("steady state oscillates from %d to %d: wider than one step", lo, hi)
			}
			// Pinned at an end of the range, the sizes stop varying and the
			// fit has nothing to go on; in between, it must be accurate.
			if lo > s.cfg.Min && hi < s.cfg.Max {
				if f, p, ok := s.Model(); !ok || absDiff(p, c.per) > c.per/10+time.Nanosecond || absDiff(f, c.fixed) > c.fixed/10+time.Microsecond {
					t.Errorf("model = fixed %v per %v (ok %v), want %v and %v", f, p, ok, c.fixed, c.per)
				}
			}
		})
	}
}

func absDiff(a, b time.Duration) time.Duration {
	if a > b {
		return a - b
	}
	return b - a
}

func TestBatchConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  BatchConfig
		want string
	}{
		{BatchConfig{Min: -1}, "must be >= 0"},
		{BatchConfig{Min: 100, Max: 10}, "Min (100) exceeds Max (10)"},
		{BatchConfig{Start: 5000}, "Start (5000) is outside"},
		{BatchConfig{Overhead: 1}, "Overhead"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: Validate() = %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := NewLimiter(LimitConfig{Start: 20, Max: 10}); err == nil {
		t.Errorf("Start above Max accepted")
	}
}

// event is a load finishing at a simulated time.
type event struct {
	end     time.Time
	tok     Token
	failed  bool
	records int           // the batch's size, when the simulation has batches
	took    time.Duration // its round trip
	seq     int           // order of start: ties on end go to the earlier
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	return e[i].end.Before(e[j].end) || e[i].end.Equal(e[j].end) && e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// simulate drives a limiter with as many loads as it allows, on a fake
// clock, and returns the limit after each completed load.
func simulate(t *testing.T, cfg LimitConfig, n int, latency func(inflight int) time.Duration, fail func(i int) bool) []int {
	t.Helper()
	now := time.Unix(0, 0)
	cfg.Now = func() time.Time { return now }
	l, err := NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var q events
	var limits []int
	for i := range n {
		for {
			tok, ok, _ := l.tryAcquire()
			if !ok {
				break
			}
			d := latency(l.inflight)
			heap.Push(&q, event{end: now.Add(d), tok: tok, failed: fail != nil && fail(i)})
		}
		ev := heap.Pop(&q).(event)
		now = ev.end
		l.Release(ev.tok, ev.failed)
		limits = append(limits, l.Limit())
	}
	return limits
}

func TestLimiterFindsTheDatabasesConcurrency(t *testing.T) {
	lat := ioLatency(time.Millisecond, 2*time.Microsecond, 4)
	limits := simulate(t, LimitConfig{Max: 16}, 3000, func(inflight int) time.Duration { return lat(1000, inflight) }, nil)
	tail := limits[2000:]
	lo, hi := tail[0], tail[0]
	for _, v := range tail {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < 3 || hi > 5 || hi-lo > 1 {
		t.Errorf("steady-state limit in [%d, %d], want within one step of the database's 4", lo, hi)
	}
}

// TestLimiterToleratesNoise: timer noise of ±15% on every write (what a
// loaded machine shows) must neither collapse the limit nor let it run away.
func TestLimiterToleratesNoise(t *testing.T) {
	lat := ioLatency(time.Millisecond, 2*time.Microsecond, 4)
	noise := rand.New(rand.NewPCG(1, 2))
	limits := simulate(t, LimitConfig{Max: 16}, 6000, func(inflight int) time.Duration {
		d := float64(lat(4096, inflight))
		return time.Duration(d * (0.85 + 0.3*noise.Float64()))
	}, nil)
	var sum, below3 int
	tail := limits[2000:]
	for _, v := range tail {
		sum += v
		if v < 3 {
			below3++
		}
	}
	mean := float64(sum) / float64(len(tail))
	if mean < 3.5 || mean > 6.5 || below3 > len(tail)/10 {
		t.Errorf("with noisy latency the limit averaged %.1f and sat below 3 for %d of %d loads; want about 4-6", mean, below3, len(tail))
	}
}

func TestLimiterGrowsWhileLatencyHolds(t *testing.T) {
	limits := simulate(t, LimitConfig{Max: 8}, 2000, func(int) time.Duration { return time.Millisecond }, nil)
	if got := limits[len(limits)-1]; got != 8 {
		t.Errorf("with flat latency the limit reached %d, want Max 8", got)
	}
}

func TestLimiterBacksOffOnErrors(t *testing.T) {
	limits := simulate(t, LimitConfig{Max: 16, Start: 16}, 400, func(int) time.Duration { return time.Millisecond },
		func(i int) bool { return true })
	if got := limits[len(limits)-1]; got != 1 {
		t.Errorf("with every load failing the limit is %d, want 1", got)
	}
}

func TestAcquireHonoursContext(t *testing.T) {
	l, err := NewLimiter(LimitConfig{Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire on a full limiter with a cancelled ctx = %v", err)
	}
	l.Release(tok, false)
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire after Release = %v", err)
	}
}
