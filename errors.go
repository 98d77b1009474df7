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

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v (stack in PanicError.Stack)", e.Value)
}

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// callRecover calls fn and turns a panic into a *PanicError.
func callRecover(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
