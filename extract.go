package weir

import (
	"context"
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
// for stages to report once they are loaded (see sourceFailed).
func (r *run[E, T]) read(ctx, readCtx context.Context, bt *batcher[E]) error {
	defer bt.finish()
	m := &r.m.extract
	var pos int64
	failures, failedSince := 0, time.Time{} // consecutive failed reads
	for {
		bs := int(bt.bs.Load())
		buf := bt.pool.get(bs)[:bs]
		t0 := clock()
		var n int
		err := try(func() (err error) {
			n, err = r.p.src.Read(readCtx, buf)
			return err
		})
		if readCtx.Err() != nil && ctx.Err() == nil {
			// Stop: keep what this Read returned, then end like io.EOF.
			err = io.EOF
			r.stopHit.Store(true)
		}
		t1 := clock()
		m.addBusy(t0, t1)
		if n < 0 || n > bs {
			m.errors.Add(1)
			bt.flush()
			return extractError(pos, fmt.Errorf("source returned %d records for a buffer of %d", n, bs))
		}
		if n > 0 {
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
			m.records.Add(int64(n))
			pos += int64(n)
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
		case err != nil && r.retryRead(ctx, err, &failures, &failedSince):
			continue
		case err != nil:
			m.errors.Add(1)
			bt.flush()
			return extractError(pos, err)
		case n == 0 && ctx.Err() != nil:
			return ctx.Err()
		}
	}
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
// channel operation per batch.
type batcher[E any] struct {
	ctx      context.Context
	out      chan<- batch[E]
	pool     *pool[E]
	m        *stageMetrics
	size     func(*E) int
	bs       *atomic.Int64 // batch size; changes when batching is adaptive
	perRead  bool          // each Read's records are one batch (exactly-once mode)
	maxBytes int64
	interval time.Duration
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

func newBatcher[E any](ctx context.Context, out chan<- batch[E], pool *pool[E], m *metrics, size func(*E) int, cfg Config, bs *atomic.Int64, perRead bool) *batcher[E] {
	b := &batcher[E]{
		ctx: ctx, out: out, pool: pool, m: &m.extract, size: size, bs: bs, perRead: perRead,
		maxBytes: cfg.BatchBytes, interval: cfg.FlushInterval,
		timer: time.NewTimer(time.Hour), stop: make(chan struct{}), last: time.Now(),
	}
	b.timer.Stop()
	return b
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
	records, bytes, pos := b.cur, b.curBytes, b.curPos
	b.cur, b.curBytes, b.curPos = nil, 0, nil
	return b.emit(records, bytes, now, pos)
}

// emit numbers and sends one batch. Callers hold mu, so a timer flush
// waits while the reader is blocked on a full queue; both give up when the
// run is cancelled.
func (b *batcher[E]) emit(records []E, bytes int64, now time.Time, pos []byte) bool {
	select {
	case b.out <- batch[E]{records: records, seq: b.seq, first: b.pos, n: len(records), pos: pos}:
	case <-b.ctx.Done():
		return false
	}
	b.seq++
	b.pos += int64(len(records))
	b.m.batches.Add(1)
	b.m.bytes.Add(bytes)
	if timing {
		if now.IsZero() {
			now = time.Now()
		}
		b.m.lat.Record(now.Sub(b.last))
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
