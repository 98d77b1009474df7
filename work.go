package weir

import (
	"context"
	"time"
)

// work is one transform worker. With LoadConcurrency 0 it also loads what
// it transformed; otherwise it hands batches to the load stage.
func (r *run[E, T]) work(ctx context.Context, in <-chan batch[E], loads chan<- batch[T]) error {
	tr := r.p.tr
	opts := applyOpts{conc: r.p.cfg.TransformConcurrency}
	if r.p.cfg.OnTransformError == Skip {
		opts.skip = &skipper{}
	}
	m := &r.m.transform
	tsmp := newSampler(r.every, m)
	defer tsmp.done()
	var lsmp *sampler // the loads' sampler, when this worker loads
	if loads == nil {
		s := newSampler(r.every, &r.m.load)
		lsmp = &s
		defer lsmp.done()
	}
	// last is when this worker finished its previous batch, if it timed
	// it: the next batch, when timed too, starts there (a clock read saved).
	var last time.Time
	for {
		var b batch[E]
		var ok bool
		select {
		case b, ok = <-in:
		default:
			// The queue is empty: this worker waits, so the previous
			// batch's end is no longer this batch's start.
			last = time.Time{}
			select {
			case b, ok = <-in:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !ok {
			return nil
		}
		if len(b.records) == 0 {
			// A position alone (the source moved past records it
			// rejected): nothing to transform, the committer moves on.
			if err := r.commitEmpty(ctx, batch[T]{seq: b.seq, first: b.first, pos: b.pos}); err != nil {
				return err
			}
			continue
		}
		var out []T
		if !tr.inPlace {
			out = r.tpool.get(len(b.records))
		}
		timed := tsmp.tick()
		var t0, t1 time.Time
		if timed {
			t0 = last
			if t0.IsZero() {
				t0 = clock()
			}
		}
		last = time.Time{}
		if opts.skip != nil {
			opts.skip.reset()
		}
		var res []T
		err := try(func() (err error) {
			res, err = tr.apply(ctx, b.records, out, opts)
			return err
		})
		if timed {
			t1 = clock()
			m.observe(t0, t1)
		}
		m.in.Add(int64(len(b.records)))
		if err != nil && opts.skip != nil && ctx.Err() == nil {
			// A failure the transform could not pin on one record (a
			// MapBatch error, a panic outside the per-record calls): under
			// Skip the whole batch goes to the dead-letter sink.
			for i := range b.records {
				opts.skip.add(b.records[i], i, err)
			}
			res, err = out[:0], nil
		}
		if err != nil {
			m.errors.Add(1)
			return r.stageErr(StageTransform, b.seq, b.first, b.n, err)
		}
		if opts.skip != nil && len(opts.skip.failed) > 0 {
			if err := r.deadLetter(ctx, m, StageTransform, b.seq, b.first, b.n, transformFailures(b, opts.skip.failed)); err != nil {
				return err
			}
		}
		m.records.Add(int64(len(res)))
		m.batches.Add(1)
		if !tr.inPlace {
			r.epool.put(b.records)
		}
		ob := batch[T]{records: res, seq: b.seq, first: b.first, n: b.n, pos: b.pos,
			aligned: tr.oneToOne && (opts.skip == nil || len(opts.skip.failed) == 0)}
		if len(res) == 0 {
			// Nothing to load, but the batch is finished: the committer
			// moves the position past it.
			if err := r.commitEmpty(ctx, ob); err != nil {
				return err
			}
			continue
		}
		if loads == nil {
			end, err := r.load(ctx, ob, lsmp, t1)
			if err != nil {
				return err
			}
			last = end
			continue
		}
		// The hand-off may block on a busy load stage: that wait is not the
		// next batch's transform time, so its start is read afresh.
		last = time.Time{}
		select {
		case loads <- ob:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// transformFailures turns the records a transform skipped into failures
// for the dead-letter sink.
func transformFailures[E any](b batch[E], failed []skipped) []Failure {
	fails := make([]Failure, len(failed))
	for i, f := range failed {
		pos := int64(-1)
		if f.index >= 0 && f.index < b.n {
			pos = b.first + int64(f.index)
		}
		fails[i] = Failure{Stage: StageTransform, Record: f.record, Error: f.err.Error(), Attempts: 1, Position: pos, Batch: b.seq,
			Source: sourcePos(f.record)}
	}
	return fails
}
