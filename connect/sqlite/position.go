package sqlite

import (
	"bytes"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weir-etl/weir"
)

var _ weir.Positioner = (*Source[struct{}])(nil)

// Position returns the key of the last record read, for weir's
// checkpoints, as JSON: {"key":[v1, v2, ...]} in Table.Key order
// ({"key":null} before the first record, when After is not set). Each
// value is first converted as database/sql converts a query argument (a
// driver.Valuer's Value, any integer to int64, any float to float64), so
// that [Source.Seek] gives back the very value the query would bind:
//
//	int64        123          (a JSON number without '.' or exponent)
//	float64      1.5, 3.0     (always with '.' or an exponent)
//	string       "abc"
//	bool         true
//	[]byte       {"$blob":"<base64>"}
//	time.Time    {"$time":"2024-01-02T03:04:05.123456789Z"} (RFC 3339, nanoseconds)
//
// A key that is not valid UTF-8 text, or a float that is NaN or infinite,
// cannot be written exactly: Position returns an error rather than a
// position that would resume in the wrong place. It implements
// [weir.Positioner]. Safe for concurrent use; cost: one small encoding.
func (s *Source[E]) Position() ([]byte, error) {
	s.mu.Lock()
	key := s.pos
	s.mu.Unlock()
	pos, err := encodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("sqlite: position of %s: %w", s.what(), err)
	}
	return pos, nil
}

// Seek makes the source read after the key in pos, a position from
// [Source.Position]: it sets [SourceConfig.After], replacing the one the
// source was made with. It does not touch the database. It must be called
// at most once, before the first Read, and returns an error otherwise, or
// if pos is malformed or has a different number of key columns than
// Table.Key. It implements [weir.Positioner].
func (s *Source[E]) Seek(pos []byte) error {
	key, err := decodeKey(pos)
	if err != nil {
		return fmt.Errorf("sqlite: seek %s: %w", s.what(), err)
	}
	if key != nil && len(key) != len(s.cfg.Table.Key) {
		return fmt.Errorf("sqlite: seek %s: position %s has %d key values for a key of %d columns (%s)",
			s.what(), pos, len(key), len(s.cfg.Table.Key), strings.Join(s.cfg.Table.Key, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started || s.seeked:
		return fmt.Errorf("sqlite: seek %s: Seek must be called once, before the first Read", s.what())
	}
	s.seeked = true
	s.pos = key
	return nil
}

func encodeKey(key []any) ([]byte, error) {
	b := []byte(`{"key":`)
	if key == nil {
		return append(b, "null}"...), nil
	}
	b = append(b, '[')
	for i, v := range key {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendKeyValue(b, v); err != nil {
			return nil, fmt.Errorf("key value %d (%T): %w", i, v, err)
		}
	}
	return append(b, "]}"...), nil
}

func appendKeyValue(b []byte, v any) ([]byte, error) {
	dv, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return nil, err
	}
	switch x := dv.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v cannot be written in JSON", x)
		}
		start := len(b)
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
		if !bytes.ContainsAny(b[start:], ".eE") {
			b = append(b, ".0"...) // so that it reads back as a float64
		}
		return b, nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		if !utf8.ValidString(x) {
			return nil, errors.New("a text key that is not valid UTF-8 cannot be written in JSON exactly")
		}
		return appendJSON(b, x)
	case []byte:
		b = append(b, `{"$blob":"`...)
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, `"}`...), nil
	case time.Time:
		b = append(b, `{"$time":"`...)
		b = x.AppendFormat(b, time.RFC3339Nano)
		return append(b, `"}`...), nil
	}
	return nil, fmt.Errorf("unexpected driver value %T", dv)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), nil
}

// decodeKey is encodeKey's inverse. It is strict: anything encodeKey does
// not write is an error.
func decodeKey(pos []byte) ([]any, error) {
	bad := func(err error) error {
		return fmt.Errorf("position %q is not of the form {\"key\":[...]}: %w", pos, err)
	}
	var p map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(pos))
	if err := dec.Decode(&p); err != nil {
		return nil, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad(errors.New("data after the object"))
	}
	raw, ok := p["key"]
	if !ok || len(p) != 1 {
		return nil, bad(errors.New(`want exactly the field "key"`))
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil // from the start
	}
	var vals []json.RawMessage
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, bad(err)
	}
	if len(vals) == 0 {
		return nil, bad(errors.New("an empty key"))
	}
	key := make([]any, len(vals))
	for i, raw := range vals {
		v, err := decodeKeyValue(raw)
		if err != nil {
			return nil, bad(fmt.Errorf("key value %d: %w", i, err))
		}
		key[i] = v
	}
	return key, nil
}

func decodeKeyValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return strconv.ParseFloat(string(x), 64)
		}
		return strconv.ParseInt(string(x), 10, 64)
	case map[string]any:
		if len(x) == 1 {
			if s, ok := x["$blob"].(string); ok {
				return base64.StdEncoding.DecodeString(s)
			}
			if s, ok := x["$time"].(string); ok {
				return time.Parse(time.RFC3339Nano, s)
			}
		}
	}
	return nil, fmt.Errorf("%s is not a key value (a number, string, boolean, {\"$blob\":...} or {\"$time\":...})", raw)
}
