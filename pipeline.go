package weir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-etl/weir/adapt"
)

// Hooks are the seed's pre- and post-process steps. Each runs exactly once
// per [Pipeline.Run], on the goroutine that called Run.
type Hooks struct {
	// Before runs before the first Read. If it fails, nothing is read, the
	// source and sink are still closed, After still runs, and Run returns
	// the error wrapped in a [*StageError] with Stage [StageHook].
	Before func(ctx context.Context) error
	// After runs once the run has ended and every goroutine has returned,
	// after failures and cancellation too. It is told the run's final stats
	// and error (nil on success). Its ctx is not cancelled with the run's.
	// An error it returns is joined to the run's.
	After func(ctx context.Context, st Stats, runErr error) error
}

// Pipeline is one Extract → Transform → Load job. Build it with [New],
// optionally set [Pipeline.WithHooks] and [Pipeline.WithSize], then call
// [Pipeline.Run] once. [Pipeline.Stats] may be called from any goroutine at
// any time.
type Pipeline[E, T any] struct {
	src   Source[E]
	tr    Transform[E, T]
	sink  Sink[T]
	cfg   Config // defaults applied
	hooks Hooks
	size  func(*E) int
	dead  Sink[Failure]
	store CheckpointStore
	job   string
	once  bool          // WithExactlyOnce
	ck    *checkpointer // this run's ack tracker, when checkpointing
	// retryable classifies errors for Config.Retry; defaultRetryable
	// unless WithRetryable replaced it.
	retryable func(error) bool

	noTiming bool // benchmarks only: measure the cost of timing and histograms
	started  atomic.Bool
	stopMu   sync.Mutex
	stopRead context.CancelFunc // ends the reader (Stop); nil outside Run
	stopped  bool
	stopHit  atomic.Bool // the reader ended because of Stop
	m        atomic.Pointer[metrics]
}

// New checks cfg and returns a pipeline ready to run. Errors name the
// offending argument or Config field.
func New[E, T any](src Source[E], tr Transform[E, T], sink Sink[T], cfg Config) (*Pipeline[E, T], error) {
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
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p := &Pipeline[E, T]{src: src, tr: tr, sink: sink, cfg: cfg.WithDefaults(), retryable: defaultRetryable}
	var probe *E
	if _, ok := any(probe).(Sizer); ok {
		// Asserting on *E (a pointer into the batch) allocates nothing,
		// and finds Size whether it has a value or pointer receiver.
		p.size = func(e *E) int { return any(e).(Sizer).Size() }
	}
	return p, nil
}

// Config returns the pipeline's configuration with defaults applied.
func (p *Pipeline[E, T]) Config() Config { return p.cfg }

// WithHooks sets the lifecycle hooks. It panics if the pipeline has started.
func (p *Pipeline[E, T]) WithHooks(h Hooks) *Pipeline[E, T] {
	p.mustNotBeStarted("WithHooks")
	p.hooks = h
	return p
}

// WithSize sets how to measure a record in bytes, for [Config.BatchBytes]
// and [StageStats.Bytes]; it overrides a [Sizer] method. It panics if the
// pipeline has started.
func (p *Pipeline[E, T]) WithSize(size func(E) int) *Pipeline[E, T] {
	p.mustNotBeStarted("WithSize")
	mustFunc("WithSize", size == nil)
	p.size = func(e *E) int { return size(*e) }
	return p
}

// WithDeadLetter sets where records go that fail under the [Skip] policy:
// one Write per batch of failures, from any worker (so dl must be safe for
// concurrent use). If a dead-letter Write fails, the run fails: a record is
// always either loaded or recorded. The run closes dl, if it is a [Closer],
// once, after the sink. It panics if the pipeline has started.
func (p *Pipeline[E, T]) WithDeadLetter(dl Sink[Failure]) *Pipeline[E, T] {
	p.mustNotBeStarted("WithDeadLetter")
	p.dead = dl
	return p
}

// WithCheckpoint makes the run resumable. Before the first read, the run
// loads job's position from store and seeks the source there (the source
// must implement [Positioner]); while it runs, it saves the position below
// which every batch is finished (loaded, filtered or dead-lettered) — a
// contiguous prefix, whatever order batches finish in. It saves once more
// when the run ends, also after a failure or cancellation, so rerunning the
// same job continues where the last run stopped. Batches finished after the
// prefix are loaded again on resume: pair checkpoints with an idempotent
// sink (an upsert) for exactly-once effect. It panics if the pipeline has
// started.
func (p *Pipeline[E, T]) WithCheckpoint(store CheckpointStore, job string) *Pipeline[E, T] {
	p.mustNotBeStarted("WithCheckpoint")
	if store == nil || job == "" {
		panic("weir: WithCheckpoint needs a store and a job name")
	}
	p.store, p.job = store, job
	return p
}

// WithExactlyOnce is [Pipeline.WithCheckpoint] for a sink that saves the
// position in the same transaction as each batch ([CheckpointSink]): a
// batch and the checkpoint after it commit together or not at all, so a run
// stopped at any instant (a crash, kill -9) and resumed loads every record
// exactly once, without needing an idempotent sink. store reads the
// position back (at start, and before retrying a write whose commit may
// have happened: if the position is already there, the write did commit).
//
// The price is order: each batch is one Read of the source, batches commit
// in sequence (a worker waits for the batch before its own), and loading
// happens on the workers (LoadConcurrency must be 0, Adaptive off), so the
// load stage runs one commit at a time. OnLoadError must be FailRun:
// bisecting a batch would commit parts without a position. It panics if the
// pipeline has started.
func (p *Pipeline[E, T]) WithExactlyOnce(store CheckpointStore, job string) *Pipeline[E, T] {
	p.WithCheckpoint(store, job)
	p.once = true
	return p
}

// WithRetryable sets which errors [Config.Retry] retries. The default
// retries an error only if something in its chain has a Retryable() or
// Temporary() method that returns true (see [Transient]); connectors offer
// classifiers for their drivers (postgres.Retryable). It panics if the
// pipeline has started.
func (p *Pipeline[E, T]) WithRetryable(retryable func(error) bool) *Pipeline[E, T] {
	p.mustNotBeStarted("WithRetryable")
	mustFunc("WithRetryable", retryable == nil)
	p.retryable = retryable
	return p
}

func (p *Pipeline[E, T]) mustNotBeStarted(method string) {
	if p.started.Load() {
		panic("weir: " + method + " called after Run")
	}
}

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
	m := &metrics{start: time.Now()}
	m.extract.goroutines = 1
	m.transform.latIsBusy, m.load.latIsBusy = true, true
	m.transform.goroutines = p.cfg.Workers
	m.load.goroutines = p.cfg.LoadConcurrency
	if m.load.goroutines == 0 {
		m.load.goroutines = p.cfg.Workers
	}
	p.m.Store(m)

	var err error
	switch {
	case p.once && !implements[CheckpointSink[T]](p.sink):
		err = errors.New("weir: WithExactlyOnce needs a sink that implements weir.CheckpointSink (saving the position in its own transaction)")
	case p.once && (p.cfg.LoadConcurrency != 0 || p.cfg.Adaptive || p.cfg.OnLoadError == Skip):
		err = errors.New("weir: WithExactlyOnce needs LoadConcurrency 0, Adaptive off and OnLoadError FailRun: batches commit in order on the workers")
	case (p.cfg.OnTransformError == Skip || p.cfg.OnLoadError == Skip) && p.dead == nil:
		err = errors.New("weir: an error policy is Skip but there is no dead-letter sink: call WithDeadLetter")
	case p.cfg.BatchBytes > 0 && p.size == nil:
		err = errors.New("weir: Config.BatchBytes is set but record sizes are unknown: implement weir.Sizer on the record type or call WithSize")
	case p.hooks.Before != nil:
		if herr := callRecover(func() error { return p.hooks.Before(ctx) }); herr != nil {
			err = &StageError{Stage: StageHook, Batch: -1, Record: -1, Err: fmt.Errorf("before hook: %w", herr)}
		}
	}
	if err == nil && p.store != nil {
		m.resumedFrom, err = resume(ctx, p.src, p.store, p.job)
		p.ck = newCheckpointer(p.store, p.job)
		p.ck.inTx = p.once
		m.ck = p.ck
	}
	if err == nil {
		err = p.stages(ctx, m)
	}
	if p.ck != nil {
		// The final save: after a failure too, the prefix is exact.
		err = errors.Join(err, p.ck.save(context.WithoutCancel(ctx)))
	}
	err = errors.Join(err, p.closeAll(context.WithoutCancel(ctx)))
	m.end.Store(time.Now().UnixNano())
	if p.hooks.After != nil {
		st := m.snapshot()
		if herr := callRecover(func() error { return p.hooks.After(context.WithoutCancel(ctx), st, err) }); herr != nil {
			err = errors.Join(err, &StageError{Stage: StageHook, Batch: -1, Record: -1, Err: fmt.Errorf("after hook: %w", herr)})
		}
	}
	return err
}

// closeAll closes the source, then the sink, each once if it is a Closer.
func (p *Pipeline[E, T]) closeAll(ctx context.Context) error {
	var errs []error
	for _, c := range []struct {
		what string
		v    any
	}{{"source", p.src}, {"sink", p.sink}, {"dead-letter sink", p.dead}} {
		if cl, ok := c.v.(Closer); ok {
			if err := callRecover(func() error { return cl.Close(ctx) }); err != nil {
				errs = append(errs, &StageError{Stage: StageHook, Batch: -1, Record: -1, Err: fmt.Errorf("close %s: %w", c.what, err)})
			}
		}
	}
	return errors.Join(errs...)
}

// batch is the unit that travels between stages.
type batch[T any] struct {
	items []T
	seq   int64 // sequence number, from 0, in extract order
	first int64 // extract position of the first source record it came from
	n     int   // how many source records it came from
	// aligned: items[i] came from source record first+i (a one-to-one
	// transform that skipped nothing), so a failing item has a position.
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
	size    int
	maxSize int
}

// newPool returns a pool whose new slices hold size records; with adaptive
// batching size is the starting batch size and slices grow as batches do.
func newPool[T any](size, slots int) *pool[T] {
	return &pool[T]{free: make(chan []T, slots), size: size, maxSize: size}
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

// stages runs the goroutines of one run and waits for all of them.
func (p *Pipeline[E, T]) stages(parent context.Context, m *metrics) error {
	cfg := p.cfg
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	fail := func(err error) {
		if err != nil {
			cancel(err)
		}
	}

	ctl, err := newControllers(cfg)
	if err != nil {
		return err
	}
	m.ctl = ctl
	loaders := cfg.LoadConcurrency
	if ctl != nil {
		loaders = ctl.limiter.Max()
	}
	slots := 2 + 2*cfg.QueueDepth + 2*cfg.Workers + loaders
	startSize := cfg.BatchSize
	if ctl != nil {
		startSize = ctl.sizer.Size()
	}
	epool := newPool[E](startSize, slots)
	epool.maxSize = cfg.BatchSize
	var tpool *pool[T]
	if p.tr.inPlace {
		tpool = any(epool).(*pool[T]) // E == T: batches travel on, and come back here
	} else {
		tpool = newPool[T](startSize, slots)
		tpool.maxSize = cfg.BatchSize
	}

	batches := make(chan batch[E], cfg.QueueDepth)
	bt := &batcher[E]{
		ctx: ctx, out: batches, pool: epool, m: m, size: p.size,
		maxBytes: cfg.BatchBytes, interval: cfg.FlushInterval,
		timing: !p.noTiming, timer: time.NewTimer(time.Hour), stop: make(chan struct{}),
		last: time.Now(),
	}
	bt.timer.Stop()
	bt.perRead = p.once
	bt.bs.Store(int64(startSize))
	if ctl != nil {
		ctl.batchSize = &bt.bs
	}
	var loads chan batch[T]
	if loaders > 0 {
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

	var wg, workers sync.WaitGroup
	wg.Go(func() { fail(p.read(ctx, readCtx, m, bt)) })
	wg.Go(bt.timerLoop)
	stopCk := make(chan struct{})
	var ckLoop sync.WaitGroup
	if p.ck != nil {
		ckLoop.Go(func() { fail(p.ck.loop(ctx, stopCk)) })
	}
	defer func() {
		close(stopCk)
		ckLoop.Wait()
	}()
	for range cfg.Workers {
		workers.Go(func() { fail(p.work(ctx, m, batches, loads, epool, tpool)) })
	}
	if loads != nil {
		wg.Go(func() {
			workers.Wait()
			close(loads)
		})
		for range loaders {
			wg.Go(func() { fail(p.loadLoop(ctx, m, loads, tpool)) })
		}
	}
	workers.Wait()
	wg.Wait()

	if err := context.Cause(ctx); err != nil {
		var se *StageError
		if errors.As(err, &se) || parent.Err() == nil {
			return err
		}
		s := m.snapshot()
		msg := fmt.Sprintf("weir: run cancelled: %d records extracted, %d transformed, %d loaded",
			s.Extract.Records, s.Transform.In, s.Load.Records)
		if cause := context.Cause(parent); cause != parent.Err() {
			return fmt.Errorf("%s (cause: %v): %w", msg, cause, parent.Err())
		}
		return fmt.Errorf("%s: %w", msg, parent.Err())
	}
	// Every record accounted for: a cheap check that the engine itself
	// lost or doubled nothing.
	s := m.snapshot()
	if err := s.CheckAccounting(); err != nil {
		return err
	}
	if p.stopHit.Load() {
		return fmt.Errorf("weir: run stopped after %d records (every record read was loaded): %w", s.Extract.Records, ErrStopped)
	}
	return nil
}

// read is the extract stage: one goroutine calling Source.Read into pooled
// buffers of BatchSize and adding each chunk to the batcher, which runs on
// this goroutine too (except for timer flushes, see [batcher]).
// readCtx is ctx, or a child of it that Stop cancels: then the reader ends
// as at the end of input, flushing what it has.
func (p *Pipeline[E, T]) read(ctx, readCtx context.Context, m *metrics, bt *batcher[E]) error {
	defer bt.finish()
	var pos int64
	failures, failedSince := 0, time.Time{} // consecutive failed reads
	for {
		bs := int(bt.bs.Load())
		buf := bt.pool.get(bs)[:bs]
		var t0 time.Time
		if !p.noTiming {
			t0 = time.Now()
		}
		n, err := p.safeRead(readCtx, buf)
		if readCtx.Err() != nil && ctx.Err() == nil {
			// Stop: keep what this Read returned, then end like io.EOF.
			err = io.EOF
			p.stopHit.Store(true)
		}
		var t1 time.Time
		if !p.noTiming {
			t1 = time.Now()
			m.extract.busy.Add(int64(t1.Sub(t0)))
		}
		if n < 0 || n > bs {
			m.extract.errors.Add(1)
			return &StageError{Stage: StageExtract, Batch: -1, First: pos, Record: -1,
				Err: fmt.Errorf("source returned %d records for a buffer of %d", n, bs)}
		}
		if n > 0 {
			m.extract.records.Add(int64(n))
			pos += int64(n)
			var spos []byte
			if p.ck != nil {
				var perr error
				if spos, perr = p.src.(Positioner).Position(); perr != nil {
					m.extract.errors.Add(1)
					return &StageError{Stage: StageExtract, Batch: -1, First: pos, Record: -1, Err: fmt.Errorf("source position: %w", perr)}
				}
			}
			if !bt.add(buf[:n], t1, spos) {
				return ctx.Err()
			}
		} else {
			bt.pool.put(buf[:0])
		}
		if err == nil || n > 0 {
			failures, failedSince = 0, time.Time{}
		}
		switch {
		case err == io.EOF:
			if !bt.flush() {
				return ctx.Err()
			}
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err() // the source saw the run being cancelled
		case err != nil && p.retryRead(ctx, m, err, &failures, &failedSince):
			continue
		case err != nil:
			m.extract.errors.Add(1)
			return &StageError{Stage: StageExtract, Batch: -1, First: pos, Record: -1, Err: err}
		case n == 0 && ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// retryRead decides whether a failed Read is tried again and, if so, waits
// the backoff. Sources must allow a Read after a failed one (the keyset
// sources of package connect re-fetch their page).
func (p *Pipeline[E, T]) retryRead(ctx context.Context, m *metrics, err error, failures *int, since *time.Time) bool {
	*failures++
	if since.IsZero() {
		*since = time.Now()
	}
	r := p.retrier()
	if *failures >= p.cfg.Retry.MaxAttempts || !r.retryable(err) || !r.wait(ctx, *failures, *since) {
		return false
	}
	m.extract.retries.Add(1)
	return true
}

func (p *Pipeline[E, T]) safeRead(ctx context.Context, buf []E) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return p.src.Read(ctx, buf)
}

// batcher closes batches by size, bytes and time. The reader goroutine calls
// add and flush; the timer flush runs on a goroutine of its own (timerLoop),
// because a Read may block while a partial batch waits. A mutex orders the
// two, so batch numbers follow extract order and a batch is sent once.
//
// A full chunk arriving when no batch is open (and no byte limit applies)
// is sent as it is: no copy, and no hand-off to another goroutine. That is
// the common case for a fast source, and it keeps the extract stage at one
// channel operation per batch.
type batcher[E any] struct {
	ctx      context.Context
	out      chan<- batch[E]
	pool     *pool[E]
	m        *metrics
	size     func(*E) int
	bs       atomic.Int64 // batch size; changes when batching is adaptive
	perRead  bool         // each Read's records are one batch (exactly-once mode)
	maxBytes int64
	interval time.Duration
	timing   bool
	timer    *time.Timer
	stop     chan struct{}

	mu       sync.Mutex
	cur      []E
	curBytes int64
	curPos   []byte    // source position if cur ends where a Read ended
	deadline time.Time // when the open batch must close
	seq, pos int64
	last     time.Time // when the previous batch closed (extract latency)
	closed   bool
}

// add takes ownership of chunk. It returns false once the run is cancelled.
// now is the reader's clock reading, reused so that closing a batch costs
// no clock read of its own.
func (b *batcher[E]) add(chunk []E, now time.Time, pos []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	bs := int(b.bs.Load())
	if b.perRead || len(b.cur) == 0 && len(chunk) == bs && b.maxBytes == 0 {
		var bytes int64
		if b.size != nil {
			for i := range chunk {
				bytes += int64(b.size(&chunk[i]))
			}
		}
		return b.emit(chunk, bytes, now, pos)
	}
	for i := range chunk {
		if b.cur == nil {
			b.cur = b.pool.get(bs)
			b.deadline = time.Now().Add(b.interval)
			b.timer.Reset(b.interval)
		}
		b.cur = append(b.cur, chunk[i])
		b.curPos = nil
		if i == len(chunk)-1 {
			b.curPos = pos // the open batch ends where this Read ended
		}
		if b.size != nil {
			b.curBytes += int64(b.size(&chunk[i]))
		}
		if len(b.cur) >= bs || (b.maxBytes > 0 && b.curBytes >= b.maxBytes) {
			if !b.emitCur(now) {
				return false
			}
		}
	}
	b.pool.put(chunk)
	return true
}

// flush sends the open batch, if any (the source has ended).
func (b *batcher[E]) flush() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.cur) == 0 || b.emitCur(time.Time{})
}

// emitCur sends the open batch. Callers hold mu.
func (b *batcher[E]) emitCur(now time.Time) bool {
	b.timer.Stop()
	items, bytes, pos := b.cur, b.curBytes, b.curPos
	b.cur, b.curBytes, b.curPos = nil, 0, nil
	return b.emit(items, bytes, now, pos)
}

// emit numbers and sends one batch. Callers hold mu, so a timer flush
// waits while the reader is blocked on a full queue; both give up when the
// run is cancelled.
func (b *batcher[E]) emit(items []E, bytes int64, now time.Time, pos []byte) bool {
	select {
	case b.out <- batch[E]{items: items, seq: b.seq, first: b.pos, n: len(items), pos: pos}:
	case <-b.ctx.Done():
		return false
	}
	b.seq++
	b.pos += int64(len(items))
	b.m.extract.batches.Add(1)
	b.m.extract.bytes.Add(bytes)
	if b.timing {
		if now.IsZero() {
			now = time.Now()
		}
		b.m.extract.lat.Record(now.Sub(b.last))
		b.last = now
	}
	return true
}

// timerLoop flushes the open batch when its interval has passed. A timer
// that fires for a batch already closed by size finds a later deadline (or
// no open batch) and does nothing.
func (b *batcher[E]) timerLoop() {
	for {
		select {
		case <-b.timer.C:
			b.mu.Lock()
			if !b.closed && len(b.cur) > 0 && !time.Now().Before(b.deadline) {
				b.emitCur(time.Time{})
			}
			b.mu.Unlock()
		case <-b.stop:
			return
		case <-b.ctx.Done():
			return
		}
	}
}

// finish closes the batch queue and stops the timer loop. The reader calls
// it once, on every path out.
func (b *batcher[E]) finish() {
	b.mu.Lock()
	b.closed = true
	b.timer.Stop()
	close(b.out)
	b.mu.Unlock()
	close(b.stop)
}

// work is one transform worker. With LoadConcurrency 0 it also loads what
// it transformed; otherwise it hands batches to the load stage.
func (p *Pipeline[E, T]) work(ctx context.Context, m *metrics, in <-chan batch[E], loads chan<- batch[T], epool *pool[E], tpool *pool[T]) error {
	opts := applyOpts{conc: p.cfg.TransformConcurrency}
	if p.cfg.OnTransformError == Skip {
		opts.skip = &skipper{}
	}
	var last time.Time // when this worker finished its previous batch
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
		var out []T
		if !p.tr.inPlace {
			out = tpool.get(len(b.items))
		}
		t0 := last
		if !p.noTiming && t0.IsZero() {
			t0 = time.Now()
		}
		if opts.skip != nil {
			opts.skip.reset()
		}
		res, err := p.safeTransform(ctx, b.items, out, opts)
		var t1 time.Time
		if !p.noTiming {
			t1 = time.Now()
			m.transform.lat.Record(t1.Sub(t0))
		}
		m.transform.in.Add(int64(len(b.items)))
		if err != nil && opts.skip != nil && ctx.Err() == nil {
			// A failure the transform could not pin on one record (a
			// MapBatch error, a panic outside the per-record calls): under
			// Skip the whole batch goes to the dead-letter sink.
			for i := range b.items {
				opts.skip.add(b.items[i], i, err)
			}
			res, err = out[:0], nil
		}
		if err != nil {
			m.transform.errors.Add(1)
			return p.stageErr(StageTransform, b.seq, b.first, b.n, err)
		}
		if opts.skip != nil && len(opts.skip.failed) > 0 {
			fails := make([]Failure, len(opts.skip.failed))
			for i, f := range opts.skip.failed {
				pos := int64(-1)
				if f.index >= 0 && f.index < b.n {
					pos = b.first + int64(f.index)
				}
				fails[i] = Failure{Stage: "transform", Item: f.item, Error: f.err.Error(), Attempts: 1, Position: pos, Batch: b.seq}
			}
			if err := p.deadLetter(ctx, &m.transform, StageTransform, b.seq, b.first, b.n, fails); err != nil {
				return err
			}
		}
		m.transform.records.Add(int64(len(res)))
		m.transform.batches.Add(1)
		if !p.tr.inPlace {
			epool.put(b.items)
		}
		if len(res) == 0 {
			tpool.put(res)
			if p.ck != nil {
				if p.once {
					// Nothing to load, but the position still moves, in
					// order, in the sink's transaction.
					if err := p.ck.waitTurn(ctx, b.seq); err != nil {
						return err
					}
					if err := p.sink.(CheckpointSink[T]).WriteCheckpoint(ctx, nil, p.job, b.pos); err != nil {
						return p.stageErr(StageLoad, b.seq, b.first, b.n, fmt.Errorf("save checkpoint: %w", err))
					}
				}
				p.ck.finish(b.seq, b.pos)
			}
			continue
		}
		ob := batch[T]{items: res, seq: b.seq, first: b.first, n: b.n, pos: b.pos,
			aligned: p.tr.oneToOne && (opts.skip == nil || len(opts.skip.failed) == 0)}
		if loads == nil {
			end, err := p.load(ctx, m, ob, tpool, t1)
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

func (p *Pipeline[E, T]) safeTransform(ctx context.Context, in []E, out []T, o applyOpts) (res []T, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return p.tr.apply(ctx, in, out, o)
}

func (p *Pipeline[E, T]) loadLoop(ctx context.Context, m *metrics, loads <-chan batch[T], tpool *pool[T]) error {
	for {
		select {
		case b, ok := <-loads:
			if !ok {
				return nil
			}
			if _, err := p.load(ctx, m, b, tpool, time.Time{}); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// load writes one batch. start is when the write begins if the caller has
// just read the clock (zero otherwise): one clock read saved per batch. It
// returns when the write ended (zero when not timing).
func (p *Pipeline[E, T]) load(ctx context.Context, m *metrics, b batch[T], tpool *pool[T], start time.Time) (time.Time, error) {
	ctl := m.ctl
	var tok adapt.Token
	if ctl != nil {
		var err error
		if tok, err = ctl.limiter.Acquire(ctx); err != nil {
			return time.Time{}, err
		}
		start = time.Now() // the round trip starts now, not before the wait
	} else if !p.noTiming && start.IsZero() {
		start = time.Now()
	}
	var attempts int
	var err error
	if p.once {
		attempts, err = p.writeOnce(ctx, m, b)
	} else {
		attempts, err = p.write(ctx, m, b.items)
	}
	var end time.Time
	if !p.noTiming || ctl != nil {
		end = time.Now()
		d := end.Sub(start)
		m.load.lat.Record(d)
		if ctl != nil {
			// A retried write's time is mostly backoff: it says nothing
			// about the cost of a batch.
			observed := d
			if attempts > 1 {
				observed = 0
			}
			ctl.observe(tok, len(b.items), b.n, observed, err)
		}
	}
	m.load.in.Add(int64(len(b.items)))
	switch {
	case err == nil:
		m.load.records.Add(int64(len(b.items)))
	case p.cfg.OnLoadError == Skip && ctx.Err() == nil:
		if err := p.bisect(ctx, m, b, b.items, 0, attempts, err); err != nil {
			return end, err
		}
	default:
		m.load.errors.Add(1)
		if attempts > 1 {
			err = fmt.Errorf("after %d attempts: %w", attempts, err)
		}
		return end, p.stageErr(StageLoad, b.seq, b.first, b.n, err)
	}
	m.load.batches.Add(1)
	if p.ck != nil {
		p.ck.finish(b.seq, b.pos)
	}
	tpool.put(b.items)
	return end, nil
}

// writeOnce writes batch b and its position in one transaction, in batch
// order. A retried write first asks the store whether the previous attempt
// committed after all (its position is there): then it is done.
func (p *Pipeline[E, T]) writeOnce(ctx context.Context, m *metrics, b batch[T]) (int, error) {
	if err := p.ck.waitTurn(ctx, b.seq); err != nil {
		return 1, err
	}
	cs := p.sink.(CheckpointSink[T])
	tries := 0
	op := func() error {
		tries++
		if tries > 1 {
			if cur, err := p.store.Load(ctx, p.job); err == nil && bytes.Equal(cur, b.pos) {
				return nil
			}
		}
		return callRecover(func() error { return cs.WriteCheckpoint(ctx, b.items, p.job, b.pos) })
	}
	if p.cfg.Retry.MaxAttempts <= 1 {
		return 1, op()
	}
	attempts, err := p.retrier().do(ctx, op)
	m.load.retries.Add(int64(attempts - 1))
	return attempts, err
}

// write calls Sink.Write with the retry policy; it returns the attempts made.
func (p *Pipeline[E, T]) write(ctx context.Context, m *metrics, items []T) (int, error) {
	if p.cfg.Retry.MaxAttempts <= 1 {
		return 1, p.safeWrite(ctx, items)
	}
	attempts, err := p.retrier().do(ctx, func() error { return p.safeWrite(ctx, items) })
	m.load.retries.Add(int64(attempts - 1))
	return attempts, err
}

func (p *Pipeline[E, T]) retrier() retrier {
	return retrier{policy: p.cfg.Retry, retryable: p.retryable}
}

// bisect isolates the records of items (at offset off in batch b) that a
// write refuses: it writes each half on its own, recursively, and
// dead-letters the single records that still fail. Rounds: log2(len).
func (p *Pipeline[E, T]) bisect(ctx context.Context, m *metrics, b batch[T], items []T, off, attempts int, cause error) error {
	if len(items) == 1 {
		pos := int64(-1)
		if b.aligned {
			pos = b.first + int64(off)
		}
		f := Failure{Stage: "load", Item: items[0], Error: cause.Error(), Attempts: attempts, Position: pos, Batch: b.seq}
		return p.deadLetter(ctx, &m.load, StageLoad, b.seq, b.first, b.n, []Failure{f})
	}
	mid := len(items) / 2
	for _, h := range []struct {
		items []T
		off   int
	}{{items[:mid], off}, {items[mid:], off + mid}} {
		n, err := p.write(ctx, m, h.items)
		switch {
		case err == nil:
			m.load.records.Add(int64(len(h.items)))
		case ctx.Err() != nil:
			return p.stageErr(StageLoad, b.seq, b.first, b.n, err)
		default:
			if err := p.bisect(ctx, m, b, h.items, h.off, n, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// deadLetter hands failures to the dead-letter sink. If that fails too, the
// run fails: a record must be either loaded or recorded as failed.
func (p *Pipeline[E, T]) deadLetter(ctx context.Context, sm *stageMetrics, st Stage, seq, first int64, n int, fails []Failure) error {
	err := callRecover(func() error { return p.dead.Write(ctx, fails) })
	if err != nil {
		sm.errors.Add(1)
		return p.stageErr(st, seq, first, n, fmt.Errorf("dead-letter %d records: %w", len(fails), err))
	}
	sm.deadLettered.Add(int64(len(fails)))
	return nil
}

func (p *Pipeline[E, T]) safeWrite(ctx context.Context, items []T) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return p.sink.Write(ctx, items)
}

// stageErr wraps err with where it happened. A record index in err (an
// [ItemError], also from a sink) becomes an extract position when the index
// counts the batch's source records: always for the transform stage, and
// for the load stage when the transform maps records one to one.
func (p *Pipeline[E, T]) stageErr(st Stage, seq, first int64, n int, err error) error {
	se := &StageError{Stage: st, Batch: seq, First: first, Count: n, Record: -1, Err: err}
	var ie *ItemError
	if errors.As(err, &ie) && ie.Index >= 0 && ie.Index < n && (st == StageTransform || p.tr.oneToOne) {
		se.Record = first + int64(ie.Index)
		if ie == err {
			se.Err = ie.Err // the message says "record N" already
		}
	}
	return se
}

// controllers are the adaptive batch sizer and load limiter of a run with
// [Config.Adaptive] set.
type controllers struct {
	sizer     *adapt.BatchSizer
	limiter   *adapt.Limiter
	batchSize *atomic.Int64 // the batcher's size, set by observe
}

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

func implements[I any](v any) bool {
	_, ok := v.(I)
	return ok
}
