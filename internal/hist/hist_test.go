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
