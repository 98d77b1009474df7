package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// Read fetches the next page, up to len(buf) rows (or PageSize), into buf.
// It returns io.EOF with the last page (a page shorter than asked means
// the end), so reading n rows costs about n/len(buf) + 1 queries. A value
// that does not fit its column, or a query error, ends the Read with the
// rows before it; LastKey then points at the last of them, and a later
// Read fails on that row again (a query read without Key fails for good).
// Blocks on the query; cancelling ctx interrupts it.
func (s *RowSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	s.mu.Lock()
	closed, done, pos := s.closed, s.done, s.pos
	s.started = true
	s.mu.Unlock()
	switch {
	case closed:
		return 0, ErrClosed
	case done:
		return 0, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(buf) == 0 {
		return 0, nil
	}
	limit := len(buf)
	if s.cfg.PageSize > 0 && s.cfg.PageSize < limit {
		limit = s.cfg.PageSize
	}
	if s.onePass {
		return s.readOnePass(ctx, buf[:limit])
	}
	stmt, args, err := s.page(ctx, pos, limit)
	if err != nil {
		return 0, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: read %s: %w", s.label, err)
	}
	n, err := s.scan(rows, buf[:limit])
	if cerr := rows.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("sqlite: read %s: %w", s.label, cerr)
	}
	last := err == nil && n < limit
	s.advance(last)
	switch {
	case err != nil:
		return n, err
	case last:
		return n, io.EOF
	}
	return n, nil
}

// readOnePass reads the next rows of a query without Key from its cursor,
// opened by the first call. The cursor outlives the Read's ctx (a later
// Read goes on with it), so ctx interrupts it only while a Read runs.
func (s *RowSource) readOnePass(ctx context.Context, buf []connect.Row) (int, error) {
	if s.cursorErr != nil {
		return 0, s.cursorErr
	}
	if s.cursor == nil {
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		rows, err := s.db.QueryContext(cctx, s.first)
		if err != nil {
			cancel()
			return 0, fmt.Errorf("sqlite: read %s: %w", s.label, err)
		}
		s.cursor, s.stopCursor = rows, cancel
	}
	stop := context.AfterFunc(ctx, s.stopCursor)
	n, err := s.scan(s.cursor, buf)
	stop()
	if err == nil && n == len(buf) {
		return n, nil
	}
	cerr := s.cursor.Close()
	s.stopCursor()
	s.cursor = nil
	if err != nil {
		s.cursorErr = err
		return n, err
	}
	if cerr != nil {
		s.cursorErr = fmt.Errorf("sqlite: read %s: %w", s.label, cerr)
		return n, s.cursorErr
	}
	s.advance(true)
	return n, io.EOF
}

// page picks the statement and arguments for the page after pos.
func (s *RowSource) page(ctx context.Context, pos []any, limit int) (*sql.Stmt, []any, error) {
	var err error
	if pos == nil {
		if s.stmtFirst == nil {
			if s.stmtFirst, err = s.db.PrepareContext(ctx, s.first); err != nil {
				return nil, nil, fmt.Errorf("sqlite: read %s: prepare: %w", s.label, err)
			}
		}
		return s.stmtFirst, []any{limit}, nil
	}
	if s.stmtNext == nil {
		if s.stmtNext, err = s.db.PrepareContext(ctx, s.next); err != nil {
			return nil, nil, fmt.Errorf("sqlite: read %s: prepare: %w", s.label, err)
		}
	}
	args := make([]any, 0, len(pos)+1)
	return s.stmtNext, append(append(args, pos...), limit), nil
}

// scan decodes rows into buf until buf is full or rows end, and keeps the
// key of the last row decoded. It stops at the first row it cannot read.
func (s *RowSource) scan(rows *sql.Rows, buf []connect.Row) (int, error) {
	nc := len(s.cols)
	vals := make([]connect.Value, len(buf)*nc)
	n := 0
	for n < len(buf) && rows.Next() {
		if err := rows.Scan(s.dest...); err != nil {
			return n, fmt.Errorf("sqlite: read %s: %s: %w", s.label, s.where(), err)
		}
		row := vals[n*nc : (n+1)*nc : (n+1)*nc]
		for j, c := range s.cols {
			v, err := decode(c.Type, s.raw[j])
			if err != nil {
				return n, fmt.Errorf("sqlite: read %s: %s: column %q: %w", s.label, s.where(), c.Name, err)
			}
			row[j] = v
		}
		s.line++
		line := s.line
		if s.rowid {
			line, _ = s.raw[nc].(int64)
		}
		buf[n] = connect.Row{Values: row, Pos: connect.Pos{Name: s.label, Line: line}}
		copy(s.key, s.raw[nc:])
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("sqlite: read %s: %w", s.label, err)
	}
	return n, nil
}

// where names the row in s.raw for an error: its rowid, its key, or its
// number in a one-pass read.
func (s *RowSource) where() string {
	key := s.raw[len(s.cols):]
	show := func(v any) string {
		if str, ok := v.(string); ok {
			return fmt.Sprintf("%q", str)
		}
		return fmt.Sprint(v)
	}
	switch {
	case s.onePass:
		return fmt.Sprintf("row %d", s.line+1)
	case s.rowid:
		return "rowid " + show(key[0])
	case len(key) == 1:
		return s.cfg.Key[0] + " " + show(key[0])
	}
	vals := make([]string, len(key))
	for i, v := range key {
		vals[i] = show(v)
	}
	return fmt.Sprintf("key (%s) (%s)", strings.Join(s.cfg.Key, ", "), strings.Join(vals, ", "))
}

// advance moves the position to the key of the last row decoded, if a
// row was, and marks the end.
func (s *RowSource) advance(done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.line > 0 && !s.onePass {
		s.pos = slices.Clone(s.key)
	}
	s.done = done
}

// LastKey returns the key of the last row read (a copy, in Key order; a
// rowid for a table read by rowid), or RowSourceConfig.After before the
// first row. Pass it as After to resume after that row. nil for a query
// read without Key. Safe for concurrent use.
func (s *RowSource) LastKey() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pos)
}

// Position returns the key of the last row read, for weir's checkpoints,
// in the JSON form [Source.Position] documents. A query read without Key
// has no position: Position returns an error. Safe for concurrent use.
func (s *RowSource) Position() ([]byte, error) {
	if s.onePass {
		return nil, fmt.Errorf("sqlite: position of %s: %w", s.label, errNoKey)
	}
	s.mu.Lock()
	key := s.pos
	s.mu.Unlock()
	pos, err := encodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("sqlite: position of %s: %w", s.label, err)
	}
	return pos, nil
}

// Seek makes the source read after the key in pos, a position from
// [RowSource.Position], replacing RowSourceConfig.After. It must be called
// at most once, before the first Read, and fails otherwise, for a
// malformed pos, for one with another number of key values, and for a
// query read without Key. It does not touch the database.
func (s *RowSource) Seek(pos []byte) error {
	if s.onePass {
		return fmt.Errorf("sqlite: seek %s: %w", s.label, errNoKey)
	}
	key, err := decodeKey(pos)
	if err != nil {
		return fmt.Errorf("sqlite: seek %s: %w", s.label, err)
	}
	if key != nil && len(key) != len(s.key) {
		return fmt.Errorf("sqlite: seek %s: position %s has %d key values for a key of %d columns", s.label, pos, len(key), len(s.key))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started || s.seeked:
		return fmt.Errorf("sqlite: seek %s: Seek must be called once, before the first Read", s.label)
	}
	s.seeked = true
	s.pos = key
	return nil
}
