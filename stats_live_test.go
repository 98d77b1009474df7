package weir_test

import (
	"context"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

// TestLoadsInFlight holds three loads inside Sink.Write and checks that a
// snapshot taken meanwhile counts them, and that the count is back to 0
// when the run ends.
func TestLoadsInFlight(t *testing.T) {
	const loaders = 3
	entered, release := make(chan struct{}), make(chan struct{})
	sink := weir.SinkFunc[int](func(ctx context.Context, b []int) error {
		select {
		case entered <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	p := mustNew(t, weir.FromSlice(ints(100)), weir.Identity[int](), sink,
		weir.Config{BatchSize: 10, Workers: 2, LoadConcurrency: loaders})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	for range loaders {
		<-entered
	}
	if got := p.Stats().LoadsInFlight; got != loaders {
		t.Errorf("with %d writes blocked, LoadsInFlight = %d", loaders, got)
	}
	close(release)
	for {
		select {
		case <-entered:
			continue
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		}
		break
	}
	if got := p.Stats().LoadsInFlight; got != 0 {
		t.Errorf("after the run, LoadsInFlight = %d, want 0", got)
	}
}

// TestLatencyBuckets checks that a finished run's histogram buckets are
// cumulative, end at Count (every batch took less than a minute), and add
// up to the Sum they came with.
func TestLatencyBuckets(t *testing.T) {
	skipWithoutTiming(t)
	const batch = 512 // every batch timed
	sink := weir.SinkFunc[int](func(context.Context, []int) error {
		time.Sleep(time.Millisecond) // a load of known least duration, not synchronisation
		return nil
	})
	p := mustNew(t, weir.FromSlice(ints(20*batch)), weir.Identity[int](), sink,
		weir.Config{BatchSize: batch, Workers: 2})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	lat := st.Load.Latency
	bounds := weir.LatencyBounds()
	if len(bounds) != len(lat.Buckets) {
		t.Fatalf("%d bounds for %d buckets", len(bounds), len(lat.Buckets))
	}
	if lat.Count != st.Load.Batches || lat.Count != 20 {
		t.Fatalf("load latency count = %d, batches = %d, want 20", lat.Count, st.Load.Batches)
	}
	if last := lat.Buckets[len(lat.Buckets)-1]; last != lat.Count {
		t.Errorf("le=%v bucket = %d, want every batch (%d)", bounds[len(bounds)-1], last, lat.Count)
	}
	for i := 1; i < len(lat.Buckets); i++ {
		if lat.Buckets[i] < lat.Buckets[i-1] {
			t.Errorf("buckets not cumulative: le=%v has %d, le=%v has %d", bounds[i-1], lat.Buckets[i-1], bounds[i], lat.Buckets[i])
		}
	}
	// Each load slept 1ms: none fits under 500µs, and the sum is at least 20ms.
	for i, b := range bounds {
		if b <= 500*time.Microsecond && lat.Buckets[i] != 0 {
			t.Errorf("le=%v counts %d loads that slept 1ms", b, lat.Buckets[i])
		}
	}
	if lat.Sum < 20*time.Millisecond {
		t.Errorf("sum = %v, want at least 20 loads × 1ms", lat.Sum)
	}
}
