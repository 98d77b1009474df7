package weir

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// run is the state of one [Pipeline.Run]: the stages' shared parts, built
// when Run starts (before the Before hook, so that Stats works from the
// first instant) and read-only after, but for what is atomic or locked
// inside.
type run[E, T any] struct {
	p      *Pipeline[E, T]
	m      *metrics
	ck     *checkpointer // nil unless checkpointing
	commit committer[T]  // how the load stage makes a batch durable
	w      *writer[T]    // Sink.Write with the retry policy
	retry  retrier
	ctl    *controllers // nil unless Config.Adaptive
	// loaders is how many goroutines run a separate load stage (0: the
	// workers load).
	loaders int
	// every is how many batches each goroutine handles per timed one (see
	// sampler).
	every int
	// bs is the batch size the reader reads; the adaptive sizer moves it.
	bs    atomic.Int64
	epool *pool[E]
	tpool *pool[T]
	// stopHit: the reader ended because of Stop.
	stopHit atomic.Bool
}

func newRun[E, T any](p *Pipeline[E, T]) *run[E, T] {
	cfg := p.cfg
	r := &run[E, T]{p: p, m: &metrics{start: time.Now()}}
	r.m.extract.goroutines = 1
	r.m.transform.latIsBusy, r.m.load.latIsBusy = true, true
	r.m.transform.goroutines = cfg.Workers
	r.m.load.goroutines = cfg.LoadConcurrency
	if r.m.load.goroutines == 0 {
		r.m.load.goroutines = cfg.Workers
	}
	r.every = sampleEvery(cfg)
	if cfg.Memory > 0 {
		r.m.memory = MemoryStats{Budget: cfg.Memory, Batches: cfg.batchesInFlight(), BatchBytes: cfg.batchShare()}
	}
	r.retry = retrier{policy: cfg.Retry, retryable: p.opts.retryable}
	if p.opts.store != nil {
		r.ck = newCheckpointer(p.opts.store, p.opts.job, r.retry)
		r.m.ck = r.ck
	}
	r.w = &writer[T]{sink: p.sink, retry: r.retry, m: &r.m.load}
	if p.opts.exactlyOnce {
		r.commit = &exactlyOnce[T]{w: r.w, sink: p.sink.(CheckpointSink[T]), store: p.opts.store, job: p.opts.job, ck: r.ck}
	} else {
		r.commit = &plainCommit[T]{w: r.w, ck: r.ck}
	}
	r.ctl, _ = newControllers(cfg) // New checked the error
	r.bs.Store(int64(cfg.BatchSize))
	if r.ctl != nil {
		r.bs.Store(int64(r.ctl.sizer.Size()))
		r.ctl.batchSize = &r.bs
	}
	r.m.ctl = r.ctl

	// Enough slices for every batch that can be alive at once (see the
	// memory formula on Config), so steady state allocates nothing.
	r.loaders = cfg.LoadConcurrency
	startSize := cfg.BatchSize
	if r.ctl != nil {
		r.loaders = r.ctl.limiter.Max()
		startSize = r.ctl.sizer.Size()
	}
	slots := 2 + 2*cfg.QueueDepth + 2*cfg.Workers + r.loaders
	r.epool = newPool[E](startSize, slots, cfg.BatchSize)
	if p.tr.inPlace {
		r.tpool = any(r.epool).(*pool[T]) // E == T: batches travel on, and come back here
	} else {
		r.tpool = newPool[T](startSize, slots, cfg.BatchSize)
	}
	return r
}

// stages runs one run's stages and waits for all of their goroutines: the
// workers, the load stage when it is separate, the batcher's timer when a
// batch has to wait for it, and the committer's background saves when
// checkpointing. The reader runs on the calling goroutine, as conc's and
// errgroup's callers do their producing: one goroutine fewer to start, and
// to wake at the end, which is most of a small run's fixed cost.
func (p *Pipeline[E, T]) stages(parent context.Context, r *run[E, T]) error {
	cfg := p.cfg
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	fail := func(err error) {
		if err != nil {
			cancel(err)
		}
	}

	var wg, workers sync.WaitGroup
	batches := make(chan batch[E], cfg.QueueDepth)
	bt := newBatcher(ctx, batches, r.epool, r.m, p.size, cfg, &r.bs, p.opts.exactlyOnce, &wg)
	var loads chan batch[T]
	if r.loaders > 0 {
		loads = make(chan batch[T], cfg.QueueDepth)
	}

	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	p.stopMu.Lock()
	p.stopRead = stopRead
	if p.stopped {
		stopRead()
	}
	p.stopMu.Unlock()
	defer func() {
		p.stopMu.Lock()
		p.stopRead = nil
		p.stopMu.Unlock()
	}()

	if r.ck != nil {
		stopSaving := make(chan struct{})
		var saver sync.WaitGroup
		saver.Go(func() { fail(r.commit.loop(ctx, stopSaving)) })
		defer func() {
			close(stopSaving)
			saver.Wait()
		}()
	}
	for range cfg.Workers {
		workers.Go(func() { fail(r.work(ctx, batches, loads)) })
	}
	if loads != nil {
		wg.Go(func() {
			workers.Wait()
			close(loads)
		})
		for range r.loaders {
			wg.Go(func() { fail(r.loadLoop(ctx, loads)) })
		}
	}
	var srcErr error // the source's own failure: reported once the rest is loaded
	if err := r.read(ctx, readCtx, bt); sourceFailed(err) {
		srcErr = err
	} else {
		fail(err)
	}
	workers.Wait()
	wg.Wait()

	// Every record accounted for, after an aborted run too: a cheap check
	// that the engine itself lost, doubled or over-counted nothing.
	cause := context.Cause(ctx)
	r.m.aborted.Store(cause != nil)
	s := r.m.counts()
	acctErr := s.checkAccounting(cause == nil)
	if cause != nil {
		var se *StageError
		if !errors.As(cause, &se) && parent.Err() != nil {
			cause = cancelled(parent, s)
		}
		return joinErrs(srcErr, cause, acctErr)
	}
	if srcErr != nil || acctErr != nil {
		// After a source failure, every record read before it is loaded.
		return joinErrs(srcErr, acctErr)
	}
	if r.stopHit.Load() {
		return fmt.Errorf("weir: run stopped after %d records (every record read was loaded): %w", s.Extract.Records, ErrStopped)
	}
	return nil
}

// batch is the unit that travels between stages.
type batch[T any] struct {
	records []T
	seq     int64 // sequence number, from 0, in extract order
	first   int64 // extract position of the first source record it came from
	n       int   // how many source records it came from
	// aligned: records[i] came from source record first+i (a one-to-one
	// transform that skipped nothing), so a failing record has a position.
	aligned bool
	// pos is the source position after the batch's last record, when the
	// batch ends where a Read ended (nil otherwise, or when not
	// checkpointing).
	pos []byte
}

// pool is a bounded free list of batch slices. It is sized to the most
// batches that can be alive at once, so steady state allocates nothing.
type pool[T any] struct {
	free    chan []T
	size    int // capacity of a new slice
	maxSize int // the largest batch; slices much larger are not kept
}

// newPool returns a pool whose new slices hold size records; with adaptive
// batching size is the starting batch size and slices grow as batches do,
// up to maxSize.
func newPool[T any](size, slots, maxSize int) *pool[T] {
	return &pool[T]{free: make(chan []T, slots), size: size, maxSize: maxSize}
}

// get returns an empty slice with room for at least n records.
func (p *pool[T]) get(n int) []T {
	select {
	case s := <-p.free:
		if cap(s) >= n {
			return s
		}
	default:
	}
	return make([]T, 0, max(n, p.size))
}

func (p *pool[T]) put(s []T) {
	if cap(s) > 4*p.maxSize {
		return // an outsized FlatMap buffer: let it go rather than hoard it
	}
	clear(s) // drop references so pooled slices keep no garbage alive
	select {
	case p.free <- s[:0]:
	default:
	}
}

// sourceFailed reports whether the reader ended with the source's own
// failure (a *StageError of StageExtract) rather than a cancellation. Such
// a failure does not cancel the run: what was read before it is loaded
// first, so that the checkpoint lands exactly before the failing record.
func sourceFailed(err error) bool {
	var se *StageError
	return errors.As(err, &se) && se.Stage == StageExtract
}

// joinErrs is errors.Join, but returns a lone error as it is, so that a
// run's error keeps its type when nothing else went wrong.
func joinErrs(errs ...error) error {
	var only error
	n := 0
	for _, err := range errs {
		if err != nil {
			only, n = err, n+1
		}
	}
	if n <= 1 {
		return only
	}
	return errors.Join(errs...)
}
