package weir

import (
	"bytes"
	"context"
)

// committer is how the load stage makes a batch durable. There are two:
// plainCommit writes with Sink.Write and lets the checkpointer save the
// finished prefix in the background ([WithCheckpoint], or no checkpoint at
// all); exactlyOnce writes each batch together with its position in the
// sink's transaction, in batch order ([WithExactlyOnce]). The rest of the
// engine does not know which one runs.
type committer[T any] interface {
	// write loads b's records with the retry policy and returns the
	// attempts made. b may be empty (the transform filtered it): a
	// committer that saves positions still has to move past it.
	write(ctx context.Context, b batch[T]) (attempts int, err error)
	// done marks batch seq finished (loaded, filtered or dead-lettered).
	done(seq int64, pos []byte)
	// loop saves positions in the background until stop is closed.
	loop(ctx context.Context, stop <-chan struct{}) error
	// flush saves the final position, after the run's goroutines ended.
	flush(ctx context.Context) error
}

// writer calls Sink.Write under the retry policy, recovering panics.
type writer[T any] struct {
	sink  Sink[T]
	retry retrier
	m     *stageMetrics // the load stage's: retries are counted there
}

// write returns the number of attempts made.
func (w *writer[T]) write(ctx context.Context, records []T) (int, error) {
	return w.do(ctx, func() error { return w.sink.Write(ctx, records) })
}

// do runs op (recovering panics) under the retry policy, counted in
// [Stats.LoadsInFlight] while it runs.
func (w *writer[T]) do(ctx context.Context, op func() error) (int, error) {
	w.m.inFlight.Add(1)
	defer w.m.inFlight.Add(-1)
	if w.retry.policy.MaxAttempts <= 1 {
		return 1, try(op)
	}
	attempts, err := w.retry.do(ctx, func() error { return try(op) })
	w.m.retries.Add(int64(attempts - 1))
	return attempts, err
}

// plainCommit writes batches with Sink.Write. With a checkpointer, the
// position below which every batch is finished is saved in the background
// and once more at the end; without one, positions are not kept.
type plainCommit[T any] struct {
	w  *writer[T]
	ck *checkpointer // nil when not checkpointing
}

func (c *plainCommit[T]) write(ctx context.Context, b batch[T]) (int, error) {
	if len(b.records) == 0 {
		return 0, nil
	}
	return c.w.write(ctx, b.records)
}

func (c *plainCommit[T]) done(seq int64, pos []byte) {
	if c.ck != nil {
		c.ck.finish(seq, pos)
	}
}

func (c *plainCommit[T]) loop(ctx context.Context, stop <-chan struct{}) error {
	if c.ck == nil {
		return nil
	}
	return c.ck.loop(ctx, stop)
}

func (c *plainCommit[T]) flush(ctx context.Context) error {
	if c.ck == nil {
		return nil
	}
	return c.ck.save(ctx)
}

// exactlyOnce writes each batch and its position in one transaction of a
// [CheckpointSink], in batch order; the checkpointer only tracks which
// batch's turn it is, since the sink saves every position itself.
type exactlyOnce[T any] struct {
	w     *writer[T]
	sink  CheckpointSink[T]
	store CheckpointStore
	job   string
	ck    *checkpointer
}

// write waits for every earlier batch to commit, then commits b with its
// position. A retried write first asks the store whether the previous
// attempt committed after all (its position is there, the answer to its
// COMMIT was lost): then it is done, and nothing is written twice.
func (c *exactlyOnce[T]) write(ctx context.Context, b batch[T]) (int, error) {
	if err := c.ck.waitTurn(ctx, b.seq); err != nil {
		return 1, err
	}
	tries := 0
	return c.w.do(ctx, func() error {
		tries++
		if tries > 1 {
			if cur, err := c.store.Load(ctx, c.job); err == nil && bytes.Equal(cur, b.pos) {
				return nil
			}
		}
		return c.sink.WriteCheckpoint(ctx, b.records, c.job, b.pos)
	})
}

func (c *exactlyOnce[T]) done(seq int64, pos []byte) { c.ck.finish(seq, pos) }

func (c *exactlyOnce[T]) loop(context.Context, <-chan struct{}) error { return nil }

func (c *exactlyOnce[T]) flush(context.Context) error { return nil }
