package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

var (
	_ weir.Positioner = (*RowSource)(nil)
	_ weir.Closer     = (*RowSource)(nil)
)

// errNoResume is the error of Position and Seek on a streamed source.
func (s *RowSource) errNoResume(op string) error {
	return fmt.Errorf("postgres: %s: %s is read without a key (no Key and no primary key), so it cannot resume", op, s.label)
}

// readStream reads the next rows of a source without a key, starting its
// query at the first call.
func (s *RowSource) readStream(ctx context.Context, buf []connect.Row) (int, error) {
	switch {
	case s.streamErr != nil:
		return 0, s.streamErr
	case s.done:
		return 0, io.EOF
	}
	if s.stream == nil {
		// The query outlives this Read, so it runs on a context of its
		// own; each Read cancels it if its own context is cancelled.
		qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		rows, err := s.db.Query(qctx, s.first, pgx.QueryExecModeCacheDescribe, s.formats)
		if err == nil {
			err = s.checkFields(rows)
		}
		if err != nil {
			if rows != nil {
				rows.Close()
			}
			cancel()
			s.streamErr = fmt.Errorf("postgres: read %s: %w", s.label, detailed(err))
			return 0, s.streamErr
		}
		s.stream, s.stopStream = rows, cancel
	}
	stop := context.AfterFunc(ctx, s.stopStream)
	defer stop()
	vals := make([]connect.Value, len(buf)*len(s.cols))
	n := 0
	for n < len(buf) && s.stream.Next() {
		row := vals[n*len(s.cols) : (n+1)*len(s.cols) : (n+1)*len(s.cols)]
		if err := s.decodeRow(s.stream, row, s.line+1); err != nil {
			s.streamErr = err
			s.endStream()
			return n, err
		}
		s.line++
		buf[n] = connect.Row{Values: row, Pos: connect.Pos{Name: s.label, Line: s.line}}
		n++
	}
	if n == len(buf) {
		return n, nil
	}
	s.endStream()
	if err := s.stream.Err(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		s.streamErr = fmt.Errorf("postgres: read %s: %w", s.label, detailed(err))
		return n, s.streamErr
	}
	s.done = true
	return n, io.EOF
}

// endStream closes a streamed query and releases its connection.
func (s *RowSource) endStream() {
	s.stream.Close()
	s.stopStream()
}

// Close ends a streamed query and releases its connection; later Reads
// return [ErrClosed]. It is idempotent, returns nil, and must not run
// concurrently with Read. A keyed source holds nothing between Reads;
// closing it only makes later Reads fail.
func (s *RowSource) Close(context.Context) error {
	if !s.closed && s.stream != nil {
		s.endStream()
	}
	s.closed = true
	return nil
}

// keyArgs returns the key of row as the next page's arguments: each
// column's text form, which the server parses as the key column's type.
func (s *RowSource) keyArgs(row []connect.Value) []any {
	args := make([]any, len(s.keyIdx))
	for i, j := range s.keyIdx {
		args[i] = string(appendPGText(nil, s.kinds[j], row[j]))
	}
	return args
}

// setLastKey records the key of row, the last one Read returned.
func (s *RowSource) setLastKey(row []connect.Value) {
	key := make([]connect.Value, len(s.keyIdx))
	for i, j := range s.keyIdx {
		key[i] = row[j]
	}
	s.mu.Lock()
	s.lastKey = key
	s.mu.Unlock()
}

// LastKey returns the key of the last row Read has returned, one value per
// key column, as [connect.Value.Any] gives it (int64 for bigint, string for
// text and numeric, time.Time for dates and timestamps, ...). Before the
// first row it returns RowSourceConfig.After (the key's texts after a
// Seek); nil when reading from the start or without a key. A new source
// with After set to it reads exactly the rows after those already read.
// Safe to call from any goroutine.
func (s *RowSource) LastKey() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastKey == nil {
		return append([]any(nil), s.start...)
	}
	out := make([]any, len(s.lastKey))
	for i, v := range s.lastKey {
		out[i] = v.Any()
	}
	return out
}

// Position returns the key of the last row Read has returned, for weir's
// checkpoints, as JSON holding each key column's PostgreSQL text form:
// {"key":["42","2024-01-02 03:04:05+00"]}, or {"key":null} before the
// first row of a read from the start. Text, because it is exact for every
// type (a bigint past 2^53, a numeric, a timestamp to the microsecond).
// A source without a key returns an error. It implements
// [weir.Positioner]; safe to call from any goroutine.
func (s *RowSource) Position() ([]byte, error) {
	if s.keyIdx == nil {
		return nil, s.errNoResume("position")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var texts []string
	switch {
	case s.lastKey != nil:
		for i, v := range s.lastKey {
			texts = append(texts, string(appendPGText(nil, s.kinds[s.keyIdx[i]], v)))
		}
	case s.start != nil:
		for _, v := range s.start {
			t, err := anyText(v)
			if err != nil {
				return nil, fmt.Errorf("postgres: position: %w", err)
			}
			texts = append(texts, t)
		}
	}
	for _, t := range texts {
		if !utf8.ValidString(t) {
			return nil, errors.New("postgres: position: a key's text is not valid UTF-8")
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Key []string `json:"key"`
	}{texts}); err != nil {
		return nil, fmt.Errorf("postgres: position: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// anyText returns v, a key value of RowSourceConfig.After, in PostgreSQL's
// text form.
func anyText(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	m := pgtype.NewMap()
	t, ok := m.TypeForValue(v)
	if !ok {
		return "", fmt.Errorf("After value of type %T has no PostgreSQL text form known to pgx", v)
	}
	b, err := m.Encode(t.OID, pgx.TextFormatCode, v, nil)
	if err != nil || b == nil {
		return "", fmt.Errorf("write After value %v as text: %w", v, errors.Join(err, errors.New("NULL")))
	}
	return string(b), nil
}

// Seek makes the source read the rows after the key in pos, a position
// from [RowSource.Position] (or from the start for {"key":null}). It must
// be called at most once, before the first Read, and does not touch the
// database; it returns an error otherwise, if pos is malformed or has a
// value per key column too many or too few, and on a source without a key.
// It implements [weir.Positioner].
func (s *RowSource) Seek(pos []byte) error {
	if s.keyIdx == nil {
		return s.errNoResume("seek")
	}
	bad := func(err error) error {
		return fmt.Errorf(`postgres: seek: position %q is not of the form {"key":["...",...]}: %w`, pos, err)
	}
	var p map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(pos))
	if err := dec.Decode(&p); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad(errors.New("data after the object"))
	}
	raw, ok := p["key"]
	if !ok || len(p) != 1 {
		return bad(errors.New(`want exactly the field "key"`))
	}
	var key []string
	if err := json.Unmarshal(raw, &key); err != nil {
		return bad(err)
	}
	if key != nil && len(key) != len(s.keyIdx) {
		return bad(fmt.Errorf("%d values for a key of %d columns", len(key), len(s.keyIdx)))
	}
	if s.read || s.seeked {
		return errors.New("postgres: seek: Seek must be called once, before the first Read")
	}
	s.seeked = true
	var args []any
	for _, k := range key {
		args = append(args, k)
	}
	s.args, s.started = args, key != nil
	s.mu.Lock()
	s.start, s.lastKey = args, nil
	s.mu.Unlock()
	return nil
}
