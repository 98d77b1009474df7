package weir_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/weir-etl/weir"
)

// rec and out are a slim record and its transform, enough like the seed's
// optimized user to make the engine's own per-record cost visible.
type rec struct {
	ID       int64
	Counters [4]uint16
	Hash     uint64
}

type out struct {
	ID      int64
	Display string
	Total   uint32
	Score   float32
	Hash    uint64
}

func genSource(n int) weir.Source[rec] {
	next := int64(0)
	return weir.SourceFunc[rec](func(_ context.Context, buf []rec) (int, error) {
		if next >= int64(n) {
			return 0, io.EOF
		}
		k := min(len(buf), n-int(next))
		for i := range k {
			next++
			buf[i] = rec{ID: next, Counters: [4]uint16{uint16(next), uint16(next >> 3), 7, 9}, Hash: uint64(next) * 0x9E3779B97F4A7C15}
		}
		return k, nil
	})
}

func transformRec(_ context.Context, r rec) (out, error) {
	var b [24]byte
	name := append(b[:0], "User #"...)
	name = strconv.AppendInt(name, r.ID, 10)
	total := uint32(r.Counters[0]) + uint32(r.Counters[1])
	return out{ID: r.ID, Display: string(name), Total: total, Score: float32(total) * 0.5, Hash: r.Hash}, nil
}

// BenchmarkStatsOverhead runs the same 1M-record pipeline with timing and
// histograms on (the default build) and off (built with -tags
// weir_notiming, which removes timing from the hot path at compile time).
// One op is one whole run; compare the records/s of two binaries, run
// interleaved, e.g.
//
//	go test -c -o on.test . && go test -c -tags weir_notiming -o off.test .
//	for i in 1 2 3 4 5 6 7; do for b in on off; do ./$b.test -test.run '^$' -test.bench StatsOverhead -test.benchtime 1x; done; done
func BenchmarkStatsOverhead(b *testing.B) {
	const n = 1_000_000
	stats := "on"
	if !weir.Timing {
		stats = "off"
	}
	for _, cfg := range []struct{ batch, workers int }{{128, 4}, {64, 3}, {500, 8}} {
		{
			b.Run(fmt.Sprintf("batch=%d/workers=%d/stats=%s", cfg.batch, cfg.workers, stats), func(b *testing.B) {
				var sum atomic.Uint64
				sink := weir.SinkFunc[out](func(_ context.Context, batch []out) error {
					var s uint64
					for i := range batch {
						s += uint64(batch[i].Total) + uint64(len(batch[i].Display))
					}
					sum.Add(s)
					return nil
				})
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				cpu0, cpuOK := processCPU()
				for b.Loop() {
					p, err := weir.New(genSource(n), weir.Map(transformRec), weir.Sink[out](sink),
						weir.Config{BatchSize: cfg.batch, Workers: cfg.workers})
					if err != nil {
						b.Fatal(err)
					}
					if err := p.Run(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				runtime.ReadMemStats(&ms1)
				cpu1, _ := processCPU()
				records := float64(n) * float64(b.N)
				if cpuOK {
					// CPU time per record is what the stats cost; it moves
					// far less than wall time when other processes share
					// the cores.
					b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/records, "cpu-ns/record")
				}
				b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
				b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/records, "allocs/record")
			})
		}
	}
}

// BenchmarkTransformConcurrency measures Config.TransformConcurrency on a CPU-bound
// per-record transform: one op is a run of 1M records, batch 128, 2 workers.
//
//	go test -run '^$' -bench TransformConcurrency -benchtime 1x -count 5
func BenchmarkTransformConcurrency(b *testing.B) {
	const n = 1_000_000
	for _, tc := range []int{1, 2, 4, 10} {
		b.Run(fmt.Sprintf("tconc=%d", tc), func(b *testing.B) {
			sink := weir.SinkFunc[out](func(context.Context, []out) error { return nil })
			for b.Loop() {
				p, err := weir.New(genSource(n), weir.Map(transformRec), weir.Sink[out](sink),
					weir.Config{BatchSize: 128, Workers: 2, TransformConcurrency: tc})
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
