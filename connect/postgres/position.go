package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/weir-etl/weir"
)

var _ weir.Positioner = (*Source[struct{}])(nil)

// Position returns the key of the last record Read has returned, for
// weir's checkpoints, as JSON holding the key's PostgreSQL text form:
//
//	{"key":"9007199254740993"}                     bigint
//	{"key":"2024-01-02 03:04:05.123456Z"}          timestamptz
//	{"key":"alice"}                                text
//	{"key":null}                                   nothing read, no After
//
// The text form, not a JSON number or a Go value, because it is exact for
// every key type: a JSON number read back by encoding/json is a float64,
// which loses bigints past 2^53, and numeric, timestamptz (to the
// microsecond), uuid or an enum have no JSON type at all. [Source.Seek]
// passes the text back as a query argument, and PostgreSQL parses it as
// the key column's type.
//
// Before the first record it encodes [SourceConfig.After], which must then
// be a value pgx knows how to write as text. It implements
// [weir.Positioner]. Safe to call from any goroutine; cost: one small
// encoding.
func (s *Source[E]) Position() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.position == nil {
		return []byte(`{"key":null}`), nil
	}
	text, err := s.positionText()
	if err != nil {
		return nil, fmt.Errorf("postgres: position: key %q: %w", s.keyCol, err)
	}
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("postgres: position: key %q: its text is not valid UTF-8", s.keyCol)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Key string `json:"key"`
	}{text}); err != nil {
		return nil, fmt.Errorf("postgres: position: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// positionText writes the position in PostgreSQL's text form. Callers
// hold mu.
func (s *Source[E]) positionText() (string, error) {
	if text, ok := s.position.(string); ok {
		return text, nil // a text key, or a position from Seek
	}
	oid := s.posOID
	if oid == 0 {
		// SourceConfig.After: a Go value whose column type is unknown
		// until the first page. pgx's type for the Go type writes it.
		t, ok := s.textMap.TypeForValue(s.position)
		if !ok {
			return "", fmt.Errorf("After of type %T has no PostgreSQL text form known to pgx", s.position)
		}
		oid = t.OID
	}
	b, err := s.textMap.Encode(oid, pgx.TextFormatCode, s.position, nil)
	if err != nil {
		return "", fmt.Errorf("write %T as text: %w", s.position, err)
	}
	if b == nil {
		return "", errors.New("the key is NULL")
	}
	return string(b), nil
}

// Seek makes the source read the rows whose key is greater than the key in
// pos, a position from [Source.Position]: it sets [SourceConfig.After] to
// the key's text form (or to nil for {"key":null}), which each page query
// passes as a text argument for PostgreSQL to parse as the key column's
// type. [Source.LastKey] returns that text until the first record. Seek
// does not touch the database. It must be called at most once, before the
// first Read; it returns an error otherwise, or if pos is malformed. It
// implements [weir.Positioner].
//
// The text is sent as an argument of unspecified type, which the server
// types from the comparison with the key column. That holds in pgx's
// default query modes (statement cache, description cache, simple
// protocol), not in QueryExecModeExec, which would send it as text and fail
// to compare it with a non-text key.
func (s *Source[E]) Seek(pos []byte) error {
	var p map[string]json.RawMessage
	bad := func(err error) error {
		return fmt.Errorf("postgres: seek: position %q is not of the form {\"key\":\"...\"}: %w", pos, err)
	}
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
	var key *string
	if err := json.Unmarshal(raw, &key); err != nil {
		return bad(err)
	}
	if s.read || s.seeked {
		return errors.New("postgres: seek: Seek must be called once, before the first Read")
	}
	s.seeked = true
	var after any
	if key != nil {
		after = *key
	}
	s.after, s.started = after, key != nil
	s.mu.Lock()
	s.position, s.posOID = after, 0
	s.mu.Unlock()
	return nil
}
