package weir

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"
)

// Source produces records. Read fills buf[:n] with up to len(buf) records and
// returns n, like [io.Reader]: it may return n > 0 together with an error, in
// which case the n records are processed before the error is. [io.EOF] ends
// the source normally. Read is called from one goroutine at a time, must not
// keep buf, and must return once ctx is cancelled.
type Source[E any] interface {
	Read(ctx context.Context, buf []E) (n int, err error)
}

// Sink consumes batches of records. Write is called with a non-empty batch;
// it may be called from up to [Config.LoadConcurrency] goroutines at once (or
// [Config.Workers] when LoadConcurrency is 0) and must not keep the slice
// after it returns: the engine reuses it. A non-nil error ends the run.
type Sink[T any] interface {
	Write(ctx context.Context, batch []T) error
}

// Closer is implemented by sources and sinks that hold resources. A run calls
// Close exactly once on each of its source and sink that implements it, after
// the last Read or Write, whether the run succeeded or not. The context
// passed is not cancelled with the run's, so a Close can still flush.
type Closer interface {
	Close(ctx context.Context) error
}

// Sizer is implemented by record types that know their size in bytes; see
// [Config.BatchBytes] and [Config.Memory]. It is found on E or *E; [WithSize] overrides
// it.
type Sizer interface {
	Size() int
}

// SourceFunc adapts a function to a [Source].
type SourceFunc[E any] func(ctx context.Context, buf []E) (int, error)

// Read calls f.
func (f SourceFunc[E]) Read(ctx context.Context, buf []E) (int, error) { return f(ctx, buf) }

// SinkFunc adapts a function to a [Sink].
type SinkFunc[T any] func(ctx context.Context, batch []T) error

// Write calls f.
func (f SinkFunc[T]) Write(ctx context.Context, batch []T) error { return f(ctx, batch) }

// FromSlice returns a source that reads records in order, copying them into
// the engine's batches. It does not modify records. A Read with a cancelled
// context returns the context's error.
func FromSlice[E any](records []E) Source[E] {
	return &sliceSource[E]{records: records}
}

type sliceSource[E any] struct{ records []E }

func (s *sliceSource[E]) Read(ctx context.Context, buf []E) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(s.records) == 0 {
		return 0, io.EOF
	}
	n := copy(buf, s.records)
	s.records = s.records[n:]
	return n, nil
}

// FromChan returns a source that receives from ch until it is closed. Each
// Read waits for one record, then takes whatever else is ready without
// waiting, up to len(buf). A Read with a cancelled context returns the
// context's error.
func FromChan[E any](ch <-chan E) Source[E] {
	return SourceFunc[E](func(ctx context.Context, buf []E) (int, error) {
		// Before the select, which picks at random among ready cases: a
		// closed ch would otherwise end a cancelled read with io.EOF.
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		select {
		case v, ok := <-ch:
			if !ok {
				return 0, io.EOF
			}
			buf[0] = v
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		n := 1
		for n < len(buf) {
			select {
			case v, ok := <-ch:
				if !ok {
					return n, nil // EOF is reported by the next Read
				}
				buf[n] = v
				n++
			default:
				return n, nil
			}
		}
		return n, nil
	})
}

// FromFunc returns a source that calls next for each record until next
// returns an error; [io.EOF] ends the source normally.
func FromFunc[E any](next func(ctx context.Context) (E, error)) Source[E] {
	return SourceFunc[E](func(ctx context.Context, buf []E) (int, error) {
		for i := range buf {
			v, err := next(ctx)
			if err != nil {
				return i, err
			}
			buf[i] = v
		}
		return len(buf), nil
	})
}

// FromSeq returns a source that ranges over seq. The iteration is driven
// with [iter.Pull] and stopped when the run closes the source, so an
// infinite sequence ends with the run.
func FromSeq[E any](seq iter.Seq[E]) Source[E] {
	return FromSeq2(func(yield func(E, error) bool) {
		for v := range seq {
			if !yield(v, nil) {
				return
			}
		}
	})
}

// FromSeq2 is [FromSeq] for a sequence of (record, error) pairs: the first
// non-nil error ends the source with that error, which later Reads return
// again.
func FromSeq2[E any](seq iter.Seq2[E, error]) Source[E] {
	return &seqSource[E]{seq: seq}
}

type seqSource[E any] struct {
	seq  iter.Seq2[E, error]
	next func() (E, error, bool)
	stop func()
	once sync.Once
	err  error // the sequence's error: a retried Read must not pass over it
}

func (s *seqSource[E]) Read(ctx context.Context, buf []E) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.next == nil {
		s.next, s.stop = iter.Pull2(s.seq)
	}
	for i := range buf {
		v, err, ok := s.next()
		if !ok {
			return i, io.EOF
		}
		if err != nil {
			s.err = err
			return i, err
		}
		buf[i] = v
	}
	return len(buf), ctx.Err()
}

// Close stops the underlying iteration.
func (s *seqSource[E]) Close(context.Context) error {
	s.once.Do(func() {
		if s.stop != nil {
			s.stop()
		}
	})
	return nil
}

// ErrStopped is wrapped by the error [Pipeline.Run] returns after
// [Pipeline.Stop]: the run ended cleanly, but before its source did.
var ErrStopped = errors.New("weir: stopped before the end of the source")

// ErrAlreadyRun is returned by [Pipeline.Run] when the pipeline has run
// before: sources are consumed by a run, so a pipeline runs once.
var ErrAlreadyRun = errors.New("weir: pipeline has already run")
