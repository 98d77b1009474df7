package weir_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

// FuzzConfigValidate: Validate never panics, accepts its own defaults, and
// every config it accepts runs a small pipeline to the exact count.
func FuzzConfigValidate(f *testing.F) {
	f.Add(0, int64(0), int64(0), 0, 0, 0, 0, false, 0, int64(0))
	f.Add(128, int64(1<<20), int64(time.Second), 4, 2, 2, 8, false, 3, int64(time.Millisecond))
	f.Add(-1, int64(-1), int64(-1), -1, -1, -1, -1, true, -1, int64(-1))
	f.Add(4, int64(0), int64(1), 1, 8, 0, 0, false, 0, int64(0))
	f.Add(1<<20+1, int64(0), int64(time.Millisecond), 1<<12+1, 1, 1, 1, true, 1, int64(time.Hour))
	f.Fuzz(func(t *testing.T, batch int, bytes, interval int64, workers, tconc, lconc, queue int, adaptive bool, attempts int, backoff int64) {
		cfg := weir.Config{
			BatchSize: batch, BatchBytes: bytes, FlushInterval: time.Duration(interval),
			Workers: workers, TransformConcurrency: tconc, LoadConcurrency: lconc, QueueDepth: queue,
			Adaptive: adaptive,
			Retry:    weir.RetryPolicy{MaxAttempts: attempts, InitialBackoff: time.Duration(backoff)},
		}
		if err := cfg.Validate(); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		d := cfg.WithDefaults()
		if err := d.Validate(); err != nil {
			t.Fatalf("defaults of a valid config are invalid: %v", err)
		}
		if d.BatchSize < 1 || d.Workers < 1 || d.TransformConcurrency < 1 || d.QueueDepth < 1 || d.FlushInterval < time.Millisecond {
			t.Fatalf("WithDefaults left a zero: %+v", d)
		}
		if d.Workers > 64 || d.LoadConcurrency > 64 || d.QueueDepth > 256 || d.BatchSize > 1<<16 {
			return // valid, but too big to run thousands of times here
		}
		var loaded atomic.Int64 // an adaptive run loads on several goroutines
		var opts []weir.Option
		if cfg.BatchBytes > 0 {
			opts = append(opts, weir.WithSize(func(int) int { return 8 }))
		}
		p, err := weir.New(weir.FromSlice(ints(37)), weir.Identity[int](), weir.SinkFunc[int](func(_ context.Context, b []int) error {
			loaded.Add(int64(len(b)))
			return nil
		}), weir.Config{BatchSize: cfg.BatchSize, FlushInterval: cfg.FlushInterval, Workers: 1,
			TransformConcurrency: min(cfg.TransformConcurrency, 4), QueueDepth: cfg.QueueDepth, Adaptive: cfg.Adaptive}, opts...)
		if err != nil {
			t.Fatalf("New rejected a valid config: %v", err)
		}
		if err := p.Run(context.Background()); err != nil || loaded.Load() != 37 {
			t.Fatalf("Run = %v, loaded %d of 37", err, loaded.Load())
		}
	})
}
