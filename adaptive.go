package weir

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weir-etl/weir/adapt"
)

// controllers are the adaptive batch sizer and load limiter of a run with
// [Config.Adaptive] set.
type controllers struct {
	sizer     *adapt.BatchSizer
	limiter   *adapt.Limiter
	batchSize *atomic.Int64 // the batcher's size, set by observe
}

// newControllers returns nil when cfg (defaults applied) is not adaptive.
func newControllers(cfg Config) (*controllers, error) {
	if !cfg.Adaptive {
		return nil, nil
	}
	sizer, err := adapt.NewBatchSizer(adapt.BatchConfig{
		Min:   min(adapt.DefaultMinBatch, cfg.BatchSize),
		Max:   cfg.BatchSize,
		Start: min(DefaultBatchSize, cfg.BatchSize),
	})
	if err != nil {
		return nil, fmt.Errorf("weir: adaptive batching: %w", err)
	}
	limiter, err := adapt.NewLimiter(adapt.LimitConfig{Max: cfg.LoadConcurrency})
	if err != nil {
		return nil, fmt.Errorf("weir: adaptive load concurrency: %w", err)
	}
	return &controllers{sizer: sizer, limiter: limiter}, nil
}

// observe feeds one load's outcome to both controllers. records counts the
// batch's outputs; sourceRecords the source records it came from, which is
// what the batch size counts.
func (c *controllers) observe(tok adapt.Token, records, sourceRecords int, d time.Duration, err error) {
	// The limiter judges round trips at one common batch size, scaled by
	// the sizer's cost model, so a batch-size change does not read as the
	// database slowing down (or speeding up).
	scale := 1.0
	if fixed, per, ok := c.sizer.Model(); ok && sourceRecords > 0 {
		ref := float64(c.batchSize.Load())
		if cost := float64(fixed) + float64(per)*float64(sourceRecords); cost > 0 {
			scale = (float64(fixed) + float64(per)*ref) / cost
		}
	}
	c.limiter.ReleaseScaled(tok, err != nil, scale)
	if err != nil || records == 0 || d == 0 {
		return
	}
	// The sizer models cost per source record: that is what BatchSize
	// controls, whatever the transform does to the count.
	c.batchSize.Store(int64(c.sizer.Observe(sourceRecords, d)))
}
