package main

import (
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

func TestDiagnose(t *testing.T) {
	const elapsed = 10 * time.Second
	// stage is a stage busy for share of the run on n goroutines.
	stage := func(share float64, n int) weir.StageStats {
		return weir.StageStats{Goroutines: n, Batches: 100, Busy: time.Duration(share * float64(elapsed) * float64(n)),
			Latency: weir.Latency{P50: 80 * time.Millisecond, P95: 120 * time.Millisecond}}
	}
	stats := func(ex, tr, ld weir.StageStats) weir.Stats {
		ex.Records = 50_000 // batches of 500
		return weir.Stats{Elapsed: elapsed, Extract: ex, Transform: tr, Load: ld}
	}
	withMemory := func(st weir.Stats, m weir.MemoryStats) weir.Stats { st.Memory = m; return st }
	adaptive := func(st weir.Stats, limit int) weir.Stats { st.LoadLimit = limit; return st }
	retried := func(st weir.Stats, n int64) weir.Stats { st.Load.Retries = n; return st }
	cases := []struct {
		name    string
		st      weir.Stats
		cpus    int
		want    []string
		wantNot []string
	}{
		{"nothing ran", weir.Stats{}, 2, []string{"none measured"}, nil},
		{"one loader busy", stats(stage(0.2, 1), stage(0.1, 2), stage(0.94, 1)), 2,
			[]string{"load busy 94% of 1 loader", "80ms per batch (p95 120ms)", "batches of ~500 records", "gains from --load-concurrency (now 1)", "SQLite and files take one", "--batch (now ~500)"}, []string{"--memory"}},
		{"several loaders busy", stats(stage(0.2, 1), stage(0.1, 2), stage(0.9, 4)), 2,
			[]string{"load busy 90% of 4 loaders", "raise --load-concurrency (now 4)", "--batch (now ~500)"}, []string{"SQLite"}},
		{"the source", stats(stage(0.97, 1), stage(0.3, 2), stage(0.4, 2)), 2,
			[]string{"extract busy 97% of 1 reader", "the source is the limit", "will not help"}, nil},
		{"the transform with idle cores", stats(stage(0.3, 1), stage(0.95, 2), stage(0.2, 2)), 8,
			[]string{"transform busy 95% of 2 workers", "raise --workers (now 2; 8 CPUs)"}, nil},
		{"the transform on every core", stats(stage(0.3, 1), stage(0.95, 2), stage(0.2, 2)), 2,
			[]string{"already covers the 2 CPUs"}, []string{"raise --workers"}},
		{"nothing saturated", stats(stage(0.3, 1), stage(0.2, 2), stage(0.4, 2)), 2,
			[]string{"load busy 40%", "no stage was busy more than 40%"}, []string{"raise"}},
		{"the adaptive limiter backed off", adaptive(stats(stage(0.2, 1), stage(0.1, 2), stage(0.9, 16)), 3), 2,
			[]string{"settled at 3 of 16 loads in flight", "more concurrency will not help"}, []string{"raise --load-concurrency"}},
		{"the adaptive limiter at its maximum", adaptive(stats(stage(0.2, 1), stage(0.1, 2), stage(0.9, 16)), 16), 2,
			[]string{"reached its maximum of 16", "raise --load-concurrency"}, nil},
		{"batches held by the budget", withMemory(stats(stage(0.2, 1), stage(0.1, 2), stage(0.9, 1)),
			weir.MemoryStats{Budget: 64 << 20, Batches: 2, BatchBytes: 32 << 20, Largest: 64 << 10}), 2,
			[]string{"a larger --memory (batches are held to 32.0 MiB each, ~500 records)"}, []string{"--batch"}},
		{"a budget that did not limit", withMemory(stats(stage(0.2, 1), stage(0.1, 2), stage(0.9, 1)),
			weir.MemoryStats{Budget: 1 << 30, Batches: 2, BatchBytes: 512 << 20, Largest: 1 << 10}), 2,
			[]string{"--batch (now ~500)"}, []string{"--memory"}},
		{"retries", retried(stats(stage(0.2, 1), stage(0.1, 2), stage(0.9, 2)), 7), 2,
			[]string{"7 calls were retried: the target failed transiently"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := diagnose(c.st, c.cpus)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnosis lacks %q:\n%s", w, got)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("diagnosis says %q, which does not apply:\n%s", w, got)
				}
			}
		})
	}
}
