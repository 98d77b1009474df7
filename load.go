package weir

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weir-etl/weir/adapt"
)

// loadLoop is one goroutine of a separate load stage (LoadConcurrency > 0
// or Adaptive): it loads the batches the workers hand over.
func (r *run[E, T]) loadLoop(ctx context.Context, loads <-chan batch[T]) error {
	smp := newSampler(r.every, &r.m.load)
	defer smp.done()
	for {
		select {
		case b, ok := <-loads:
			if !ok {
				return nil
			}
			if _, err := r.load(ctx, b, &smp, time.Time{}); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// load commits one batch through the run's committer, with the adaptive
// controllers' token when they run, bisecting it under the Skip policy.
// smp, the calling goroutine's, says whether to time the write. start is
// when the write begins if the caller has just read the clock (zero
// otherwise): one clock read saved per batch. It returns when the write
// ended (zero when it was not timed).
func (r *run[E, T]) load(ctx context.Context, b batch[T], smp *sampler, start time.Time) (time.Time, error) {
	m := &r.m.load
	ctl := r.ctl
	timed := smp.tick()
	var tok adapt.Token
	if ctl != nil {
		var err error
		if tok, err = ctl.limiter.Acquire(ctx); err != nil {
			return time.Time{}, err
		}
		start = time.Now() // the round trip starts now, not before the wait
	} else if timed && start.IsZero() {
		start = clock()
	}
	attempts, err := r.commit.write(ctx, b)
	var end time.Time
	if timed || ctl != nil {
		end = time.Now()
		d := end.Sub(start)
		if timed {
			m.observe(start, end)
		}
		if ctl != nil {
			// A retried write's time is mostly backoff: it says nothing
			// about the cost of a batch.
			observed := d
			if attempts > 1 {
				observed = 0
			}
			ctl.observe(tok, len(b.records), b.n, observed, err)
		}
	}
	m.in.Add(int64(len(b.records)))
	switch {
	case err == nil:
		m.records.Add(int64(len(b.records)))
	case r.p.cfg.OnLoadError == Skip && ctx.Err() == nil && !r.retry.retryable(err):
		if err := r.bisect(ctx, b, b.records, 0, attempts, err); err != nil {
			return end, err
		}
	default:
		m.errors.Add(1)
		if attempts > 1 {
			err = fmt.Errorf("after %d attempts: %w", attempts, err)
		}
		return end, r.stageErr(StageLoad, b.seq, b.first, b.n, err)
	}
	m.batches.Add(1)
	r.commit.done(b.seq, b.pos)
	r.tpool.put(b.records)
	return end, nil
}

// commitEmpty finishes a batch the transform emptied (filtered, or all
// dead-lettered): nothing is loaded, but the position moves past it.
//
// In exactly-once mode this writes the position alone, in the sink's
// transaction, with the retry policy and the lost-acknowledgement check of
// any batch (see exactlyOnce.write).
func (r *run[E, T]) commitEmpty(ctx context.Context, b batch[T]) error {
	if b.records != nil {
		r.tpool.put(b.records)
		b.records = nil // the slice is back in the pool: the sink gets nil
	}
	if _, err := r.commit.write(ctx, b); err != nil {
		return r.stageErr(StageLoad, b.seq, b.first, b.n, fmt.Errorf("save checkpoint: %w", err))
	}
	r.commit.done(b.seq, b.pos)
	return nil
}

// bisect isolates the records of recs (at offset off in batch b) that a
// write refuses: it writes each half on its own, recursively, and
// dead-letters the single records that still fail. Rounds: log2(len).
//
// A retryable error (one the retry policy gave up on, or would retry) is
// not bisected: it says the sink is unwell (a dropped connection, a
// restarting server), not that a record is bad, and dead-lettering every
// record of a run because the database went away would be a silent way of
// losing a load. It fails the run instead.
func (r *run[E, T]) bisect(ctx context.Context, b batch[T], recs []T, off, attempts int, cause error) error {
	m := &r.m.load
	if len(recs) == 1 {
		pos := int64(-1)
		if b.aligned {
			pos = b.first + int64(off)
		}
		f := Failure{Stage: StageLoad, Record: recs[0], Error: cause.Error(), Attempts: attempts, Position: pos, Batch: b.seq,
			Source: sourcePos(recs[0])}
		return r.deadLetter(ctx, m, StageLoad, b.seq, b.first, b.n, []Failure{f})
	}
	mid := len(recs) / 2
	for _, h := range []struct {
		recs []T
		off  int
	}{{recs[:mid], off}, {recs[mid:], off + mid}} {
		n, err := r.w.write(ctx, h.recs)
		switch {
		case err == nil:
			m.records.Add(int64(len(h.recs)))
		case ctx.Err() != nil || r.retry.retryable(err):
			return r.stageErr(StageLoad, b.seq, b.first, b.n, err)
		default:
			if err := r.bisect(ctx, b, h.recs, h.off, n, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// deadLetter hands failures to the dead-letter sink. If that fails too, the
// run fails: a record must be either loaded or recorded as failed.
func (r *run[E, T]) deadLetter(ctx context.Context, sm *stageMetrics, st Stage, seq, first int64, n int, fails []Failure) error {
	err := try(func() error { return r.p.opts.dead.Write(ctx, fails) })
	if err != nil {
		sm.errors.Add(1)
		return r.stageErr(st, seq, first, n, fmt.Errorf("dead-letter %d records: %w", len(fails), err))
	}
	sm.deadLettered.Add(int64(len(fails)))
	return nil
}

// stageErr wraps err with where it happened. A record index in err (a
// [RecordError], also from a sink) becomes an extract position when the
// index counts the batch's source records: always for the transform stage,
// and for the load stage when the transform maps records one to one.
func (r *run[E, T]) stageErr(st Stage, seq, first int64, n int, err error) error {
	se := &StageError{Stage: st, Batch: seq, First: first, Count: n, Record: -1, Err: err}
	var re *RecordError
	if errors.As(err, &re) && re.Index >= 0 && re.Index < n && (st == StageTransform || r.p.tr.oneToOne) {
		se.Record = first + int64(re.Index)
		if re == err {
			se.Err = re.Err // the message says "record N" already
		}
	}
	return se
}
