package bench

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weir-etl/weir"
)

// TestAdaptiveMatchesBestStaticOnIOSink runs the I/O-bound sink's sweep and
// an adaptive run on synctest's fake clock, where only the sink's simulated
// latency takes time: throughput is then a pure function of the
// configuration, so the comparison is exact and repeatable. The adaptive
// run starts from the default config and must reach 90% of the best static
// cell.
func TestAdaptiveMatchesBestStaticOnIOSink(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps 35 configurations")
	}
	synctest.Test(t, func(t *testing.T) {
		rate := func(n int, cfg weir.Config) (float64, weir.Stats) {
			sink, err := NewIOSink[SlimTransformed](IOConfig{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := weir.New(NewSlimSource(n, 1), weir.Map(TransformSlim), weir.Sink[SlimTransformed](sink), cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := sink.Records(); got != int64(n) {
				t.Fatalf("%+v: sink got %d records, want %d", cfg, got, n)
			}
			return float64(n) / time.Since(start).Seconds(), p.Stats()
		}
		best, bestCfg := 0.0, ""
		// Batch 1 is left out: at 1ms per round trip it is three orders of
		// magnitude below the rest and would only slow the test down.
		for _, b := range []int{8, 64, 128, 256, 500, 1000, 4096} {
			for _, w := range []int{1, 2, 3, 4, 8} {
				n := min(64*b*w, 2_000_000) // enough batches for a steady state
				r, _ := rate(n, weir.Config{BatchSize: b, Workers: w})
				if r > best {
					best, bestCfg = r, fmt.Sprintf("batch %d, %d workers", b, w)
				}
			}
		}
		r, st := rate(4_000_000, weir.Config{Adaptive: true})
		t.Logf("best static: %.0f records/s (%s); adaptive: %.0f records/s (%.0f%%), settled at batch %d, load limit %d",
			best, bestCfg, r, 100*r/best, st.BatchSize, st.LoadLimit)
		if r < 0.9*best {
			t.Errorf("adaptive run reached %.0f%% of the best static cell (%s), want >= 90%%", 100*r/best, bestCfg)
		}
	})
}
