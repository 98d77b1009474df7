// Package hist is a lock-free latency histogram: log-linear buckets (eight
// per power of two, so a reported quantile is within 12.5% of the true value),
// recorded with one atomic add per sample and read without stopping writers.
package hist

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

const subBits = 3 // 2^3 = 8 linear sub-buckets per power of two

const nBuckets = (64-subBits)*(1<<subBits) + (1 << subBits)

// H records durations. The zero value is ready to use. Record may be called
// from any number of goroutines at once; Snapshot may run concurrently with
// them and sees each sample either wholly or not at all per field.
type H struct {
	buckets [nBuckets]atomic.Uint64
	sum     atomic.Uint64
	max     atomic.Uint64
}

func index(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) // position of the leading one, >= subBits+1
	mant := (v >> (e - subBits - 1)) & (1<<subBits - 1)
	return (e-subBits)*(1<<subBits) + int(mant)
}

// upper returns the largest value that lands in bucket i.
func upper(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i/(1<<subBits) + subBits
	mant := uint64(i % (1 << subBits))
	shift := e - subBits - 1
	lo := (1<<subBits + mant) << shift
	return lo + (1 << shift) - 1
}

// Record adds one sample. Negative durations count as zero. Cost: two
// atomic adds and an atomic load (a compare-and-swap on a new maximum).
func (h *H) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.buckets[index(v)].Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// Sum is the total of the samples recorded so far.
func (h *H) Sum() time.Duration { return time.Duration(h.sum.Load()) }

// Bounds are the fixed upper bounds at which [Summary.Buckets] counts
// samples: from 10µs to a minute, in 1-2.5-5 steps.
var Bounds = [...]time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
	10 * time.Second, 30 * time.Second, time.Minute,
}

// Summary is a histogram read at one moment.
type Summary struct {
	Count         int64
	Mean          time.Duration
	P50, P95, P99 time.Duration
	Max           time.Duration
	// Sum is the total of the samples.
	Sum time.Duration
	// Buckets[i] counts the samples at most Bounds[i] (cumulative, as
	// Prometheus's le buckets). A log-linear bucket is counted under the
	// first bound that holds all of it, so a sample up to 12.5% below a
	// bound may be counted under the next one.
	Buckets [len(Bounds)]int64
}

// Snapshot summarises the samples recorded so far. A quantile is reported as
// the upper bound of its bucket, capped at the largest sample seen.
func (h *H) Snapshot() Summary {
	var counts [nBuckets]uint64
	var total uint64
	for i := range counts {
		c := h.buckets[i].Load()
		counts[i] = c
		total += c
	}
	s := Summary{Count: int64(total), Max: time.Duration(h.max.Load())}
	if total == 0 {
		return s
	}
	sum := h.sum.Load()
	s.Sum, s.Mean = time.Duration(sum), time.Duration(sum/total)
	s.Buckets = fixedBuckets(&counts)
	q := func(p float64) time.Duration {
		rank := uint64(math.Ceil(p * float64(total)))
		if rank == 0 {
			rank = 1
		}
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				return min(time.Duration(upper(i)), s.Max)
			}
		}
		return s.Max
	}
	s.P50, s.P95, s.P99 = q(0.50), q(0.95), q(0.99)
	return s
}

// fixedBuckets adds the log-linear counts up under [Bounds], cumulatively.
func fixedBuckets(counts *[nBuckets]uint64) [len(Bounds)]int64 {
	var out [len(Bounds)]int64
	b := 0
	for i, c := range counts {
		for b < len(Bounds) && upper(i) > uint64(Bounds[b]) {
			b++
		}
		if b == len(Bounds) {
			break // above the last bound: only in Count (Prometheus's +Inf)
		}
		out[b] += int64(c)
	}
	for i := 1; i < len(out); i++ {
		out[i] += out[i-1]
	}
	return out
}
