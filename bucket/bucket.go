// Package bucket is a batcher and a worker pool that producers push records
// into, usable without building a pipeline. Records
// added with [Bucket.Add] are grouped into batches by size, bytes or time
// (the rules of [weir.Config]) and handed to a function on a pool of workers.
//
// A Bucket is a [weir.Pipeline] whose source is the bucket itself, so the
// engine's guarantees hold here too: bounded memory, no goroutine outliving
// Run, panics returned as errors, and no producer left blocked in Add when a
// worker fails.
package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/weir-etl/weir"
)

// ErrClosed is returned by [Bucket.Add] after [Bucket.Close].
var ErrClosed = errors.New("bucket: closed")

// ErrRunEnded is returned by [Bucket.Add] once [Bucket.Run] has returned
// without the bucket being closed (a worker failed, or ctx was cancelled).
var ErrRunEnded = errors.New("bucket: run ended")

// Bucket batches records pushed by any number of producers and processes
// the batches on a pool of workers. Create it with [New]; call Run once,
// from any goroutine, before or after producers start adding.
type Bucket[T any] struct {
	cfg   weir.Config
	size  func(T) int
	limit int

	mu     sync.Mutex
	staged []T
	closed bool
	ended  bool
	endErr error
	space  chan struct{} // closed (and replaced) when room frees up or Run ends
	ready  chan struct{} // one-slot signal: records staged or bucket closed

	added   atomic.Int64
	started atomic.Bool
	p       atomic.Pointer[weir.Pipeline[T, T]]
}

// New returns a bucket. cfg means what it means for a pipeline: BatchSize,
// BatchBytes and FlushInterval close batches, Workers batches are processed
// at once (LoadConcurrency and TransformConcurrency are not used). Up to
// BatchSize added records wait for the batcher before Add blocks. Errors
// name the offending field.
func New[T any](cfg weir.Config) (*Bucket[T], error) {
	if cfg.LoadConcurrency != 0 || cfg.TransformConcurrency > 1 {
		return nil, errors.New("bucket: LoadConcurrency and TransformConcurrency do not apply to a bucket; use Workers")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	cfg = cfg.WithDefaults()
	return &Bucket[T]{
		cfg:   cfg,
		limit: cfg.BatchSize,
		space: make(chan struct{}),
		ready: make(chan struct{}, 1),
	}, nil
}

// WithSize sets how to measure a record in bytes, for BatchBytes. It panics
// if Run has started.
func (b *Bucket[T]) WithSize(size func(T) int) *Bucket[T] {
	if b.started.Load() {
		panic("bucket: WithSize called after Run")
	}
	b.size = size
	return b
}

// Add queues rec for batching. It blocks while the bucket's buffer is full,
// and returns early with ctx's error if ctx ends first, [ErrClosed] after
// Close, or an error wrapping [ErrRunEnded] (and the run's error) once Run
// has returned: a producer never waits for a bucket that will not drain.
// Add may be called from any number of goroutines. Cost: one uncontended
// mutex lock and an append.
func (b *Bucket[T]) Add(ctx context.Context, rec T) error {
	for {
		b.mu.Lock()
		switch {
		case b.closed:
			b.mu.Unlock()
			return ErrClosed
		case b.ended:
			err := b.endErr
			b.mu.Unlock()
			if err == nil {
				return ErrRunEnded
			}
			return fmt.Errorf("%w: %w", ErrRunEnded, err)
		case len(b.staged) < b.limit:
			b.staged = append(b.staged, rec)
			b.mu.Unlock()
			b.added.Add(1)
			b.signal()
			return nil
		}
		wait := b.space
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close says no more records will be added. Run then processes what was
// added and returns. Close is idempotent and never blocks.
func (b *Bucket[T]) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

func (b *Bucket[T]) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// read is the pipeline's source: it hands over what producers added.
func (b *Bucket[T]) read(ctx context.Context, buf []T) (int, error) {
	for {
		b.mu.Lock()
		if len(b.staged) > 0 {
			n := copy(buf, b.staged)
			rest := copy(b.staged, b.staged[n:])
			clear(b.staged[rest:])
			b.staged = b.staged[:rest]
			close(b.space)
			b.space = make(chan struct{})
			b.mu.Unlock()
			return n, nil
		}
		if b.closed {
			b.mu.Unlock()
			return 0, io.EOF
		}
		b.mu.Unlock()
		select {
		case <-b.ready:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Run processes batches with fn on Workers goroutines until the bucket is
// closed and drained, then returns nil. If fn returns an error or panics, or
// ctx ends, Run stops, wakes every producer blocked in Add, and returns the
// error wrapped with the batch's position (see [weir.StageError]). Records
// added but not processed by then are counted by [Bucket.Pending]. fn must
// not keep the batch after it returns. Run may be called once.
func (b *Bucket[T]) Run(ctx context.Context, fn func(ctx context.Context, batch []T) error) error {
	if fn == nil {
		panic("bucket: Run with a nil function")
	}
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("bucket: Run called twice")
	}
	err := b.run(ctx, fn)
	b.mu.Lock()
	b.ended = true
	b.endErr = err
	close(b.space) // wake producers blocked in Add, on every path out
	b.space = make(chan struct{})
	b.mu.Unlock()
	return err
}

func (b *Bucket[T]) run(ctx context.Context, fn func(ctx context.Context, batch []T) error) error {
	var opts []weir.Option
	if b.size != nil {
		opts = append(opts, weir.WithSize(b.size))
	}
	p, err := weir.New(weir.SourceFunc[T](b.read), weir.Identity[T](), weir.SinkFunc[T](fn), b.cfg, opts...)
	if err != nil {
		return fmt.Errorf("bucket: %w", err)
	}
	b.p.Store(p)
	return p.Run(ctx)
}

// Stats returns the run's statistics so far (see [weir.Stats]).
func (b *Bucket[T]) Stats() weir.Stats {
	if p := b.p.Load(); p != nil {
		return p.Stats()
	}
	return weir.Stats{}
}

// Pending is how many records were accepted by Add but not (yet) processed
// successfully. After a failed Run it counts the records the failure left
// unprocessed; after a successful one it is 0.
func (b *Bucket[T]) Pending() int64 {
	return b.added.Load() - b.Stats().Load.Records
}
