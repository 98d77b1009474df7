package weir

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// Option sets an optional part of a run: hooks, a dead-letter sink,
// checkpoints, a retry classifier or record sizes. Options are passed to
// [New], which checks them against each other, against [Config] and against
// the source and sink, so that a contradiction is an error before anything
// runs. Later options override earlier ones of the same kind.
type Option struct {
	apply func(*options)
}

// options are the settings the Option values make.
type options struct {
	hooks       Hooks
	dead        Sink[Failure]
	store       CheckpointStore
	job         string
	exactlyOnce bool
	retryable   func(error) bool
	size        any // func(E) int, checked against E by New
}

// Hooks are steps that run before and after the records move: create a
// table, drop an index, then rebuild it. Each runs exactly once per
// [Pipeline.Run], on the goroutine that called Run; if Before ran, After
// runs too.
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

// WithHooks sets the lifecycle hooks.
func WithHooks(h Hooks) Option {
	return Option{func(o *options) { o.hooks = h }}
}

// WithSize sets how to measure a record in bytes, for [Config.BatchBytes],
// [Config.Memory] and [StageStats.Bytes]; it overrides a [Sizer] method. E must be the
// source's record type: [New] reports a mismatch. A nil size panics.
func WithSize[E any](size func(E) int) Option {
	mustFunc("WithSize", size == nil)
	return Option{func(o *options) { o.size = size }}
}

// WithDeadLetter sets where records go that fail under the [Skip] policy:
// one Write per batch of failures, from any worker (so dl must be safe for
// concurrent use). If a dead-letter Write fails, the run fails: a record is
// always either loaded or recorded. The run closes dl, if it is a [Closer],
// once, after the sink. A nil dl panics.
func WithDeadLetter(dl Sink[Failure]) Option {
	if dl == nil {
		panic("weir: WithDeadLetter called with a nil sink")
	}
	return Option{func(o *options) { o.dead = dl }}
}

// WithCheckpoint makes the run resumable. Before the first read, the run
// loads job's position from store and seeks the source there (the source
// must implement [Positioner]); while it runs, it saves the position below
// which every batch is finished (loaded, filtered or dead-lettered) — a
// contiguous prefix, whatever order batches finish in. It saves once more
// when the run ends, also after a failure or cancellation, so rerunning the
// same job continues where the last run stopped. Batches finished after the
// prefix are loaded again on resume: pair checkpoints with an idempotent
// sink (an upsert) for exactly-once effect, or use [WithExactlyOnce].
func WithCheckpoint(store CheckpointStore, job string) Option {
	mustCheckpoint("WithCheckpoint", store, job)
	return Option{func(o *options) { o.store, o.job, o.exactlyOnce = store, job, false }}
}

// WithExactlyOnce is [WithCheckpoint] for a sink that saves the position in
// the same transaction as each batch ([CheckpointSink]): a batch and the
// checkpoint after it commit together or not at all, so a run stopped at
// any instant (a crash, kill -9) and resumed loads every record exactly
// once, without needing an idempotent sink. store reads the position back
// (at start, and before retrying a write whose commit may have happened: if
// the position is already there, the write did commit).
//
// The price is order: each batch is one Read of the source, batches commit
// in sequence (a worker waits for the batch before its own), and loading
// happens on the workers, one commit at a time. [New] therefore requires
// LoadConcurrency 0, Adaptive off and OnLoadError FailRun (bisecting a
// batch would commit parts without a position).
func WithExactlyOnce(store CheckpointStore, job string) Option {
	mustCheckpoint("WithExactlyOnce", store, job)
	return Option{func(o *options) { o.store, o.job, o.exactlyOnce = store, job, true }}
}

// WithRetryable sets which errors [Config.Retry] retries. The default
// retries an error only if something in its chain has a Retryable() or
// Temporary() method that returns true (see [Transient]); connectors offer
// classifiers for their drivers (postgres.Retryable). A nil retryable
// panics.
func WithRetryable(retryable func(error) bool) Option {
	mustFunc("WithRetryable", retryable == nil)
	return Option{func(o *options) { o.retryable = retryable }}
}

func mustCheckpoint(name string, store CheckpointStore, job string) {
	if store == nil || job == "" {
		panic("weir: " + name + " needs a store and a job name")
	}
}

// checkOptions reports every contradiction between the options, cfg (as
// the caller gave it, before defaults) and the source and sink. It returns
// the record-size function to use (nil when sizes are unknown).
func checkOptions[E, T any](o *options, cfg Config, src Source[E], sink Sink[T]) (func(*E) int, []error) {
	var errs []error
	bad := func(msg string) { errs = append(errs, errors.New("weir: New: "+msg)) }
	var size func(*E) int
	switch f := o.size.(type) {
	case nil:
		var probe *E
		if _, ok := any(probe).(Sizer); ok {
			// Asserting on *E (a pointer into the batch) allocates nothing,
			// and finds Size whether it has a value or pointer receiver.
			size = func(e *E) int { return any(e).(Sizer).Size() }
		}
	case func(E) int:
		size = func(e *E) int { return f(*e) }
	default:
		bad(fmt.Sprintf("WithSize takes a %v but the source's records are %v",
			reflect.TypeOf(o.size), reflect.TypeFor[E]()))
	}
	if cfg.BatchBytes > 0 && size == nil && o.size == nil {
		bad("Config.BatchBytes is set but record sizes are unknown: implement weir.Sizer on the record type or pass WithSize")
	}
	if cfg.Memory > 0 && size == nil && o.size == nil {
		bad("Config.Memory is set but record sizes are unknown: implement weir.Sizer on the record type or pass WithSize")
	} else if err := checkMemory[E](cfg); err != nil {
		errs = append(errs, err)
	}
	if (cfg.OnTransformError == Skip || cfg.OnLoadError == Skip) && o.dead == nil {
		bad("an error policy is Skip but there is no dead-letter sink: pass WithDeadLetter")
	}
	if o.store != nil {
		if _, ok := src.(Positioner); !ok && src != nil {
			bad(fmt.Sprintf("checkpoints need a source that implements weir.Positioner; %T does not", src))
		}
	}
	if o.exactlyOnce {
		if _, ok := sink.(CheckpointSink[T]); !ok && sink != nil {
			bad(fmt.Sprintf("WithExactlyOnce needs a sink that implements weir.CheckpointSink (saving the position in its own transaction); %T does not", sink))
		}
		// Batches commit in order, each on the worker that transformed it.
		if cfg.LoadConcurrency != 0 {
			bad(fmt.Sprintf("WithExactlyOnce needs LoadConcurrency 0 (batches commit in order on the workers), got %d", cfg.LoadConcurrency))
		}
		if cfg.Adaptive {
			bad("WithExactlyOnce needs Adaptive off: an adaptive run loads on a separate stage")
		}
		if cfg.OnLoadError == Skip {
			bad("WithExactlyOnce needs OnLoadError FailRun: bisecting a batch would commit parts of it without a position")
		}
	}
	return size, errs
}
