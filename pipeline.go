package weir

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Pipeline is one Extract → Transform → Load job. Build it with [New], then
// call [Pipeline.Run] once. [Pipeline.Stats] may be called from any
// goroutine at any time; [Pipeline.Stop] ends the run gracefully.
type Pipeline[E, T any] struct {
	src  Source[E]
	tr   Transform[E, T]
	sink Sink[T]
	cfg  Config // defaults applied
	opts options
	size func(*E) int // nil when record sizes are unknown

	started  atomic.Bool
	stopMu   sync.Mutex
	stopRead context.CancelFunc // ends the reader (Stop); nil outside Run
	stopped  bool
	m        atomic.Pointer[metrics]
}

// New checks its arguments, cfg and opts, and returns a pipeline ready to
// run. Every contradiction (a [Skip] policy without a dead-letter sink,
// checkpoints on a source that cannot seek, ...) is an error here, each
// naming the argument, Config field or option at fault, so that Run never
// fails half-way for a reason known in advance.
func New[E, T any](src Source[E], tr Transform[E, T], sink Sink[T], cfg Config, opts ...Option) (*Pipeline[E, T], error) {
	var errs []error
	if src == nil {
		errs = append(errs, errors.New("weir: New: nil Source"))
	}
	if tr.apply == nil {
		errs = append(errs, errors.New("weir: New: zero Transform (build one with Map, Filter, FlatMap, MapBatch, InPlace or Identity)"))
	}
	if sink == nil {
		errs = append(errs, errors.New("weir: New: nil Sink"))
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	} else if _, err := newControllers(cfg.WithDefaults()); err != nil {
		errs = append(errs, err)
	}
	p := &Pipeline[E, T]{src: src, tr: tr, sink: sink, cfg: cfg.WithDefaults()}
	p.opts.retryable = defaultRetryable
	for _, o := range opts {
		if o.apply == nil {
			errs = append(errs, errors.New("weir: New: zero Option"))
			continue
		}
		o.apply(&p.opts)
	}
	size, oerrs := checkOptions(&p.opts, cfg, src, sink)
	errs = append(errs, oerrs...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p.size = size
	return p, nil
}

// Config returns the pipeline's configuration with defaults applied.
func (p *Pipeline[E, T]) Config() Config { return p.cfg }

// Stop asks a running pipeline to stop gracefully: no more records are
// read, the batches already read are transformed and loaded, and Run then
// returns an error wrapping [ErrStopped] (the source was not finished). Use
// it for the first Ctrl-C; cancel Run's context to abandon the batches in
// flight too. Stop is safe to call from any goroutine, any number of
// times, before, during or after Run.
func (p *Pipeline[E, T]) Stop() {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	p.stopped = true
	if p.stopRead != nil {
		p.stopRead()
	}
}

// Stats returns a snapshot of the run: live while it runs, final after.
// Before Run it returns the zero Stats.
func (p *Pipeline[E, T]) Stats() Stats {
	if m := p.m.Load(); m != nil {
		return m.snapshot()
	}
	return Stats{}
}

// Run runs the pipeline to completion and blocks until every goroutine it
// started has returned. It returns nil when every extracted record was
// transformed and every output loaded; otherwise the first error, wrapped as
// described in the package doc. Run may be called once; a second call
// returns [ErrAlreadyRun].
func (p *Pipeline[E, T]) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	r := newRun(p)
	p.m.Store(r.m)

	var err error
	if p.opts.hooks.Before != nil {
		if herr := try(func() error { return p.opts.hooks.Before(ctx) }); herr != nil {
			err = hookError("before hook", herr)
		}
	}
	if err == nil && r.ck != nil {
		r.m.resumedFrom, err = resume(ctx, p.src.(Positioner), p.opts.store, p.opts.job)
	}
	if err == nil {
		err = p.stages(ctx, r)
	}
	// The final save: after a failure too, the prefix is exact.
	err = errors.Join(err, r.commit.flush(context.WithoutCancel(ctx)))
	err = errors.Join(err, p.closeAll(context.WithoutCancel(ctx)))
	r.m.end.Store(time.Now().UnixNano())
	if p.opts.hooks.After != nil {
		st := r.m.snapshot()
		if herr := try(func() error { return p.opts.hooks.After(context.WithoutCancel(ctx), st, err) }); herr != nil {
			err = errors.Join(err, hookError("after hook", herr))
		}
	}
	return err
}

// closeAll closes the source, the sink and the dead-letter sink, each once
// if it is a Closer.
func (p *Pipeline[E, T]) closeAll(ctx context.Context) error {
	var errs []error
	for _, c := range []struct {
		what string
		v    any
	}{{"source", p.src}, {"sink", p.sink}, {"dead-letter sink", p.opts.dead}} {
		if cl, ok := c.v.(Closer); ok {
			if err := try(func() error { return cl.Close(ctx) }); err != nil {
				errs = append(errs, hookError("close "+c.what, err))
			}
		}
	}
	return errors.Join(errs...)
}

// cancelled is the error of a run whose caller cancelled it: how far it
// got, and the context's error.
func cancelled(parent context.Context, s Stats) error {
	msg := fmt.Sprintf("weir: run cancelled: %d records extracted, %d transformed, %d loaded",
		s.Extract.Records, s.Transform.In, s.Load.Records)
	if cause := context.Cause(parent); cause != parent.Err() {
		return fmt.Errorf("%s (cause: %v): %w", msg, cause, parent.Err())
	}
	return fmt.Errorf("%s: %w", msg, parent.Err())
}
