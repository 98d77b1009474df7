package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// rowPos is a RowSource's position: the file, the input offset where the
// read resumes, and the line breaks before it. As JSON:
// {"file":"data/b.csv","offset":81920,"line":1000}.
type rowPos struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Line   int    `json:"line"`
	idx    int    // index of File in RowSource.files
}

// pos returns the position after the record the current file's decoder
// read last.
func (s *RowSource) pos() rowPos {
	return rowPos{File: s.files[s.idx], Offset: s.cur.in.offset(), Line: s.cur.dec.lines(), idx: s.idx}
}

// after reports whether p comes after q in the read.
func (p rowPos) after(q rowPos) bool {
	return p.idx > q.idx || p.idx == q.idx && p.Offset > q.Offset
}

// Position returns the source's position, for weir's checkpoints: the file
// and the byte offset in its uncompressed content just after the last
// record accounted for, and the number of lines before that offset, as
// JSON: {"file":"data/b.csv","offset":81920,"line":1000}. A record is
// accounted for once Read returned it or [ReadOptions.OnBadLine] skipped
// it. A malformed record that Read returned as its error is accounted for
// by the next Read, which goes on after it, so a position taken between the
// two resumes at the malformed record. Before the first Read it is the
// start of the first file.
//
// It implements weir.Positioner; [RowSource.Seek] is its inverse. Cost: one
// small allocation.
func (s *RowSource) Position() ([]byte, error) { return json.Marshal(s.done) }

// Seek makes the next Read start at pos, a position from
// [RowSource.Position] of a source over the same input with the same
// config. It must be called at most once, before the first Read; it
// returns an error otherwise.
//
// A position inside the sample drops the sampled records before it. One
// past the sample reopens its file: a plain file seeks to the offset; a
// gzipped file (which cannot seek) and the reader of [NewRowSource] are
// read and discarded up to it, streaming, which takes as long as reading
// them did. Files of a glob sorted before the position's file are taken as
// read, so a file added there since is not read.
//
// Seek fails, and later Reads return the same error, if the position's
// file is not among the source's, if its input ends before the offset (an
// error wrapping [ErrPastEnd]), or if the offset is not where a record
// starts in CSV or JSON Lines: the input is not the one the position was
// taken on.
func (s *RowSource) Seek(pos []byte) error {
	p, err := parseRowPos(pos)
	if err != nil {
		return fmt.Errorf("file: seek %s: %w", s.label(), err)
	}
	if s.read || s.seeked {
		return fmt.Errorf("file: seek %s: Seek must be called once, before the first Read", s.label())
	}
	s.seeked = true
	if err := s.seek(p); err != nil {
		s.err, s.queue = fmt.Errorf("file: seek %s to %s: %w", s.label(), pos, err), nil
		return s.err
	}
	s.done = p
	return nil
}

func (s *RowSource) seek(p rowPos) error {
	p.idx = slices.Index(s.files, p.File)
	if p.idx < 0 {
		return fmt.Errorf("the position is in %q, which is not among the files read", p.File)
	}
	// In the sample: drop what comes before.
	last, k := s.done, 0
	for ; k < len(s.queue) && s.queue[k].kind != sampleStop && !s.queue[k].after.after(p); k++ {
		last = s.queue[k].after
	}
	switch {
	case !p.after(last) && !last.after(p):
		s.queue = s.queue[k:]
		return nil
	case k < len(s.queue) && s.queue[k].kind != sampleStop:
		return fmt.Errorf("no record of the sample starts at offset %d of %s", p.Offset, p.File)
	}
	// Past the sample.
	s.queue = nil
	if s.rd == nil {
		if s.cur != nil {
			if err := s.cur.close(); err != nil {
				return err
			}
			s.cur = nil
		}
		if err := s.openAt(p.idx); err != nil {
			return err
		}
	} else if s.cur == nil {
		return fmt.Errorf("%w: the input ended before offset %d", ErrPastEnd, p.Offset)
	}
	return s.cur.jump(p.Offset, p.Line)
}

// parseRowPos decodes a position of rowPos's form, strictly.
func parseRowPos(pos []byte) (rowPos, error) {
	var p struct {
		File   *string `json:"file"`
		Offset *int64  `json:"offset"`
		Line   *int    `json:"line"`
	}
	dec := json.NewDecoder(bytes.NewReader(pos))
	dec.DisallowUnknownFields()
	form := `{"file":"...","offset":N,"line":N}`
	if err := dec.Decode(&p); err != nil {
		return rowPos{}, fmt.Errorf("position %q is not of the form %s: %w", pos, form, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rowPos{}, fmt.Errorf("position %q has data after the object", pos)
	}
	if p.File == nil || p.Offset == nil || p.Line == nil || *p.Offset < 0 || *p.Line < 0 {
		return rowPos{}, fmt.Errorf("position %q is not of the form %s with N >= 0", pos, form)
	}
	return rowPos{File: *p.File, Offset: *p.Offset, Line: *p.Line}, nil
}

func (s *RowSource) label() string {
	if len(s.files) == 1 {
		return nameOr(s.files[0])
	}
	return fmt.Sprintf("%s (and %d more files)", s.files[0], len(s.files)-1)
}
