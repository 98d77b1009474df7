package file

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/weir-etl/weir"
)

// ErrPastEnd is the cause of the error Seek returns when the input ends
// before the position: the file is not the one the checkpoint was taken
// on, or it was truncated since.
var ErrPastEnd = errors.New("position past the end of the input")

var (
	_ weir.Positioner = (*JSONLSource[struct{}])(nil)
	_ weir.Positioner = (*CSVSource[struct{}])(nil)
)

// A source's position is the last line it has accounted for, as JSON:
// {"line":1234}. The line, not a byte offset, because a person reading the
// checkpoint can find it in the file, and it survives a change of line
// endings or of the read buffer.
func appendLinePos(b []byte, line int) []byte {
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(line), 10)
	return append(b, '}')
}

// parseLinePos decodes a position of appendLinePos's form, strictly: an
// object with exactly the field "line", a whole number >= 0.
func parseLinePos(pos []byte) (int, error) {
	var p struct {
		Line *int64 `json:"line"`
	}
	dec := json.NewDecoder(bytes.NewReader(pos))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return 0, fmt.Errorf("position %q is not of the form {\"line\":N}: %w", pos, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return 0, fmt.Errorf("position %q has data after the object", pos)
	}
	if p.Line == nil || *p.Line < 0 || *p.Line > int64(^uint(0)>>1) {
		return 0, fmt.Errorf("position %q is not of the form {\"line\":N} with N >= 0", pos)
	}
	return int(*p.Line), nil
}

// Position returns the source's position, for weir's checkpoints: the last
// line accounted for, as JSON ({"line":1234}). A line is accounted for once
// it was decoded into a record Read returned, or was blank, or was handed
// to [ReadOptions.OnBadLine] and skipped. A line that ended the read with
// an error is not, so a resumed run reads it again (and fails again, rather
// than silently passing over it). {"line":0} before the first Read.
//
// It implements [weir.Positioner]; [JSONLSource.Seek] is its inverse. Call
// it from the goroutine that calls Read. Cost: one small allocation.
func (s *JSONLSource[E]) Position() ([]byte, error) {
	return appendLinePos(nil, s.done), nil
}

// Seek makes the next Read start after line pos.line, a position from
// [JSONLSource.Position]: it reads and discards that many lines, streaming
// (memory bounded as in Read, whatever the distance), and blocks while it
// does. It must be called at most once, before the first Read; it returns
// an error otherwise. If the input ends before that line, Seek returns an
// error wrapping [ErrPastEnd] that names both line numbers, and later Reads
// return it too.
//
// It implements [weir.Positioner], for [weir.WithCheckpoint]. The
// position only counts lines: resuming on another file, or on one edited
// above the position, reads from the wrong place.
func (s *JSONLSource[E]) Seek(pos []byte) error {
	line, err := parseLinePos(pos)
	if err != nil {
		return fmt.Errorf("file: seek %s: %w", s.label(), err)
	}
	switch {
	case s.read || s.seeked:
		return fmt.Errorf("file: seek %s: Seek must be called once, before the first Read", s.label())
	case s.err != nil:
		return fmt.Errorf("file: seek %s: %w", s.label(), s.err)
	}
	s.seeked = true
	for s.lr.line < line {
		if _, _, err := s.lr.next(); err != nil {
			if err == io.EOF {
				err = fmt.Errorf("file: seek %s to line %d: %w: it ends at line %d", s.label(), line, ErrPastEnd, s.lr.line)
			} else {
				err = fmt.Errorf("file: seek %s to line %d: read after line %d: %w", s.label(), line, s.lr.line, err)
			}
			s.err = err
			return err
		}
	}
	s.done = line
	s.line.Store(int64(line))
	return nil
}

// Position returns the source's position, for weir's checkpoints: the last
// line accounted for, as JSON ({"line":1234}). That is the line the last
// record ends on (a quoted field may span lines), for a record Read
// returned or one handed to [ReadOptions.OnBadLine] and skipped; comment
// and blank lines before it are included. A record that ended the read with
// an error is not accounted for, so a resumed run reads it again. Before
// any record it is the header's last line once the header was read, and
// {"line":0} before that.
//
// It implements [weir.Positioner]; [CSVSource.Seek] is its inverse. Call it
// from the goroutine that calls Read. Cost: one small allocation.
func (s *CSVSource[E]) Position() ([]byte, error) {
	return appendLinePos(nil, s.done), nil
}

// Seek makes the next Read start with the first record after line
// pos.line, a position from [CSVSource.Position]. It reads the header (so
// header errors surface here), then parses and discards records, without
// decoding them, until one ends on that line: streaming, in the memory
// Read needs, and blocking while it does. Records the parser rejects (a
// wrong field count) are passed over like the others: they were before the
// checkpoint. It must be called at most once, before the first Read; it
// returns an error otherwise.
//
// Seek fails, and later Reads return the same error, if the input ends
// before the line (an error wrapping [ErrPastEnd] naming both line
// numbers), if the line is inside the header, or if no record ends on it
// (it falls inside a multi-line record): the input is not the file the
// position was taken on.
//
// It implements [weir.Positioner], for [weir.WithCheckpoint].
func (s *CSVSource[E]) Seek(pos []byte) error {
	line, err := parseLinePos(pos)
	if err != nil {
		return fmt.Errorf("file: seek %s: %w", s.label(), err)
	}
	if s.read || s.seeked {
		return fmt.Errorf("file: seek %s: Seek must be called once, before the first Read", s.label())
	}
	s.seeked = true
	if line == 0 {
		return nil // the start: the header is read by the first Read
	}
	if _, err := s.Header(); err != nil {
		return fmt.Errorf("file: seek %s to line %d: %w", s.label(), line, err)
	}
	if s.err != nil {
		return fmt.Errorf("file: seek %s: %w", s.label(), s.err)
	}
	fail := func(err error) error {
		s.err = err
		return err
	}
	if s.endLine > line {
		return fail(fmt.Errorf("file: seek %s to line %d: the line is inside the header, which ends at line %d", s.label(), line, s.endLine))
	}
	for s.endLine < line {
		prevEnd := s.endLine
		_, err := s.cr.Read()
		s.consume()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return fail(fmt.Errorf("file: seek %s to line %d: %w: it ends at line %d", s.label(), line, ErrPastEnd, s.endLine))
		case err != nil && !errors.As(err, &pe):
			return fail(fmt.Errorf("file: seek %s to line %d: %w", s.label(), line, s.fatal(err, prevEnd)))
		}
	}
	if s.endLine != line {
		return fail(fmt.Errorf("file: seek %s to line %d: no record ends on that line (the record there ends at line %d)", s.label(), line, s.endLine))
	}
	s.done = line
	return nil
}

func (s *CSVSource[E]) label() string {
	if s.cfg.Name == "" {
		return "CSV"
	}
	return s.cfg.Name
}
