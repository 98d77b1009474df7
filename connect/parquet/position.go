package parquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrPastEnd is wrapped by the error of a Seek to a row past the end of
// its file.
var ErrPastEnd = errors.New("parquet: position past the end of the file")

// rowPos is a RowSource's position: the file and the rows of it read. As
// JSON: {"file":"data/b.parquet","row":1000}.
type rowPos struct {
	File string `json:"file"`
	Row  int64  `json:"row"`
}

// Position returns the source's position, for weir's checkpoints: the file
// and the number of its rows Read returned, as JSON:
// {"file":"data/b.parquet","row":1000}. Before the first Read it is the
// start of the first file. It implements weir.Positioner;
// [RowSource.Seek] is its inverse. Cost: one small allocation.
func (s *RowSource) Position() ([]byte, error) {
	if s.cur != nil {
		return json.Marshal(rowPos{File: s.cur.path, Row: s.cur.done})
	}
	return json.Marshal(s.at)
}

// Seek makes the next Read start at pos, a position from
// [RowSource.Position] of a source over the same files. It must be called
// at most once, before the first Read; it returns an error otherwise.
//
// It opens the position's file and starts at the row group that holds the
// row, skipping the pages before it where the file has a page index and
// reading past the rows before it otherwise. Files of a glob sorted before
// the position's file are taken as read, so a file added there since is
// not read.
//
// Seek fails, and later Reads return the same error, if the position's
// file is not among the source's or has fewer rows than the position (an
// error wrapping [ErrPastEnd]).
func (s *RowSource) Seek(pos []byte) error {
	p, err := parseRowPos(pos)
	if err != nil {
		return fmt.Errorf("parquet: seek %s: %w", s.files[0], err)
	}
	if s.read || s.seek {
		return fmt.Errorf("parquet: seek %s: Seek must be called once, before the first Read", s.files[0])
	}
	s.seek = true
	if err := s.seekTo(p); err != nil {
		s.err = fmt.Errorf("parquet: seek to %s: %w", pos, err)
		return s.err
	}
	return nil
}

func (s *RowSource) seekTo(p rowPos) error {
	idx := slices.Index(s.files, p.File)
	if idx < 0 {
		return fmt.Errorf("the position is in %q, which is not among the files read", p.File)
	}
	if s.cur != nil {
		if err := s.cur.close(); err != nil {
			return err
		}
		s.cur = nil
	}
	s.idx = idx
	f, err := s.open(p.File)
	if err != nil {
		return err
	}
	s.cur = f
	if total := f.pf.NumRows(); p.Row > total {
		return fmt.Errorf("%w: %s has %d rows, the position is after row %d", ErrPastEnd, p.File, total, p.Row)
	}
	left := p.Row
	for _, g := range f.pf.RowGroups() {
		if left < g.NumRows() {
			break
		}
		left -= g.NumRows()
		f.rg++
	}
	f.done = p.Row
	if left == 0 {
		return nil
	}
	f.rows = f.pf.RowGroups()[f.rg].Rows()
	return guard(func() error { return f.rows.SeekToRow(left) })
}

// parseRowPos decodes a position of rowPos's form, strictly.
func parseRowPos(pos []byte) (rowPos, error) {
	var v struct {
		File *string `json:"file"`
		Row  *int64  `json:"row"`
	}
	dec := json.NewDecoder(bytes.NewReader(pos))
	dec.DisallowUnknownFields()
	form := `{"file":"...","row":N}`
	if err := dec.Decode(&v); err != nil {
		return rowPos{}, fmt.Errorf("position %q is not of the form %s: %w", pos, form, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rowPos{}, fmt.Errorf("position %q has data after the object", pos)
	}
	if v.File == nil || v.Row == nil || *v.Row < 0 {
		return rowPos{}, fmt.Errorf("position %q is not of the form %s with N >= 0", pos, form)
	}
	return rowPos{File: *v.File, Row: *v.Row}, nil
}
