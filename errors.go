package weir

import (
	"fmt"
	"runtime/debug"
	"strings"
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

// BadRecordError is how a [Source] reports one record it could not read (a
// line that does not parse, a CSV record with the wrong number of fields):
// Read returns it, with the n good records before the bad one, and has
// moved past it, so the next Read continues after it. What happens then is
// [Config.OnTransformError]'s choice: under [FailRun] the run ends as for
// any source error (the records before it loaded, a checkpoint exactly
// before it); under [Skip] the record goes to the dead-letter sink as a
// [Failure] of [StageExtract], [StageStats.DeadLettered] of the extract
// stage counts it, and the run reads on. It is never retried: a bad record
// stays bad.
//
// A [Positioner] source must not count the bad record in the Position it
// reports right after that Read (so that a run stopping on it resumes
// before it); the next Read moves past it.
type BadRecordError struct {
	// Pos is where the record is in the source, for a person: "users.jsonl:1000".
	Pos string
	// Raw is the record's text, if the source has it; nil otherwise. The
	// engine copies it into the Failure as a string.
	Raw []byte
	// Err says what is wrong with it.
	Err error
}

// Error returns "pos: cause", without repeating the position when the
// cause's message starts with it already (as connect/file's LineError
// does).
func (e *BadRecordError) Error() string {
	msg := "bad record"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Pos == "" || strings.HasPrefix(msg, e.Pos) {
		return msg
	}
	return e.Pos + ": " + msg
}

// Unwrap returns the cause.
func (e *BadRecordError) Unwrap() error { return e.Err }

// Locatable is implemented by records that know where they were read
// (connect.Row does): a [Failure] of such a record carries SourcePos in
// [Failure.Source], so a reject file names the file and line of every
// record it holds, whatever stage refused it.
type Locatable interface {
	// SourcePos returns the record's place in its source, as
	// "users.jsonl:1000".
	SourcePos() string
}

// Failure is what a dead-letter sink receives for each record the Skip
// policy set aside. It is plain data, ready to encode (as connect/file's
// JSON Lines sink does).
type Failure struct {
	// Stage is [StageExtract] (the source could not read the record; see
	// [BadRecordError]), [StageTransform] or [StageLoad]; JSON writes its
	// name.
	Stage Stage `json:"stage"`
	// Record is the record as it was when it failed: the source record for
	// a transform, the transformed record for a load (for a transform
	// chained with [Then], the intermediate record its second part failed
	// on), and for the extract stage the record's raw text as a string
	// (nil when the source does not have it).
	Record any `json:"record"`
	// Error is the failure's message.
	Error string `json:"error"`
	// Attempts counts the tries, retries included.
	Attempts int `json:"attempts"`
	// Position is the record's place in this run's extract order: the
	// records the source delivered, counted from 0 from where the run
	// started (a resumed run counts from its own start). It is -1 when it
	// cannot be known (after a transform that drops or multiplies
	// records), and for [StageExtract], whose records were never
	// delivered: see Source for where those are.
	Position int64 `json:"position"`
	// Batch is the sequence number of the batch it came in; -1 for
	// [StageExtract].
	Batch int64 `json:"batch"`
	// Source is where the record is in its source, as "users.jsonl:1000":
	// [BadRecordError.Pos] for the extract stage, and
	// [Locatable.SourcePos] for the other stages when the record
	// implements it; empty otherwise.
	Source string `json:"source,omitempty"`
}

// sourcePos returns rec's place in its source if it knows it.
func sourcePos(rec any) string {
	if l, ok := rec.(Locatable); ok {
		return l.SourcePos()
	}
	return ""
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
