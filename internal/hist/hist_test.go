package hist

import (
	"sync"
	"testing"
	"time"
)

func TestIndexUpperAgree(t *testing.T) {
	for _, v := range []uint64{0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 123456789, 1 << 40, 1<<63 + 12345} {
		i := index(v)
		if up := upper(i); v > up {
			t.Errorf("value %d in bucket %d whose upper bound is %d", v, i, up)
		}
		if i > 0 {
			if up := upper(i - 1); v <= up {
				t.Errorf("value %d in bucket %d but fits bucket %d (upper %d)", v, i, i-1, up)
			}
		}
	}
}

func TestQuantilesWithinBucketError(t *testing.T) {
	var h H
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Snapshot()
	if s.Count != 1000 {
		t.Fatalf("count = %d, want 1000", s.Count)
	}
	check := func(name string, got, want time.Duration) {
		t.Helper()
		if got < want || float64(got) > float64(want)*1.13 {
			t.Errorf("%s = %v, want within [%v, %v]", name, got, want, time.Duration(float64(want)*1.13))
		}
	}
	check("p50", s.P50, 500*time.Microsecond)
	check("p95", s.P95, 950*time.Microsecond)
	check("p99", s.P99, 990*time.Microsecond)
	if s.Max != 1000*time.Microsecond {
		t.Errorf("max = %v, want 1ms", s.Max)
	}
	if s.Mean != 500500*time.Nanosecond {
		t.Errorf("mean = %v, want 500.5µs", s.Mean)
	}
}

func TestEmptyAndConcurrent(t *testing.T) {
	var h H
	if s := h.Snapshot(); s != (Summary{}) {
		t.Fatalf("empty snapshot = %+v", s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 1000; i++ {
				h.Record(time.Duration(i))
			}
		})
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 4000 || s.Max != 999 {
		t.Fatalf("after concurrent records: %+v", s)
	}
}

// TestBucketsBracketTrueCounts checks the fixed buckets against an exact
// count: Buckets[i] never counts a sample above Bounds[i], and misses only
// samples within a log-linear bucket's width (12.5%) below it.
func TestBucketsBracketTrueCounts(t *testing.T) {
	var h H
	var samples []time.Duration
	for d := time.Microsecond; d < 2*time.Minute; d = d*21/20 + 1 {
		samples = append(samples, d)
		h.Record(d)
	}
	s := h.Snapshot()
	for i, b := range Bounds {
		var atMost, wellBelow int64
		for _, d := range samples {
			if d <= b {
				atMost++
			}
			if float64(d) <= float64(b)/1.125 {
				wellBelow++
			}
		}
		if got := s.Buckets[i]; got > atMost || got < wellBelow {
			t.Errorf("bucket le=%v counts %d, want between %d and %d", b, got, wellBelow, atMost)
		}
	}
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	if s.Sum != sum {
		t.Errorf("sum = %v, want %v", s.Sum, sum)
	}
}
