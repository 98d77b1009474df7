package weir

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrorPolicy says what a stage does with a record that fails.
type ErrorPolicy uint8

const (
	// FailRun stops the run at the first failure (the default).
	FailRun ErrorPolicy = iota
	// Skip hands each failing record to the dead-letter sink (see
	// [WithDeadLetter]) with its error, and carries on with the
	// rest. For the load stage, a batch whose write fails for good is split
	// in halves and retried, recursively, so that only the records that
	// really fail are dead-lettered (at most log2(batch) rounds). This needs
	// a sink whose Write is all-or-nothing (one transaction per Write, as
	// the SQL sinks of package connect do): a sink that keeps part of a
	// failed batch would get those records twice. A write error that is
	// retryable (see [WithRetryable]) is not split: it speaks of the sink,
	// not of a record, so it fails the run once retries are spent.
	//
	// As [Config.OnTransformError], Skip also covers records the source
	// cannot read ([BadRecordError]): decoding is the first transform a
	// record goes through.
	Skip
)

func (p ErrorPolicy) String() string {
	switch p {
	case FailRun:
		return "fail"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("ErrorPolicy(%d)", uint8(p))
}

// RetryPolicy retries failed source reads and sink writes whose error is
// retryable (see [WithRetryable]): exponential backoff with jitter,
// until MaxAttempts or MaxElapsed. The zero value retries nothing.
// Cancelling the run interrupts a backoff wait at once.
type RetryPolicy struct {
	// MaxAttempts counts the first try: 3 means up to two retries. 0 or 1
	// means no retry.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps one wait. Default 10s.
	MaxBackoff time.Duration
	// MaxElapsed stops retrying once this long has passed since the first
	// try. 0 means no limit but MaxAttempts.
	MaxElapsed time.Duration
}

// Defaults of [RetryPolicy].
const (
	defaultInitialBackoff = 100 * time.Millisecond
	defaultMaxBackoff     = 10 * time.Second
)

func (r RetryPolicy) validate() []error {
	var errs []error
	if r.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("weir: Retry.MaxAttempts must be >= 0, got %d", r.MaxAttempts))
	}
	if r.InitialBackoff < 0 || r.MaxBackoff < 0 || r.MaxElapsed < 0 {
		errs = append(errs, errors.New("weir: Retry.InitialBackoff, MaxBackoff and MaxElapsed must be >= 0"))
	}
	if r.InitialBackoff > 0 && r.MaxBackoff > 0 && r.InitialBackoff > r.MaxBackoff {
		errs = append(errs, fmt.Errorf("weir: Retry.InitialBackoff (%v) exceeds MaxBackoff (%v)", r.InitialBackoff, r.MaxBackoff))
	}
	return errs
}

// retryableErr marks an error as retryable; see [Transient].
type retryableErr struct{ err error }

func (e retryableErr) Error() string   { return e.err.Error() }
func (e retryableErr) Unwrap() error   { return e.err }
func (e retryableErr) Retryable() bool { return true }

// Transient marks err as retryable, for sources and sinks that know a
// failure is temporary: the default classifier (see [WithRetryable]) retries
// an error if something in its chain has a Retryable() or Temporary()
// method that returns true, and Transient adds one. Transient(nil) is nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return retryableErr{err}
}

// defaultRetryable: an error is retryable if something in its chain says
// so (Retryable() or Temporary() true). Unknown errors are not: retrying a
// constraint violation only delays the failure.
func defaultRetryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) {
		return t.Temporary()
	}
	return false
}

// retrier runs an operation under a RetryPolicy.
type retrier struct {
	policy    RetryPolicy
	retryable func(error) bool
}

// do calls op until it succeeds, fails with a non-retryable error, or the
// policy gives up. It returns the number of attempts made and op's last
// error (joined with ctx's if the run was cancelled during a wait).
func (r retrier) do(ctx context.Context, op func() error) (int, error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || attempt >= r.policy.MaxAttempts || ctx.Err() != nil || !r.retryable(err) {
			return attempt, err
		}
		if !r.wait(ctx, attempt, start) {
			if ctx.Err() != nil {
				return attempt, errors.Join(err, ctx.Err())
			}
			return attempt, err
		}
	}
}

// wait sleeps before retry number attempt (from 1) and reports whether to
// retry: false when MaxElapsed would be passed or ctx ends first.
func (r retrier) wait(ctx context.Context, attempt int, start time.Time) bool {
	backoff := r.policy.InitialBackoff
	if backoff == 0 {
		backoff = defaultInitialBackoff
	}
	maxBackoff := r.policy.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = defaultMaxBackoff
	}
	for range attempt - 1 {
		backoff = min(2*backoff, maxBackoff)
	}
	// Jitter: uniformly in [backoff/2, backoff], so writers that failed
	// together do not retry in step.
	wait := backoff/2 + rand.N(backoff/2+1)
	if r.policy.MaxElapsed > 0 && time.Since(start)+wait > r.policy.MaxElapsed {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
