package file

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/weir-etl/weir"
)

// CreateDeadLetter creates the file at path, or truncates it, and returns
// a dead-letter sink writing to it, for [weir.WithDeadLetter]: a JSON Lines
// file with one [weir.Failure] per line, as
//
//	{"stage":"load","record":{"id":7,"name":"x"},"error":"...","attempts":1,"position":6,"batch":0,"source":"users.jsonl:8"}
//
// where "record" is the failed record encoded as JSON (its json tags apply;
// for a line the source could not read, "stage" is "extract" and "record"
// is the line's text). Decode the file back with a [JSONLSource] over a
// struct like weir.Failure whose Record field has the record's type.
//
// The file is fresh per run: what it holds afterwards is this run's
// rejects, all of them and nothing else. Use [AppendDeadLetter] to keep an
// earlier run's lines, as a resumed run (see [weir.WithCheckpoint]) wants:
// it does not see again the records an earlier run dead-lettered.
//
// Each Write flushes its lines to the operating system before it returns
// ([JSONLSinkConfig.FlushEveryWrite]): once the engine has counted a record
// as dead-lettered, a crash of the process does not lose it. Close syncs
// the file to disk and closes it; the engine calls it at the end of the
// run. A failure whose Record does not encode as JSON (a channel, a func, a
// NaN) is not an error: its record is written as
// {"unencodable": "<the value printed with %+v>", "encode_error": "..."},
// so that a dead letter is never lost to its own encoding.
//
// Write is safe for concurrent use; each Write's lines are contiguous.
func CreateDeadLetter(path string) (*JSONLSink[weir.Failure], error) {
	return openDeadLetter(path, os.O_TRUNC)
}

// AppendDeadLetter is [CreateDeadLetter] for a file whose lines are kept:
// it creates the file if needed and appends to it. If the file ends in a
// partial line (a crash in the middle of a write), a line break is added
// first, so the next record starts a line of its own.
func AppendDeadLetter(path string) (*JSONLSink[weir.Failure], error) {
	return openDeadLetter(path, os.O_APPEND)
}

func openDeadLetter(path string, mode int) (*JSONLSink[weir.Failure], error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|mode, 0o644)
	if err != nil {
		return nil, fmt.Errorf("file: create dead-letter file: %w", err)
	}
	if err := endPartialLine(f); err != nil {
		return nil, errors.Join(fmt.Errorf("file: dead-letter file %s: %w", path, err), f.Close())
	}
	s := &JSONLSink[weir.Failure]{
		out:      newLockedWriter(f, f, 0, true, path),
		fallback: failureFallback,
	}
	return s, nil
}

// NewDeadLetter returns a dead-letter sink writing JSON Lines of
// [weir.Failure] to w, as [CreateDeadLetter] describes: each Write flushes
// to w before it returns, and a Record that does not encode is written as a
// stand-in. Close flushes but does not close w. Safe for concurrent Writes
// (w sees one Write at a time).
func NewDeadLetter(w io.Writer) (*JSONLSink[weir.Failure], error) {
	if w == nil {
		return nil, errors.New("file: NewDeadLetter: nil io.Writer")
	}
	return &JSONLSink[weir.Failure]{
		out:      newLockedWriter(w, nil, 0, true, "dead letters"),
		fallback: failureFallback,
	}, nil
}

// endPartialLine adds a line break to f if it is not empty and does not end
// with one.
func endPartialLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
}

// unencodable stands in for a dead-lettered record that JSON cannot hold.
type unencodable struct {
	Value       string `json:"unencodable"`
	EncodeError string `json:"encode_error"`
}

// failureFallback replaces the Record of a failure that did not encode. The
// other fields of a Failure are strings and integers: only Record can fail.
func failureFallback(rec any, err error) any {
	f, ok := rec.(*weir.Failure)
	if !ok {
		return nil
	}
	alt := *f
	alt.Record = unencodable{Value: fmt.Sprintf("%+v", f.Record), EncodeError: err.Error()}
	return &alt
}
