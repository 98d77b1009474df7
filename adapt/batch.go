// Package adapt holds the controllers that let a run tune itself: a batch
// sizer that picks the batch size from the measured cost of a load, and an
// AIMD limiter for the number of loads in flight (after Vector's adaptive
// request concurrency). The engine uses them when [weir.Config.Adaptive] is
// set; they import nothing of the engine and can drive any batched writer.
//
// Both are deterministic functions of what they observe, with time passed
// in, so they are tested against the synthetic sinks on a fake clock.
package adapt

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// BatchConfig configures a [BatchSizer]. Zero fields take the defaults
// shown.
type BatchConfig struct {
	// Min and Max bound the batch size. Defaults 16 and 4096.
	Min, Max int
	// Start is the first batch size. Default: 128, clamped to [Min, Max].
	Start int
	// Overhead is the share of a batch's load time that may go to fixed
	// per-batch costs (a round trip, a commit, the engine's hand-offs)
	// rather than to records. Default 0.1: batches grow until the fixed
	// part is at most 10% of the load. Lower values mean larger batches.
	Overhead float64
	// EngineCost is the fixed cost per batch paid outside the sink (the
	// engine's hand-offs between goroutines), added to the measured fixed
	// cost so that a sink with no per-call cost still gets batches large
	// enough to amortise the engine. Default 20µs.
	EngineCost time.Duration
	// MaxLatency caps the predicted load time of one batch. Default 1s.
	MaxLatency time.Duration
}

// Defaults of [BatchConfig].
const (
	DefaultMinBatch   = 16
	DefaultMaxBatch   = 4096
	DefaultStartBatch = 128
	DefaultOverhead   = 0.1
	DefaultEngineCost = 20 * time.Microsecond
	DefaultMaxLatency = time.Second
)

func (c BatchConfig) withDefaults() BatchConfig {
	if c.Min == 0 {
		c.Min = DefaultMinBatch
	}
	if c.Max == 0 {
		c.Max = max(DefaultMaxBatch, c.Min)
	}
	if c.Start == 0 {
		c.Start = min(max(DefaultStartBatch, c.Min), c.Max)
	}
	if c.Overhead == 0 {
		c.Overhead = DefaultOverhead
	}
	if c.EngineCost == 0 {
		c.EngineCost = DefaultEngineCost
	}
	if c.MaxLatency == 0 {
		c.MaxLatency = DefaultMaxLatency
	}
	return c
}

// Validate reports impossible values, naming the field.
func (c BatchConfig) Validate() error {
	var errs []error
	if c.Min < 0 || c.Max < 0 || c.Start < 0 {
		errs = append(errs, fmt.Errorf("adapt: BatchConfig Min, Max and Start must be >= 0, got %d, %d, %d", c.Min, c.Max, c.Start))
	}
	d := c.withDefaults()
	if d.Min > d.Max {
		errs = append(errs, fmt.Errorf("adapt: BatchConfig.Min (%d) exceeds Max (%d)", d.Min, d.Max))
	}
	if c.Start != 0 && (c.Start < d.Min || c.Start > d.Max) {
		errs = append(errs, fmt.Errorf("adapt: BatchConfig.Start (%d) is outside [Min, Max] = [%d, %d]", c.Start, d.Min, d.Max))
	}
	if c.Overhead < 0 || c.Overhead >= 1 {
		errs = append(errs, fmt.Errorf("adapt: BatchConfig.Overhead must be in [0, 1), got %v", c.Overhead))
	}
	if c.EngineCost < 0 || c.MaxLatency < 0 {
		errs = append(errs, errors.New("adapt: BatchConfig.EngineCost and MaxLatency must be >= 0"))
	}
	return errors.Join(errs...)
}

// BatchSizer chooses batch sizes from observed load times. It models the
// load of a batch of b records as fixed + perRecord×b, fits both by least
// squares over a decaying window of observations, and picks the smallest
// size whose fixed part is at most Overhead of the whole, within
// [Min, Max] and under MaxLatency. Sizes move on a ladder of steps
// (×1.25), and only when the target is at least one rung away, so in
// steady state the size holds still or moves by one step at most; far
// below the target it climbs several rungs at once (up to half the target)
// so a run starting from a small default gets there in a few batches.
//
// It is safe for concurrent use. Cost: a mutex and a few float operations
// per observation.
type BatchSizer struct {
	cfg BatchConfig

	mu sync.Mutex
	// Decayed sums for the least-squares fit of latency against size.
	n, sx, sy, sxx, sxy float64
	size                int
	seen                int
}

// decay weighs older observations down so the fit follows a sink whose
// costs change. With 0.95, the last ~20 batches dominate.
const decay = 0.95

// step is the ratio between neighbouring sizes on the ladder.
const step = 1.25

// NewBatchSizer returns a sizer starting at cfg.Start.
func NewBatchSizer(cfg BatchConfig) (*BatchSizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &BatchSizer{cfg: cfg, size: cfg.Start}, nil
}

// Size is the batch size to use now.
func (s *BatchSizer) Size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Observe records that a batch of records took latency to load, and
// returns the size to use from now on. Failed loads should not be observed.
func (s *BatchSizer) Observe(records int, latency time.Duration) int {
	if records <= 0 {
		return s.Size()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, y := float64(records), float64(latency)
	s.n = s.n*decay + 1
	s.sx = s.sx*decay + x
	s.sy = s.sy*decay + y
	s.sxx = s.sxx*decay + x*x
	s.sxy = s.sxy*decay + x*y
	s.seen++
	fixed, per, ok := s.fit()
	if !ok {
		// All batches so far had the same size: no slope to fit. Probe
		// one step up, so the next observations differ.
		if s.seen >= 2 {
			s.size = s.clamp(int(math.Ceil(float64(s.size) * step)))
		}
		return s.size
	}
	// Move one rung when the target is at least as far as the next rung
	// (the ladder is clamped to [Min, Max], so the ends are reachable).
	target := s.target(fixed, per)
	up := s.clamp(int(math.Ceil(float64(s.size) * step)))
	down := s.clamp(int(float64(s.size) / step))
	switch {
	case up > s.size && target >= up:
		// Far below the target (a start from a small default), climb
		// several rungs at once: up to half the target.
		for next := s.clamp(int(math.Ceil(float64(up) * step))); next > up && next <= target/2; next = s.clamp(int(math.Ceil(float64(up) * step))) {
			up = next
		}
		s.size = up
	case down < s.size && target <= down:
		s.size = down
	}
	return s.size
}

// fit returns the intercept and slope of latency against size.
func (s *BatchSizer) fit() (fixed, per float64, ok bool) {
	den := s.n*s.sxx - s.sx*s.sx
	// Trust a slope only when the sizes observed differ enough (a 5%
	// spread): with nearly one size, the latency's own swings (another
	// controller changing the load, a noisy machine) would be read as a
	// cost per record, and the size would wander.
	if s.n < 2 || den <= (0.05*0.05)*s.sx*s.sx {
		return 0, 0, false
	}
	per = (s.n*s.sxy - s.sx*s.sy) / den
	fixed = (s.sy - per*s.sx) / s.n
	return max(fixed, 0), max(per, 0), true
}

// target is the smallest size whose fixed share is at most Overhead.
func (s *BatchSizer) target(fixed, per float64) int {
	fixed += float64(s.cfg.EngineCost)
	if per <= 0 {
		return s.cfg.Max
	}
	o := s.cfg.Overhead
	b := fixed * (1 - o) / (o * per)
	if lim := (float64(s.cfg.MaxLatency) - fixed) / per; b > lim {
		b = lim
	}
	return s.clamp(int(math.Ceil(b)))
}

func (s *BatchSizer) clamp(b int) int {
	return min(max(b, s.cfg.Min), s.cfg.Max)
}

// Model returns the fitted fixed and per-record load costs, for reports.
func (s *BatchSizer) Model() (fixed, perRecord time.Duration, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, p, ok := s.fit()
	return time.Duration(f), time.Duration(p), ok
}
