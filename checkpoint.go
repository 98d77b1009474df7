package weir

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// Positioner is implemented by sources that can say where they are, so that
// a run can checkpoint and a later run resume (see [WithCheckpoint]). Positions are opaque bytes of the source's
// own encoding (a line number, a key, an _id).
type Positioner interface {
	// Position returns the position after the last record Read returned.
	// It is called on the reader's goroutine after each Read that returned
	// records.
	Position() ([]byte, error)
	// Seek makes the next Read start just after pos. It is called once,
	// before the first Read.
	Seek(pos []byte) error
}

// CheckpointStore keeps each job's last committed position. Stores for a
// file, SQLite and PostgreSQL are in package connect.
type CheckpointStore interface {
	// Load returns the job's position, or nil (and no error) if it has
	// none yet.
	Load(ctx context.Context, job string) ([]byte, error)
	// Save records pos as the job's position, atomically: after a crash
	// the store holds the old or the new position, never a mix.
	Save(ctx context.Context, job string, pos []byte) error
}

// CheckpointSink is a sink that can record a job's position in the same
// transaction as a batch, so that the two commit together or not at all
// (see [WithExactlyOnce]). connect/postgres's sinks implement it.
type CheckpointSink[T any] interface {
	Sink[T]
	// WriteCheckpoint writes batch (possibly empty) and saves pos as job's
	// position, atomically.
	WriteCheckpoint(ctx context.Context, batch []T, job string, pos []byte) error
}

// checkpointer tracks which batches are finished and saves the position
// below which every batch is: the ack tracker. Batches finish out of order
// when several workers load; the checkpoint only moves over a contiguous
// prefix, so a resumed run never skips a record that was not loaded (it
// may load again the records of batches that finished after the prefix:
// use an idempotent sink, an upsert, for exactly-once effect).
type checkpointer struct {
	store CheckpointStore
	job   string
	retry retrier // a failed Save is retried as a failed write is

	mu        sync.Mutex
	next      int64              // lowest batch sequence not yet finished
	done      map[int64]posEntry // finished batches at or above next
	committed []byte             // position after batch next-1, if known
	saved     []byte
	wake      chan struct{} // one slot: a new committed position
	advanced  chan struct{} // closed (and replaced) whenever next moves
}

type posEntry struct{ pos []byte }

func newCheckpointer(store CheckpointStore, job string, retry retrier) *checkpointer {
	return &checkpointer{store: store, job: job, retry: retry, done: map[int64]posEntry{}, wake: make(chan struct{}, 1), advanced: make(chan struct{})}
}

// finish marks batch seq as done (loaded, filtered away, or dead-lettered).
// pos is the source position after its last record, or nil when the batch
// ended in the middle of a Read's records (then the checkpoint moves on
// only with a later batch).
func (c *checkpointer) finish(seq int64, pos []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done[seq] = posEntry{pos}
	moved := false
	defer func() {
		close(c.advanced)
		c.advanced = make(chan struct{})
	}()
	for {
		e, ok := c.done[c.next]
		if !ok {
			break
		}
		delete(c.done, c.next)
		c.next++
		if e.pos != nil {
			c.committed, moved = e.pos, true
		}
	}
	if moved {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// loop saves the newest committed position whenever it moves, until stop
// is closed. Saves coalesce: a slow store sees only the latest position.
func (c *checkpointer) loop(ctx context.Context, stop <-chan struct{}) error {
	for {
		select {
		case <-c.wake:
			if err := c.save(ctx); err != nil {
				return err
			}
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// waitTurn blocks until every batch before seq is finished: in exactly-once
// mode batches commit in order, each with its position.
func (c *checkpointer) waitTurn(ctx context.Context, seq int64) error {
	for {
		c.mu.Lock()
		if c.next >= seq {
			c.mu.Unlock()
			return nil
		}
		ch := c.advanced
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// save writes the committed position if it changed since the last save.
func (c *checkpointer) save(ctx context.Context) error {
	c.mu.Lock()
	pos := c.committed
	c.mu.Unlock()
	if pos == nil || bytes.Equal(pos, c.saved) {
		return nil
	}
	// A store in the target's database fails with it: a restart costs a
	// retry, under the run's RetryPolicy and retryable classifier, as a
	// write does, not the run.
	if _, err := c.retry.do(ctx, func() error { return c.store.Save(ctx, c.job, pos) }); err != nil {
		return hookError(fmt.Sprintf("save checkpoint of %q", c.job), err)
	}
	c.saved = pos
	return nil
}

// committedPos is the newest committed position.
func (c *checkpointer) committedPos() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.committed
}

// resume seeks src to the job's stored position, if there is one.
func resume(ctx context.Context, src Positioner, store CheckpointStore, job string) ([]byte, error) {
	pos, err := store.Load(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("weir: load checkpoint of %q: %w", job, err)
	}
	if pos == nil {
		return nil, nil
	}
	if err := src.Seek(pos); err != nil {
		return nil, fmt.Errorf("weir: resume %q at %q: %w", job, pos, err)
	}
	return pos, nil
}
