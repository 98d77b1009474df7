package adapt

import (
	"container/heap"
	"fmt"
	"testing"
	"time"
)

// loop simulates a batched writer on a fake clock, in the shape of weir's
// load stage: a reader keeps up to ahead batches read (waiting for a slot
// or in flight), each as large as the batch size when it was read; a load
// starts as soon as there is a slot, and takes latency(its size, the loads
// in flight, itself included), a load counting as in flight until its end.
// With a nil sizer and limiter the batch size and the slots are the fixed
// size and conc; otherwise the sizer and limiter set them, fed as weir's
// adaptive.go feeds them: the limiter gets each round trip scaled to the
// current batch size by the sizer's model, then the sizer gets the size and
// round trip.
//
// Loads that end at the same instant are handled in the order they
// started, one at a time, so the result is a pure function of the
// arguments. In the engine, goroutines deliver them in whatever order the
// scheduler picks, which is why the engine's own fake-clock run
// (bench.TestAdaptiveOnIOSink) cannot hold the comparison below to a bar.
type loop struct {
	records int
	ahead   int
	latency func(records, inflight int) time.Duration
	sizer   *BatchSizer
	limiter *Limiter
	size    int // batch size when there is no sizer
	conc    int // loads in flight when there is no limiter
}

// run loads l.records and returns how long it took; now is the clock the
// limiter was built with.
func (l loop) run(now *time.Time) time.Duration {
	start := *now
	size := l.size
	if l.sizer != nil {
		size = l.sizer.Size()
	}
	var (
		inflight events
		waiting  []int // sizes of the batches read and not yet loading
		unread   = l.records
		started  int
	)
	read := func() {
		for unread > 0 && len(waiting)+inflight.Len() < l.ahead {
			b := min(size, unread)
			waiting = append(waiting, b)
			unread -= b
		}
	}
	dispatch := func() {
		for len(waiting) > 0 {
			var tok Token
			if l.limiter != nil {
				var ok bool
				if tok, ok, _ = l.limiter.tryAcquire(); !ok {
					return
				}
			} else if inflight.Len() >= l.conc {
				return
			}
			b := waiting[0]
			waiting = waiting[1:]
			n := 1
			for _, e := range inflight {
				if e.end.After(*now) {
					n++
				}
			}
			d := l.latency(b, n)
			heap.Push(&inflight, event{end: now.Add(d), tok: tok, records: b, took: d, seq: started})
			started++
			read()
		}
	}
	read()
	dispatch()
	for inflight.Len() > 0 {
		ev := heap.Pop(&inflight).(event)
		*now = ev.end
		if l.limiter != nil {
			scale := 1.0
			if fixed, per, ok := l.sizer.Model(); ok {
				if cost := float64(fixed) + float64(per)*float64(ev.records); cost > 0 {
					scale = (float64(fixed) + float64(per)*float64(size)) / cost
				}
			}
			l.limiter.ReleaseScaled(ev.tok, false, scale)
			size = l.sizer.Observe(ev.records, ev.took)
		}
		dispatch()
	}
	return now.Sub(start)
}

// TestAdaptiveMatchesBestStaticOnIOModel runs bench.IOSink's model (1ms
// round trip, 2µs per record, 4 loads at full speed) through 35 static
// cells (batch 8 to 4096 × 1 to 8 loads in flight) and through both
// controllers with the engine's defaults, on a simulated clock. The
// adaptive run starts from a batch of 128 and one load in flight and must
// reach 90% of the best static cell. The sweep's best, 1,783,447 records/s
// at 4096 × 8, is what the engine measured for the same cells on
// synctest's fake clock, to the record. ahead is what the engine reads
// ahead with its 16 loaders and Workers 1, 2 and 8: 16 + 3×Workers + 1
// (the loaders, two queues of Workers batches, the workers and the reader
// each hold one).
func TestAdaptiveMatchesBestStaticOnIOModel(t *testing.T) {
	lat := ioLatency(time.Millisecond, 2*time.Microsecond, 4)
	best, bestCell := 0.0, ""
	for _, b := range []int{8, 64, 128, 256, 500, 1000, 4096} {
		for _, w := range []int{1, 2, 3, 4, 8} {
			n := min(64*b*w, 2_000_000)
			now := time.Unix(0, 0)
			d := loop{records: n, ahead: 2*w + 1, latency: lat, size: b, conc: w}.run(&now)
			if r := float64(n) / d.Seconds(); r > best {
				best, bestCell = r, fmt.Sprintf("batch %d × %d", b, w)
			}
		}
	}
	for _, workers := range []int{1, 2, 8} {
		t.Run(fmt.Sprintf("workers %d", workers), func(t *testing.T) {
			now := time.Unix(0, 0)
			sizer, err := NewBatchSizer(BatchConfig{})
			if err != nil {
				t.Fatal(err)
			}
			limiter, err := NewLimiter(LimitConfig{Max: DefaultMaxLimit, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			const n = 4_000_000
			d := loop{records: n, ahead: DefaultMaxLimit + 3*workers + 1, latency: lat, sizer: sizer, limiter: limiter}.run(&now)
			r := float64(n) / d.Seconds()
			t.Logf("best static: %.0f records/s (%s); adaptive: %.0f records/s (%.1f%%), ended at batch %d, limit %d",
				best, bestCell, r, 100*r/best, sizer.Size(), limiter.Limit())
			if r < 0.9*best {
				t.Errorf("adaptive reached %.1f%% of the best static cell (%s), want >= 90%%", 100*r/best, bestCell)
			}
		})
	}
}
