package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// rangeSource reads the records of a partition: from start (a position of
// the source's) up to the first record beyond the range. It keeps the
// source's positions, so a partition checkpoints and resumes as a whole
// source does: a Seek (the checkpoint) replaces start.
type rangeSource struct {
	src weir.Source[connect.Row]
	pos weir.Positioner
	// start is where the first Read begins unless Seek was called; nil:
	// the source's beginning.
	start []byte
	// beyond reports whether a record, or a malformed record's error,
	// lies past the range.
	beyond func(r *connect.Row, err error) bool
	// end is the position once a record beyond the range was met: the
	// range's end.
	end           []byte
	started, past bool
}

// newFileRange returns the source of the records of a file range; src
// reads r.File (a file.RowSource).
func newFileRange(src *file.RowSource, r fileRange) (*rangeSource, error) {
	at := func(p filePos) ([]byte, error) {
		return json.Marshal(struct {
			File   string `json:"file"`
			Offset int64  `json:"offset"`
			Line   int    `json:"line"`
		}{r.File, p.Offset, p.Line})
	}
	rs := &rangeSource{src: src, pos: src, beyond: func(*connect.Row, error) bool { return false }}
	var err error
	if r.Start.Offset > 0 {
		if rs.start, err = at(r.Start); err != nil {
			return nil, err
		}
	}
	if r.End != nil {
		if rs.end, err = at(*r.End); err != nil {
			return nil, err
		}
		// A record starting at End starts on line End.Line+1 (lines count
		// from 1): every record of the range starts on a line at or before
		// End.Line.
		last := r.End.Line
		rs.beyond = func(row *connect.Row, err error) bool {
			var le *file.LineError
			if row != nil {
				return row.Pos.Line > int64(last)
			}
			return errors.As(err, &le) && le.Line > last
		}
	}
	return rs, nil
}

// Read reads the next records of the range; io.EOF at its end.
func (s *rangeSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	if s.past {
		return 0, io.EOF
	}
	if !s.started {
		s.started = true
		if s.start != nil {
			if err := s.pos.Seek(s.start); err != nil {
				return 0, err
			}
		}
	}
	n, err := s.src.Read(ctx, buf)
	for i := range n {
		if s.beyond(&buf[i], nil) {
			s.past = true
			if i == 0 {
				return 0, io.EOF
			}
			return i, nil
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && s.beyond(nil, err) {
		s.past = true
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
	return n, err
}

// Position is the source's, or the range's end once past it.
func (s *rangeSource) Position() ([]byte, error) {
	if s.past && s.end != nil {
		return s.end, nil
	}
	return s.pos.Position()
}

// Seek starts the read at pos, a checkpoint of this range, instead of
// at its start.
func (s *rangeSource) Seek(pos []byte) error {
	s.started = true
	if s.end != nil && bytes.Equal(pos, s.end) {
		s.past = true // the checkpoint of a finished range
		return nil
	}
	return s.pos.Seek(pos)
}
