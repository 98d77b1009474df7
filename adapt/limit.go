package adapt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// LimitConfig configures a [Limiter]. Zero fields take the defaults shown.
type LimitConfig struct {
	// Max is the most loads in flight. Default 16.
	Max int
	// Start is the first limit. Default 1.
	Start int
	// Decrease multiplies the limit when latency rises or a load fails.
	// Default 0.9.
	Decrease float64
	// Tolerance is how far above its baseline a window's mean round trip
	// may be before it counts as rising: 0.2 means 20%. The baseline is
	// the lowest window mean seen (since the last [Limiter.Reset]), drifting
	// up 0.1% per window, and reset by any window at limit 1.
	// Default 0.2.
	Tolerance float64
	// Now is the clock; nil means time.Now. Tests pass a fake one.
	Now func() time.Time
}

// Defaults of [LimitConfig].
const (
	DefaultMaxLimit  = 16
	DefaultDecrease  = 0.9
	DefaultTolerance = 0.2
)

func (c LimitConfig) withDefaults() LimitConfig {
	if c.Max == 0 {
		c.Max = DefaultMaxLimit
	}
	if c.Start == 0 {
		c.Start = 1
	}
	if c.Decrease == 0 {
		c.Decrease = DefaultDecrease
	}
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports impossible values, naming the field.
func (c LimitConfig) Validate() error {
	var errs []error
	if c.Max < 0 || c.Start < 0 {
		errs = append(errs, fmt.Errorf("adapt: LimitConfig Max and Start must be >= 0, got %d and %d", c.Max, c.Start))
	}
	if d := c.withDefaults(); d.Start > d.Max {
		errs = append(errs, fmt.Errorf("adapt: LimitConfig.Start (%d) exceeds Max (%d)", d.Start, d.Max))
	}
	if c.Decrease < 0 || c.Decrease >= 1 {
		errs = append(errs, fmt.Errorf("adapt: LimitConfig.Decrease must be in (0, 1), got %v", c.Decrease))
	}
	if c.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("adapt: LimitConfig.Tolerance must be >= 0, got %v", c.Tolerance))
	}
	return errors.Join(errs...)
}

// Limiter caps the loads in flight and adapts the cap by AIMD, as Vector's
// adaptive request concurrency does:
//
//   - It adjusts at most once per window, a window being at least one
//     moving-average round-trip time (RTT) long and holding at least
//     max(limit, 4) judged loads, so one slow write is not a trend.
//   - It judges a window by the loads that started in it with the limit
//     reached: those measure what the current limit does to the database.
//   - It adds 1 only if such loads exist (more concurrency was wanted), no
//     load failed, and their mean RTT stayed within Tolerance of the
//     baseline RTT.
//   - It multiplies the limit by Decrease when a load failed, or when their
//     mean RTT rose above the baseline by more than Tolerance in two
//     windows running: the extra loads only queued inside the database.
//   - The limit stays within [1, Max].
//   - Until the first cut it doubles instead of adding 1 (TCP's slow
//     start), and the first cut halves it back to the last limit that held.
//
// Vector compares a window's RTT with a moving average plus deviations; on
// a database whose latency grows smoothly with load that comparison drifts
// with the average and lets the limit creep up. The baseline here is the
// lowest RTT seen (TCP Vegas' idea), so growth is seen as growth.
//
// Acquire blocks while the limit is reached; Release reports a load's
// outcome. Safe for concurrent use.
type Limiter struct {
	cfg LimitConfig

	mu       sync.Mutex
	limit    int
	inflight int
	gen      int           // bumped at every adjustment
	wake     chan struct{} // closed and replaced when a slot frees

	avg      float64 // EWMA of window mean RTTs (ns): the window length
	base     float64 // baseline RTT (ns); 0 until measured
	winStart time.Time
	winSum   float64 // RTTs of loads started at the limit in this window
	winN     int
	allSum   float64 // RTTs of every load started in this window
	allN     int
	failed   bool
	rising   int  // consecutive windows whose RTT rose
	settled  bool // slow start is over (the first cut, or Max reached)
}

// minWindowLoads is the fewest judged loads a window needs: on a machine
// with noisy timers, the mean of one or two writes swings by more than the
// tolerance.
const minWindowLoads = 4

// ewma weight of a window's mean RTT in the moving average.
const alpha = 0.3

// NewLimiter returns a limiter starting at cfg.Start.
func NewLimiter(cfg LimitConfig) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Limiter{cfg: cfg, limit: cfg.Start, wake: make(chan struct{}), winStart: cfg.Now()}, nil
}

// Limit is the current cap on loads in flight.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Max is the configured upper bound of the limit.
func (l *Limiter) Max() int { return l.cfg.Max }

// Token is one acquired slot; pass it to [Limiter.Release].
type Token struct {
	start   time.Time
	gen     int
	atLimit bool
}

// Acquire waits for a free slot, or returns ctx's error.
func (l *Limiter) Acquire(ctx context.Context) (Token, error) {
	for {
		tok, ok, wake := l.tryAcquire()
		if ok {
			return tok, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
}

// tryAcquire takes a slot if one is free; otherwise it returns the channel
// closed when one frees.
func (l *Limiter) tryAcquire() (Token, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight < l.limit {
		l.inflight++
		return Token{start: l.cfg.Now(), gen: l.gen, atLimit: l.inflight == l.limit}, true, nil
	}
	return Token{}, false, l.wake
}

// Release frees the slot of tok and records whether its load failed. The
// round trip is measured from Acquire's return.
func (l *Limiter) Release(tok Token, failed bool) { l.ReleaseScaled(tok, failed, 1) }

// ReleaseScaled is Release for loads of varying size: the round trip is
// multiplied by scale before it is judged, so that a caller can bring every
// load to a common size (the engine scales by its batch-cost model) and a
// bigger batch is not mistaken for a slower database.
func (l *Limiter) ReleaseScaled(tok Token, failed bool, scale float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	now := l.cfg.Now()
	rtt := float64(now.Sub(tok.start)) * scale
	l.failed = l.failed || failed
	if tok.gen == l.gen {
		l.allSum += rtt
		l.allN++
		if tok.atLimit {
			l.winSum += rtt
			l.winN++
		}
	}
	if l.avg == 0 {
		l.avg = rtt
	}
	judged := l.winN
	if judged == 0 {
		judged = l.allN
	}
	if now.Sub(l.winStart) >= time.Duration(l.avg) && (judged >= max(l.limit, minWindowLoads) || l.failed) {
		l.adjust(now)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// adjust closes a window with one AIMD step. Callers hold mu.
func (l *Limiter) adjust(now time.Time) {
	mean, atLimit := l.winSum/float64(max(l.winN, 1)), l.winN > 0
	if !atLimit {
		mean = l.allSum / float64(max(l.allN, 1))
	}
	if l.allN > 0 {
		// With one load in flight the RTT is the database's own speed,
		// not congestion: it resets the baseline (a database that got
		// slower for good is learnt here).
		if l.base == 0 || mean < l.base || l.limit == 1 {
			l.base = mean
		}
		l.avg = (1-alpha)*l.avg + alpha*mean
	}
	rising := l.allN > 0 && mean > l.base*(1+l.cfg.Tolerance)
	if rising {
		l.rising++
	} else {
		l.rising = 0
	}
	switch {
	case l.failed || l.rising >= 2:
		if !l.settled {
			// Slow start overshot: go back to the last limit that held.
			l.limit = max(1, l.limit/2)
			l.settled = true
		} else {
			l.limit = max(1, int(math.Floor(float64(l.limit)*l.cfg.Decrease)))
		}
		l.rising = 0
	case atLimit && !rising && l.limit < l.cfg.Max:
		if l.settled {
			l.limit++
		} else {
			// Slow start, as TCP's: double until the first sign of
			// congestion, so a run reaches its concurrency in a few
			// windows instead of one window per step.
			l.limit = min(2*l.limit, l.cfg.Max)
		}
	}
	l.base *= 1.001
	l.gen++
	l.winStart = now
	l.winSum, l.winN, l.allSum, l.allN, l.failed = 0, 0, 0, 0, false
}
