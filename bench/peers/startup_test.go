package main

import (
	"context"
	"testing"
	"time"
)

// startupRecords is the seed's benchmark size, where an engine's per-run
// set-up shows.
const startupRecords = 5000

// BenchmarkStartup runs each engine on 5,000 slim records, one whole run
// per op (the run's set-up included), and checks every run for every record
// arriving once. Compare engines interleaved, from bench/peers:
//
//	../../scripts/interleave.sh 21 . 'Startup/engine=weir$' 'Startup/engine=conc$' | ../../scripts/medians.sh
func BenchmarkStartup(b *testing.B) {
	for _, name := range engineNames {
		e, err := lookupEngine(name)
		if err != nil {
			continue // benthos without its build tag
		}
		b.Run("engine="+name, func(b *testing.B) {
			ctx := context.Background()
			if err := runChecked(ctx, e, warmupRecords); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0, cpuOK := processCPU()
			var t time.Duration
			for b.Loop() {
				sink := &sumSink{}
				start := time.Now()
				err := e.run(ctx, startupRecords, sink)
				t += time.Since(start)
				if err == nil {
					err = check(sink, startupRecords)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			cpu1, _ := processCPU()
			records := float64(b.N) * startupRecords
			b.ReportMetric(records/t.Seconds(), "records/s")
			if cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/records, "cpu-ns/record")
			}
		})
	}
}
