package file

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/weir-etl/weir"
)

// DefaultMaxLineBytes is the longest line (JSON Lines) or record (CSV) a
// source accepts when [ReadOptions.MaxLineBytes] is 0.
const DefaultMaxLineBytes = 16 << 20

// MaxMaxLineBytes is the largest [ReadOptions.MaxLineBytes] accepted: a
// bigger value is a typo, not a line.
const MaxMaxLineBytes = 1 << 30

var (
	// ErrLineTooLong is the cause of a [LineError] for a line (or CSV
	// record) longer than [ReadOptions.MaxLineBytes].
	ErrLineTooLong = errors.New("line too long")
	// ErrClosed is returned by a Write after Close, and by a Read after the
	// source was closed.
	ErrClosed = errors.New("file: closed")
	// ErrUnknownColumn is the cause of the error a CSV source returns when
	// its Decode function asks [Record.Get] for a column the header lacks.
	ErrUnknownColumn = errors.New("unknown column")
)

// LineError is a malformed line: a JSON line that does not decode, a CSV
// record with the wrong number of fields or bad quoting, a line over the
// length limit, or a record the Decode function rejected. Sources return it
// wrapped in a [*weir.BadRecordError] (or hand its parts to
// [ReadOptions.OnBadLine]); use [errors.As] to get either.
type LineError struct {
	// Name is [ReadOptions.Name]: the file's path or the caller's label.
	// Empty when the source was not given one.
	Name string
	// Line is the 1-based number of the line. For a CSV record spanning
	// several lines, it is the line the record starts on.
	Line int
	Err  error
}

func (e *LineError) Error() string { return e.pos() + ": " + e.Err.Error() }

// pos is "name:line", or "line N" without a name (connect.Pos's form).
func (e *LineError) pos() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d", e.Line)
	}
	return fmt.Sprintf("%s:%d", e.Name, e.Line)
}

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// ReadOptions are the settings the JSON Lines and CSV sources share. The
// zero value is valid: no name, lines up to [DefaultMaxLineBytes], and the
// first malformed line fails the read.
type ReadOptions struct {
	// Name labels the input in errors ("users.jsonl:12: ..."). OpenJSONL
	// and OpenCSV default it to the path.
	Name string
	// MaxLineBytes is the longest line (JSON Lines) or record (CSV)
	// accepted; memory use grows with it, never with the file. 0 means
	// DefaultMaxLineBytes; at most MaxMaxLineBytes.
	//
	// A JSON line over the limit is a malformed line like any other: it is
	// reported, or skipped in skip mode, and reading goes on. A CSV record
	// over the limit (in practice, an unterminated quote) ends the read
	// even in skip mode, because the parser cannot find the next record.
	// The CSV limit is checked on buffered input, so a record may exceed it
	// by up to the parser's read-ahead (4 KiB) before it is caught.
	MaxLineBytes int
	// OnBadLine, when set, switches the source to skip mode: each malformed
	// line is passed to it (line number, the line's text without its line
	// terminator, and the cause) and skipped. text is only valid during the
	// call; copy it to keep it. Returning a non-nil error makes Read return
	// that error (wrapped; errors.Is finds it) after the records before the
	// line. OnBadLine is called from the goroutine calling Read. Use it
	// without the weir engine; with the engine, leave it nil and let the
	// run's Skip policy dead-letter bad lines.
	//
	// When nil (the default), each malformed line makes Read return, after
	// the records before it, a [*weir.BadRecordError] (its position
	// "name:line", its raw text, and the [*LineError]). Under the Skip
	// policy the weir engine sends it to the dead-letter sink and reads
	// on; under FailRun it fails the run naming the line.
	//
	// Either way the source has moved past the line: the next Read
	// continues with the line after it. Position does not count the line
	// until that next Read, so a run that stops on it resumes before it.
	OnBadLine func(line int, text []byte, err error) error
}

func (o ReadOptions) validate(prefix string) error {
	if o.MaxLineBytes < 0 || o.MaxLineBytes > MaxMaxLineBytes {
		return fmt.Errorf("file: %s.MaxLineBytes must be between 0 (default %d) and %d, got %d",
			prefix, DefaultMaxLineBytes, MaxMaxLineBytes, o.MaxLineBytes)
	}
	return nil
}

func (o ReadOptions) withDefaults() ReadOptions {
	if o.MaxLineBytes == 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	return o
}

// badLine handles a malformed line: it returns nil when OnBadLine skipped
// it, and otherwise the error Read returns after the good records of that
// call (a *weir.BadRecordError wrapping a *LineError, or OnBadLine's
// error). Every source's bad lines go through it. The caller must have
// moved past the line, so that the next Read continues after it, but must
// count the line in its Position only from that next Read on.
func (o *ReadOptions) badLine(line int, text []byte, cause error) error {
	le := &LineError{Name: o.Name, Line: line, Err: cause}
	if o.OnBadLine == nil {
		return &weir.BadRecordError{Pos: le.pos(), Raw: bytes.Clone(text), Err: le}
	}
	if err := o.OnBadLine(line, text, cause); err != nil {
		return fmt.Errorf("OnBadLine stopped the read at %v: %w", le, err)
	}
	return nil
}
