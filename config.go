package weir

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/weir-etl/weir/adapt"
)

// Defaults applied by [Config.WithDefaults] to fields left at zero.
const (
	DefaultBatchSize     = 128
	DefaultFlushInterval = 100 * time.Millisecond
)

// Limits that [Config.Validate] enforces. They exist to turn a typo (an extra
// zero or three) into an error instead of an out-of-memory crash.
const (
	MaxBatchSize   = 1 << 20
	MaxConcurrency = 1 << 12
)

const (
	minFlushInterval    = time.Millisecond
	maxQueueDepthFactor = 64
)

// Config holds every knob of a run. The zero value is valid: each zero field
// means the default documented on it, applied by [Config.WithDefaults] in
// one place. Negative or absurd values are errors from [Config.Validate],
// never silently replaced.
//
// # Batching
//
// A batch closes on whichever comes first: BatchSize records, BatchBytes
// bytes (when record sizes are known, see [Sizer]), or FlushInterval after
// its first record arrived. A batch is never empty, and a source that ends
// has its last partial batch loaded.
//
// # Memory
//
// Every queue is bounded, so the number of records alive inside the engine
// at once is at most
//
//	BatchSize × (2 + QueueDepth + 2×Workers)                       when LoadConcurrency = 0
//	BatchSize × (2 + 2×QueueDepth + 2×Workers + LoadConcurrency)   otherwise
//
// (2 = the chunk being read and the batch being filled; each worker holds
// its input and its output). With BatchBytes set,
// multiply the same count of batches by BatchBytes (plus one record) for the
// bound in bytes. With the defaults on 2 cores (128, Workers 2, QueueDepth 2)
// that is 128 × 8 = 1,024 records, whatever the size of the data set.
// [Config.Memory] turns the bound around: give the bytes, and the engine
// sizes each batch to Memory divided by that count of batches.
type Config struct {
	// BatchSize is the most records in one batch. Default 128; 1 to
	// MaxBatchSize.
	BatchSize int
	// BatchBytes closes a batch once the sizes of its records add up to at
	// least this many bytes. 0 means no byte limit. Setting it requires
	// record sizes: a [Sizer] record type or [WithSize].
	BatchBytes int64
	// Memory is a budget in bytes for the records the engine holds at once
	// (read and not yet loaded); 0 means no budget. Each batch may hold at
	// most Memory divided by the count of batches in the formula above
	// (Stats.Memory reports both), so the records held stay within Memory
	// whatever their size: Reads ask for as many records as fit, judged by
	// the largest record seen so far (the first Read asks for one). A
	// record larger than one batch's share ends the run with a
	// [*RecordTooLargeError] naming it, the records before it loaded. It
	// requires record sizes, like BatchBytes, which may be set too but not
	// above the share. The budget covers records as the source delivers
	// them and [Sizer] measures them: a transform that makes them larger
	// (or more numerous, FlatMap) and the sink's own buffers are outside
	// it. docs/MEMORY.md says how to choose it.
	Memory int64
	// FlushInterval is the longest a record waits for its batch to fill:
	// the batch closes this long after its first record arrived. Default
	// 100ms; at least 1ms (a shorter timer would spin).
	FlushInterval time.Duration
	// Workers is how many batches are transformed at once. Default
	// runtime.GOMAXPROCS(0).
	Workers int
	// TransformConcurrency is how many goroutines share the records of one
	// batch inside a transform.
	// Default 1: a plain loop, the fastest choice for CPU-bound transforms.
	// Raise it for transforms that wait (lookups, remote calls). Output
	// order is preserved either way.
	TransformConcurrency int
	// LoadConcurrency is how many Sink.Write calls may be in flight. 0 (the
	// default) loads each batch on the worker that transformed it: Workers
	// writes in flight and no hand-off between stages. A positive value runs
	// a separate load stage with that many goroutines, fed by a queue of
	// QueueDepth batches; use it when the sink wants a different
	// concurrency than the transform (a database pool, a single-writer file).
	LoadConcurrency int
	// QueueDepth is how many batches wait between two stages. Default
	// Workers.
	QueueDepth int
	// Adaptive lets the run tune its batch size and load concurrency by
	// itself, with the controllers of package adapt: the batch size moves
	// between 16 and BatchSize (default 4096, adapt.DefaultMaxBatch, when
	// Adaptive is set) from the measured fixed and per-record cost of
	// loads, and the number of Sink.Write calls in flight moves between 1
	// and LoadConcurrency (default 16, adapt.DefaultMaxLimit) by AIMD on the
	// loads' latency. A separate load stage always runs. The memory
	// formula above holds with BatchSize and LoadConcurrency as maxima.
	// Stats.BatchSize and Stats.LoadLimit report the current choices.
	Adaptive bool

	// Retry retries failed Source.Read and Sink.Write calls whose error is
	// retryable (see [WithRetryable]). The zero value retries
	// nothing.
	Retry RetryPolicy
	// OnTransformError and OnLoadError say what happens to a record that
	// fails in that stage: [FailRun] (the default) or [Skip] to the
	// dead-letter sink set with [WithDeadLetter]. OnTransformError also
	// covers records the source reports it cannot read
	// ([BadRecordError]): a line that does not parse is bad data as much
	// as a value the transform cannot convert, and one setting for both
	// means "skip bad records" cannot be half-configured.
	OnTransformError, OnLoadError ErrorPolicy
}

// WithDefaults returns c with every zero field replaced by its default.
func (c Config) WithDefaults() Config {
	if c.Adaptive && c.BatchSize == 0 {
		c.BatchSize = adapt.DefaultMaxBatch
	}
	if c.Adaptive && c.LoadConcurrency == 0 {
		c.LoadConcurrency = adapt.DefaultMaxLimit
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.TransformConcurrency == 0 {
		c.TransformConcurrency = 1
	}
	if c.QueueDepth == 0 {
		c.QueueDepth = c.Workers
	}
	return c
}

// Validate reports every impossible value in c, each naming its field.
// Zero fields are valid (they mean the default).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("weir: "+format, args...))
	}
	if c.BatchSize < 0 || c.BatchSize > MaxBatchSize {
		bad("BatchSize must be between 1 and %d (0 means %d), got %d", MaxBatchSize, DefaultBatchSize, c.BatchSize)
	}
	if c.BatchBytes < 0 {
		bad("BatchBytes must be >= 0 (0 means no byte limit), got %d", c.BatchBytes)
	}
	errs = append(errs, c.validateMemory()...)
	if c.FlushInterval < 0 || (c.FlushInterval > 0 && c.FlushInterval < minFlushInterval) {
		bad("FlushInterval must be >= %v (0 means %v), got %v", minFlushInterval, DefaultFlushInterval, c.FlushInterval)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Workers", c.Workers},
		{"TransformConcurrency", c.TransformConcurrency},
		{"LoadConcurrency", c.LoadConcurrency},
	} {
		if f.v < 0 || f.v > MaxConcurrency {
			bad("%s must be between 0 (default) and %d, got %d", f.name, MaxConcurrency, f.v)
		}
	}
	if c.QueueDepth < 0 || c.QueueDepth > maxQueueDepthFactor*MaxConcurrency {
		bad("QueueDepth must be between 0 (default) and %d, got %d", maxQueueDepthFactor*MaxConcurrency, c.QueueDepth)
	}
	errs = append(errs, c.Retry.validate()...)
	for _, f := range []struct {
		name string
		v    ErrorPolicy
	}{{"OnTransformError", c.OnTransformError}, {"OnLoadError", c.OnLoadError}} {
		if f.v > Skip {
			bad("%s must be FailRun or Skip, got %v", f.name, f.v)
		}
	}
	// Compare with the batch size in effect: a zero BatchSize means the
	// default (found by FuzzConfigValidate).
	if bs := c.WithDefaults().BatchSize; c.TransformConcurrency > 0 && bs > 0 && c.TransformConcurrency > bs {
		bad("TransformConcurrency (%d) must not exceed BatchSize (%d): the extra goroutines would have no record to work on", c.TransformConcurrency, bs)
	}
	return errors.Join(errs...)
}
