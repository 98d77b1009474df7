package weir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// read is the extract stage: one goroutine calling Source.Read into pooled
// buffers of the batch size and adding each chunk to the batcher, which
// runs on this goroutine too (except for timer flushes, see [batcher]).
// readCtx is ctx, or a child of it that Stop cancels: then the reader ends
// as at the end of input, flushing what it has.
//
// A source that fails for good (an error that is not retried) ends the
// reader the same way: the records read before the error are flushed to
// the workers, and the error, a *StageError of StageExtract, is returned
// for stages to report once they are loaded (see sourceFailed). A
// [BadRecordError] under the Skip policy does not end it: see reject.
func (r *run[E, T]) read(ctx, readCtx context.Context, bt *batcher[E]) error {
	defer bt.finish()
	m := &r.m.extract
	smp := newSampler(r.every, m)
	defer smp.done()
	skip := r.p.cfg.OnTransformError == Skip
	var pos int64
	failures, failedSince := 0, time.Time{} // consecutive failed reads
	// rejected: a bad record was dead-lettered since the last position
	// taken, so the source's position may move with no record.
	rejected := false
	lastBad := "" // the last rejected record's position, if no record came after it
	for {
		bs := int(bt.bs.Load())
		buf := bt.pool.get(bs)[:bt.readLen(bs)]
		timed := smp.tick()
		var t0, t1 time.Time
		if timed {
			t0 = clock()
		}
		var n int
		err := try(func() (err error) {
			n, err = r.p.src.Read(readCtx, buf)
			return err
		})
		bad := badRecord(err)
		if readCtx.Err() != nil && ctx.Err() == nil && bad == nil {
			// Stop: keep what this Read returned, then end like io.EOF.
			err = io.EOF
			r.stopHit.Store(true)
		}
		if timed {
			t1 = clock()
			m.addBusy(t0, t1)
		}
		if n < 0 || n > len(buf) {
			m.errors.Add(1)
			bt.flush()
			return extractError(pos, fmt.Errorf("source returned %d records for a buffer of %d", n, len(buf)))
		}
		var total int64 // the records' bytes, under a memory budget
		if bt.limit > 0 && n > 0 {
			var over int
			if total, over = bt.measure(buf[:n]); over >= 0 {
				return r.tooLarge(ctx, bt, buf[:n], over, pos)
			}
		}
		if n > 0 || rejected {
			var spos []byte
			if r.ck != nil {
				var perr error
				if spos, perr = r.p.src.(Positioner).Position(); perr != nil {
					// Records without a position cannot be checkpointed:
					// they are not counted as read, and a resumed run
					// reads them again.
					m.errors.Add(1)
					bt.pool.put(buf[:0])
					bt.flush()
					return extractError(pos, fmt.Errorf("source position: %w", perr))
				}
			}
			rejected = false
			if n > 0 {
				m.records.Add(int64(n))
				pos += int64(n)
				// At io.EOF the reader flushes next: no timer is needed.
				if !bt.add(buf[:n], total, t0, t1, spos, err == io.EOF) {
					return ctx.Err()
				}
			} else {
				bt.pool.put(buf[:0])
				bt.advance(spos) // past the rejected records
			}
		} else {
			bt.pool.put(buf[:0])
		}
		if err == nil || n > 0 {
			failures, failedSince = 0, time.Time{}
		}
		if n > 0 {
			lastBad = ""
		}
		if bad != nil && skip && ctx.Err() == nil {
			if bad.Pos != "" && bad.Pos == lastBad {
				// The source did not move past it: skipping would loop.
				m.errors.Add(1)
				bt.flush()
				return extractError(pos, fmt.Errorf("the source returned the bad record %s twice (a source must move past a record it rejects): %w", bad.Pos, bad))
			}
			lastBad = bad.Pos
			if err := r.reject(ctx, pos, bad); err != nil {
				bt.flush()
				return err
			}
			rejected = true
			if readCtx.Err() != nil {
				r.stopHit.Store(true)
				err = io.EOF // Stop: the bad record is handled, end here
			} else {
				continue
			}
		}
		switch {
		case err == io.EOF:
			if !bt.flush() {
				return ctx.Err()
			}
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err() // the source saw the run being cancelled
		case err != nil && bad == nil && r.retryRead(ctx, err, &failures, &failedSince):
			continue // a bad record is not retried: the source is past it
		case err != nil:
			m.errors.Add(1)
			bt.flush()
			return extractError(pos, err)
		case n == 0 && ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// badRecord returns the [BadRecordError] in err's chain, or nil. It is a
// function of its own so that the reader's loop allocates nothing for it
// (errors.As makes its target escape).
func badRecord(err error) *BadRecordError {
	if err == nil || err == io.EOF {
		return nil
	}
	var bad *BadRecordError
	if errors.As(err, &bad) {
		return bad
	}
	return nil
}

// reject hands a record the source could not read to the dead-letter
// sink, on the reader's goroutine, before the next Read: so the position
// that first counts the record past (see [BadRecordError]) is only taken
// once the record is recorded. pos is how many records were read before
// it. If the dead-letter sink fails, the source's failure is that error.
func (r *run[E, T]) reject(ctx context.Context, pos int64, bad *BadRecordError) error {
	m := &r.m.extract
	f := Failure{Stage: StageExtract, Error: bad.Error(), Attempts: 1, Position: -1, Batch: -1, Source: bad.Pos}
	if bad.Raw != nil {
		f.Record = string(bad.Raw)
	}
	err := try(func() error { return r.p.opts.dead.Write(ctx, []Failure{f}) })
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		m.errors.Add(1)
		return extractError(pos, fmt.Errorf("dead-letter the bad record %s: %w", bad.Pos, err))
	}
	m.deadLettered.Add(1)
	return nil
}

// retryRead decides whether a failed Read is tried again and, if so, waits
// the backoff. Sources must allow a Read after a failed one (the keyset
// sources of package connect re-fetch their page).
func (r *run[E, T]) retryRead(ctx context.Context, err error, failures *int, since *time.Time) bool {
	*failures++
	if since.IsZero() {
		*since = time.Now()
	}
	if *failures >= r.retry.policy.MaxAttempts || !r.retry.retryable(err) || !r.retry.wait(ctx, *failures, *since) {
		return false
	}
	r.m.extract.retries.Add(1)
	return true
}

// batcher closes batches by size, bytes and time. The reader goroutine calls
// add and flush; the timer flush runs on a goroutine of its own (timerLoop),
// because a Read may block while a partial batch waits. A mutex orders the
// two, so batch numbers follow extract order and a batch is sent once.
//
// A full chunk arriving when no batch is open (and no byte limit applies)
// is sent as it is: no copy, and no hand-off to another goroutine. That is
// the common case for a fast source, and it keeps the extract stage at one
// channel operation per batch. The timer and its goroutine are only made
// when a batch first stays open after a Read (a source returning partial
// chunks), so a run of full chunks starts neither.
type batcher[E any] struct {
	ctx      context.Context
	out      chan<- batch[E]
	pool     *pool[E]
	m        *stageMetrics
	size     func(*E) int
	bs       *atomic.Int64 // batch size; changes when batching is adaptive
	perRead  bool          // each Read's records are one batch (exactly-once mode)
	maxBytes int64
	// limit is the most bytes a batch may hold under Config.Memory (0:
	// no budget); the reader measures each chunk into sizes, keeps the
	// largest record's size (-1 until one is measured, published to
	// largestOut for Stats) and asks each Read for want records.
	limit      int64
	sizes      []int64
	largest    int64
	largestOut *atomic.Int64
	want       int
	interval   time.Duration
	loops      *sync.WaitGroup // the run's: it waits for timerLoop
	stop       chan struct{}

	mu       sync.Mutex
	timer    *time.Timer // nil until a batch first stays open
	armed    bool        // the timer runs for the open batch
	cur      []E
	curBytes int64
	curPos   []byte // source position if cur ends where a Read ended
	// moved is a source position past rejected records, when no batch was
	// open to carry it; flush sends it on as a batch of no records.
	moved    []byte
	opened   time.Time // when the open batch got its first record
	seq, pos int64
	closed   bool
}

func newBatcher[E any](ctx context.Context, out chan<- batch[E], pool *pool[E], m *metrics, size func(*E) int, cfg Config, bs *atomic.Int64, perRead bool, loops *sync.WaitGroup) *batcher[E] {
	return &batcher[E]{
		ctx: ctx, out: out, pool: pool, m: &m.extract, size: size, bs: bs, perRead: perRead,
		maxBytes: cfg.BatchBytes, limit: cfg.batchShare(), largest: -1, largestOut: &m.largest,
		interval: cfg.FlushInterval, loops: loops, stop: make(chan struct{}),
	}
}

// add takes ownership of chunk. It returns false once the run is cancelled.
// start and now are the reader's clock readings around the Read that
// returned chunk, zero when that Read was not timed; they time a batch
// made of the whole chunk, at no clock read of its own. total is the
// chunk's bytes as measured under a memory budget. final says the
// reader flushes right after (the source ended), so a batch left open
// needs no timer.
func (b *batcher[E]) add(chunk []E, total int64, start, now time.Time, pos []byte, final bool) bool {
	if b.limit > 0 {
		return b.addSized(chunk, total, start, now, pos, final)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bs := int(b.bs.Load())
	b.moved = nil // these records' positions come later in the source
	if b.perRead || len(b.cur) == 0 && len(chunk) == bs && b.maxBytes == 0 {
		var bytes int64
		if b.size != nil {
			for i := range chunk {
				bytes += int64(b.size(&chunk[i]))
			}
		}
		return b.emit(chunk, bytes, start, now, pos)
	}
	for i := range chunk {
		if b.cur == nil {
			b.cur = b.pool.get(bs)
			b.opened = time.Now()
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
	if len(b.cur) > 0 && !final {
		b.arm()
	}
	return true
}

// arm starts the timer for the open batch, making it and its goroutine
// the first time. Callers hold mu.
func (b *batcher[E]) arm() {
	if b.armed {
		return
	}
	b.armed = true
	d := time.Until(b.opened.Add(b.interval))
	if b.timer == nil {
		b.timer = time.NewTimer(d)
		b.loops.Go(b.timerLoop)
		return
	}
	b.timer.Reset(d)
}

// advance records that the source moved to pos without a record (past
// records it rejected): the open batch now ends there, or, with none open,
// the position waits for flush. A nil pos (not checkpointing) is ignored.
func (b *batcher[E]) advance(pos []byte) {
	if pos == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cur) > 0 {
		b.curPos = pos
		return
	}
	b.moved = pos
}

// flush sends the open batch, if any (the source has ended). With none
// open, a position the source moved to past rejected records goes as a
// batch of no records, so that the checkpoint passes them too: a resumed
// run does not read them again.
func (b *batcher[E]) flush() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cur) == 0 {
		if moved := b.moved; moved != nil {
			b.moved = nil
			return b.emit(nil, 0, time.Time{}, time.Time{}, moved)
		}
		return true
	}
	return b.emitCur(time.Time{})
}

// emitCur sends the open batch. Callers hold mu.
func (b *batcher[E]) emitCur(now time.Time) bool {
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
	records, bytes, pos := b.cur, b.curBytes, b.curPos
	b.cur, b.curBytes, b.curPos = nil, 0, nil
	return b.emit(records, bytes, b.opened, now, pos)
}

// emit numbers and sends one batch, and records its latency from start to
// now (read afresh if zero) when start is set. Callers hold mu, so a timer
// flush waits while the reader is blocked on a full queue; both give up
// when the run is cancelled.
func (b *batcher[E]) emit(records []E, bytes int64, start, now time.Time, pos []byte) bool {
	select {
	case b.out <- batch[E]{records: records, seq: b.seq, first: b.pos, n: len(records), pos: pos}:
	case <-b.ctx.Done():
		return false
	}
	b.seq++
	b.pos += int64(len(records))
	if len(records) == 0 {
		return true // a position alone is not a batch of the stats
	}
	b.m.batches.Add(1)
	b.m.bytes.Add(bytes)
	if timing && !start.IsZero() {
		if now.IsZero() {
			now = time.Now()
		}
		b.m.lat.Record(now.Sub(start))
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
			if !b.closed && len(b.cur) > 0 && !time.Now().Before(b.opened.Add(b.interval)) {
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
	if b.timer != nil {
		b.timer.Stop()
	}
	close(b.out)
	b.mu.Unlock()
	close(b.stop)
}
