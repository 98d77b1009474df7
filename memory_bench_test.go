package weir_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/weir-etl/weir"
)

// BenchmarkMemoryBudget runs BenchmarkStatsOverhead's 1M-record pipeline
// with record sizes known (WithSize) and a memory budget of none, 1 GiB
// (too large to change the batches: the cost of measuring) and 1 MiB
// (batches cut to a budget's share). One op is one whole run; compare
// records/s run interleaved:
//
//	scripts/interleave.sh 11 . 'MemoryBudget/batch=128/workers=4/budget=none' 'MemoryBudget/batch=128/workers=4/budget=1GiB' | scripts/medians.sh
func BenchmarkMemoryBudget(b *testing.B) {
	const n = 1_000_000
	size := weir.WithSize(func(rec) int { return int(unsafe.Sizeof(rec{})) })
	for _, cfg := range []struct{ batch, workers int }{{128, 4}, {500, 8}} {
		for _, budget := range []struct {
			name  string
			bytes int64
		}{{"none", 0}, {"1GiB", 1 << 30}, {"1MiB", 1 << 20}} {
			b.Run(fmt.Sprintf("batch=%d/workers=%d/budget=%s", cfg.batch, cfg.workers, budget.name), func(b *testing.B) {
				var sum atomic.Uint64
				sink := weir.SinkFunc[out](func(_ context.Context, batch []out) error {
					var s uint64
					for i := range batch {
						s += uint64(batch[i].Total)
					}
					sum.Add(s)
					return nil
				})
				for b.Loop() {
					p, err := weir.New(genSource(n), weir.Map(transformRec), weir.Sink[out](sink),
						weir.Config{BatchSize: cfg.batch, Workers: cfg.workers, Memory: budget.bytes}, size)
					if err != nil {
						b.Fatal(err)
					}
					if err := p.Run(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
