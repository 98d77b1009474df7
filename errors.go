package weir

import (
	"fmt"
	"runtime/debug"
)

// Stage names a part of a run.
type Stage uint8

// The stages of a run, in data-flow order.
const (
	StageExtract Stage = iota + 1
	StageTransform
	StageLoad
	// StageHook is a [Hooks] function or a Close call.
	StageHook
)

// String returns the stage's name: "extract", "transform", "load" or "hook".
func (s Stage) String() string {
	switch s {
	case StageExtract:
		return "extract"
	case StageTransform:
		return "transform"
	case StageLoad:
		return "load"
	case StageHook:
		return "hook"
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// MarshalText encodes the stage as its name, so a [Failure] reads
// "stage":"load" in JSON.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a stage name written by MarshalText.
func (s *Stage) UnmarshalText(b []byte) error {
	for st := StageExtract; st <= StageHook; st++ {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("weir: unknown stage %q", b)
}

// StageError is the error [Pipeline.Run] returns when a stage fails. It says
// where: the stage, the batch (its sequence number and the positions of its
// first and last records, counted from 0 in extract order) and, when a
// per-record transform failed, the record. Use [errors.As] to get it and
// [errors.Is] / [errors.As] on it to reach the cause.
type StageError struct {
	Stage Stage
	// Batch is the batch's sequence number, from 0; -1 when the error is not
	// tied to a batch (a source failing between batches, a hook).
	Batch int64
	// First and Count locate the batch's records in extract order.
	First int64
	Count int
	// Record is the position of the failing record, or -1 when unknown.
	Record int64
	Err    error
}

// hookError is the error of a hook, a Close or a checkpoint save: not tied
// to a batch.
func hookError(what string, err error) *StageError {
	return &StageError{Stage: StageHook, Batch: -1, Record: -1, Err: fmt.Errorf("%s: %w", what, err)}
}

// extractError is the error of the source, after pos records.
func extractError(pos int64, err error) *StageError {
	return &StageError{Stage: StageExtract, Batch: -1, First: pos, Record: -1, Err: err}
}

// Error says where the run failed and why.
func (e *StageError) Error() string {
	switch {
	case e.Batch < 0 && e.Stage == StageExtract:
		return fmt.Sprintf("weir: extract after record %d: %v", e.First, e.Err)
	case e.Batch < 0:
		return fmt.Sprintf("weir: %s: %v", e.Stage, e.Err)
	case e.Record >= 0:
		return fmt.Sprintf("weir: %s batch %d (records %d-%d): record %d: %v",
			e.Stage, e.Batch, e.First, e.First+int64(e.Count)-1, e.Record, e.Err)
	}
	return fmt.Sprintf("weir: %s batch %d (records %d-%d): %v",
		e.Stage, e.Batch, e.First, e.First+int64(e.Count)-1, e.Err)
}

// Unwrap returns the underlying error.
func (e *StageError) Unwrap() error { return e.Err }

// PanicError is a panic in user code (a transform, source, sink or hook)
// recovered by the engine. The run fails with it instead of crashing the
// process. Recovering hides nothing: the value and the stack are kept. The
// trade-off is errgroup's: state shared with the panicking code may be
// inconsistent, which is why the run stops.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns the panic value's message; the stack is in Stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v (stack in PanicError.Stack)", e.Value)
}

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RecordError is the error of one record of a batch, carrying its index
// within the batch. Transforms return it for a failing record, and a sink
// may return it to say which record it refused. [Pipeline.Run] turns it
// into a [*StageError] with the record's position in the whole run.
type RecordError struct {
	Index int
	Err   error
}

// Error says which record failed, and why.
func (e *RecordError) Error() string { return fmt.Sprintf("record %d of batch: %v", e.Index, e.Err) }

// Unwrap returns the record's error.
func (e *RecordError) Unwrap() error { return e.Err }

// Failure is what a dead-letter sink receives for each record the Skip
// policy set aside. It is plain data, ready to encode (as connect/file's
// JSON Lines sink does).
type Failure struct {
	// Stage is [StageTransform] or [StageLoad]; JSON writes its name.
	Stage Stage `json:"stage"`
	// Record is the record as it was when it failed: the source record for
	// a transform, the transformed record for a load (for a transform
	// chained with [Then], the intermediate record its second part failed
	// on).
	Record any `json:"record"`
	// Error is the failure's message.
	Error string `json:"error"`
	// Attempts counts the tries, retries included.
	Attempts int `json:"attempts"`
	// Position is the record's extract position, from 0, or -1 when it
	// cannot be known (after a transform that drops or multiplies records).
	Position int64 `json:"position"`
	// Batch is the sequence number of the batch it came in.
	Batch int64 `json:"batch"`
}

// try calls fn and turns a panic into a *PanicError that keeps the stack:
// the engine's one way to call user code (sources, transforms, sinks,
// hooks, Close) without letting a panic crash the process.
func try(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
