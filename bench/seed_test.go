package bench_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bench"
)

// seedRecords is the size of one op of BenchmarkSeedSlim: one whole run.
const seedRecords = 1_000_000

const seedSeed = 1

// seedConfigs are the seed's configurations: its "obvious" one, its two
// measured optima, and its "start with defaults".
var seedConfigs = []struct{ batch, workers int }{
	{500, 8},
	{64, 3},
	{128, 4},
	{100, 4},
}

// BenchmarkSeedSlim moves 1M slim users through TransformSlim into a
// SumSink, once per op, with weir and with a hand-written channel pipeline
// (the practical ceiling), for each of the seed's configurations. Run it
// with -benchtime 1x -count 5: each op is a whole run.
func BenchmarkSeedSlim(b *testing.B) {
	engines := []struct {
		name string
		run  func(ctx context.Context, src weir.Source[bench.SlimUser], sink *bench.SumSink[bench.SlimTransformed], batch, workers int) error
	}{
		{"weir", runWeir},
		{"baseline", func(ctx context.Context, src weir.Source[bench.SlimUser], sink *bench.SumSink[bench.SlimTransformed], batch, workers int) error {
			return bench.Handwritten(ctx, src, sink, batch, workers)
		}},
	}
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			for _, c := range seedConfigs {
				b.Run(fmt.Sprintf("batch=%d", c.batch), func(b *testing.B) {
					b.Run(fmt.Sprintf("workers=%d", c.workers), func(b *testing.B) {
						benchSlimRuns(b, func(src weir.Source[bench.SlimUser], sink *bench.SumSink[bench.SlimTransformed]) error {
							return e.run(context.Background(), src, sink, c.batch, c.workers)
						})
					})
				})
			}
		})
	}
}

// benchSlimRuns times b.N whole runs of seedRecords records and reports
// per-record throughput, time, CPU time and allocations. Source and sink
// are built, the heap collected and MemStats read with the timer stopped.
func benchSlimRuns(b *testing.B, run func(weir.Source[bench.SlimUser], *bench.SumSink[bench.SlimTransformed]) error) {
	b.ReportAllocs()
	var (
		mallocs uint64
		cpu     time.Duration
		cpuOK   = true
	)
	for range b.N {
		b.StopTimer()
		src := bench.NewSlimSource(seedRecords, seedSeed)
		sink := &bench.SumSink[bench.SlimTransformed]{}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0, ok0 := processCPU()
		b.StartTimer()

		err := run(src, sink)

		b.StopTimer()
		cpu1, ok1 := processCPU()
		cpu += cpu1 - cpu0
		cpuOK = cpuOK && ok0 && ok1
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		if err != nil {
			b.Fatal(err)
		}
		if got, want := sink.Sum(), int64(seedRecords*(seedRecords+1)/2); sink.Records() != seedRecords || got != want {
			b.Fatalf("sink saw %d records summing to %d, want %d summing to %d", sink.Records(), got, seedRecords, want)
		}
		b.StartTimer()
	}
	records := float64(b.N) * seedRecords
	elapsed := b.Elapsed()
	b.ReportMetric(records/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/records, "ns/record")
	b.ReportMetric(float64(mallocs)/records, "allocs/record")
	if cpuOK {
		// CPU time spent by the whole process (GC included) per record: the
		// work an engine costs, less sensitive than wall time to other
		// processes competing for the cores.
		b.ReportMetric(float64(cpu.Nanoseconds())/records, "cpu-ns/record")
	}
}

// runWeir is the engine under test, with its defaults (stats on).
func runWeir(ctx context.Context, src weir.Source[bench.SlimUser], sink *bench.SumSink[bench.SlimTransformed], batch, workers int) error {
	p, err := weir.New(src, weir.Map(bench.TransformSlim), sink, weir.Config{BatchSize: batch, Workers: workers})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// TestBaseline checks the benchmark's reference pipeline delivers every
// record exactly once, so BenchmarkSeedSlim compares like with like.
func TestBaseline(t *testing.T) {
	for _, c := range seedConfigs {
		sink := &bench.SumSink[bench.SlimTransformed]{}
		if err := bench.Handwritten(context.Background(), bench.NewSlimSource(10_007, 1), sink, c.batch, c.workers); err != nil {
			t.Fatal(err)
		}
		if sink.Records() != 10_007 || sink.Sum() != 10_007*10_008/2 {
			t.Errorf("batch %d, workers %d: %d records summing to %d", c.batch, c.workers, sink.Records(), sink.Sum())
		}
	}
}

// fatRecords is the size of one op of BenchmarkFat: the seed's 5,000.
const fatRecords = 5000

// BenchmarkFat moves 5,000 fat users through TransformFat into a SumSink
// with the seed's optimised configuration (batch 128, 4 workers), and
// reports throughput and the peak heap in use, sampled every millisecond.
func BenchmarkFat(b *testing.B) {
	b.ReportAllocs()
	var peak uint64
	for range b.N {
		b.StopTimer()
		sink := &bench.SumSink[bench.FatTransformed]{}
		p, err := weir.New(bench.NewFatSource(fatRecords, seedSeed), weir.Map(bench.TransformFat), sink,
			weir.Config{BatchSize: 128, Workers: 4})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := make(chan struct{})
		sampled := make(chan uint64)
		go func() { sampled <- sampleHeapInUse(stop) }()
		b.StartTimer()

		err = p.Run(context.Background())

		b.StopTimer()
		close(stop)
		peak = max(peak, <-sampled)
		if err != nil {
			b.Fatal(err)
		}
		if sink.Records() != fatRecords {
			b.Fatalf("sink saw %d records, want %d", sink.Records(), fatRecords)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*fatRecords/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// sampleHeapInUse samples the heap in use (MemStats.HeapInuse: object
// bytes plus free space in in-use spans) every millisecond until stop is
// closed, and returns the largest sample. It reads runtime/metrics, which,
// unlike runtime.ReadMemStats, does not stop the world.
func sampleHeapInUse(stop <-chan struct{}) uint64 {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	read := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	peak := read()
	for {
		select {
		case <-stop:
			return max(peak, read())
		case <-tick.C:
			peak = max(peak, read())
		}
	}
}
