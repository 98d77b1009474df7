package file

import (
	"bytes"
	"math"
	"strconv"
	"time"
)

// MongoDB Extended JSON (see the package documentation for the table) is
// rewritten to plain JSON by one pass over the line that copies everything
// but the wrappers. A wrapper is an object with exactly one known "$" key
// and a value of the expected shape; anything else, including objects that
// merely look alike (two keys, a number where a string belongs, escapes in
// the key), is copied unchanged. The pass never turns valid JSON into
// invalid JSON: every value it writes is a JSON string, number or null.

// hasExtJSON reports whether line may hold an Extended JSON wrapper: the
// common path (no "$ anywhere) costs one vectorised search.
func hasExtJSON(line []byte) bool { return bytes.Contains(line, []byte(`"$`)) }

// appendPlainJSON appends src to dst with every Extended JSON wrapper
// replaced by its plain value. Invalid JSON is copied through unchanged for
// the decoder to report.
func appendPlainJSON(dst, src []byte) []byte {
	last := 0
	for i := 0; i < len(src); {
		switch src[i] {
		case '"':
			i = skipString(src, i)
		case '{':
			if v, end, ok := matchWrapper(src, i); ok {
				dst = append(dst, src[last:i]...)
				dst = v.appendTo(dst)
				i, last = end, end
				continue
			}
			i++
		default:
			i++
		}
	}
	return append(dst, src[last:]...)
}

type wrapperKind uint8

const (
	rawToken   wrapperKind = iota // copy tok as is (a string or number token)
	nullValue                     // write null
	millisDate                    // write ms as an RFC 3339 string
	intValue                      // write n
	floatValue                    // write f
	timeValue                     // write t as an RFC 3339 string
)

type wrapperValue struct {
	kind wrapperKind
	tok  []byte
	ms   int64
	n    int64
	f    float64
	t    time.Time
}

func (v wrapperValue) appendTo(dst []byte) []byte {
	switch v.kind {
	case nullValue:
		return append(dst, "null"...)
	case millisDate:
		return appendTime(dst, time.UnixMilli(v.ms))
	case timeValue:
		return appendTime(dst, v.t)
	case intValue:
		return strconv.AppendInt(dst, v.n, 10)
	case floatValue:
		return strconv.AppendFloat(dst, v.f, 'g', -1, 64)
	}
	return append(dst, v.tok...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// openWrapper matches `{ "$key" :` at src[i] and returns the key and the
// index of the value.
func openWrapper(src []byte, i int) (key []byte, j int, ok bool) {
	j = skipSpace(src, i+1)
	key, j, ok = simpleString(src, j)
	if !ok || len(key) < 2 || key[0] != '$' {
		return nil, 0, false
	}
	j = skipSpace(src, j)
	if j >= len(src) || src[j] != ':' {
		return nil, 0, false
	}
	j = skipSpace(src, j+1)
	return key, j, j < len(src)
}

// closeWrapper matches the closing '}' of a wrapper at or after src[j] and
// returns the index just past it.
func closeWrapper(src []byte, j int) (int, bool) {
	j = skipSpace(src, j)
	if j >= len(src) || src[j] != '}' {
		return 0, false
	}
	return j + 1, true
}

// matchWrapper reports whether an Extended JSON wrapper starts at src[i]
// (which is '{'), and returns its value and the index just past its '}'.
func matchWrapper(src []byte, i int) (v wrapperValue, end int, ok bool) {
	key, j, ok := openWrapper(src, i)
	if !ok {
		return v, 0, false
	}
	switch string(key) {
	case "$oid":
		if src[j] != '"' {
			return v, 0, false
		}
		e := skipString(src, j)
		v = wrapperValue{kind: rawToken, tok: src[j:e]}
		j = e
	case "$date":
		v, j, ok = matchDate(src, j)
	case "$numberLong", "$numberInt":
		var s []byte
		if s, j, ok = simpleString(src, j); ok {
			v.n, ok = parseInt(s)
			v.kind = intValue
		}
	case "$numberDouble", "$numberDecimal":
		var s []byte
		if s, j, ok = simpleString(src, j); ok {
			v, ok = numberValue(s)
		}
	default:
		return v, 0, false
	}
	if !ok {
		return v, 0, false
	}
	if end, ok = closeWrapper(src, j); !ok {
		return v, 0, false
	}
	return v, end, true
}

// matchDate matches the value of a "$date" key at src[j] and returns it and
// the index after it.
func matchDate(src []byte, j int) (v wrapperValue, end int, ok bool) {
	switch c := src[j]; {
	case c == '"':
		s, e, ok := simpleString(src, j)
		if !ok {
			return v, 0, false
		}
		if n := len(s); n > 5 && (s[n-5] == '+' || s[n-5] == '-') && isDigits(s[n-4:]) {
			for _, layout := range legacyDateLayouts {
				if t, err := time.Parse(layout, string(s)); err == nil {
					return wrapperValue{kind: timeValue, t: t}, e, true
				}
			}
		}
		// RFC 3339 already (what mongoexport writes), or not a date at
		// all: either way the decoder judges the string.
		return wrapperValue{kind: rawToken, tok: src[j:e]}, e, true
	case c == '{':
		key, k, ok := openWrapper(src, j)
		if !ok || string(key) != "$numberLong" {
			return v, 0, false
		}
		s, k, ok := simpleString(src, k)
		if !ok {
			return v, 0, false
		}
		ms, ok := parseInt(s)
		if !ok {
			return v, 0, false
		}
		if e, ok := closeWrapper(src, k); ok {
			return wrapperValue{kind: millisDate, ms: ms}, e, true
		}
	case c == '-' || (c >= '0' && c <= '9'):
		e := j
		for e < len(src) && isNumberByte(src[e]) {
			e++
		}
		tok := src[j:e]
		if n, ok := parseInt(tok); ok {
			return wrapperValue{kind: millisDate, ms: n}, e, true
		}
		if !isJSONNumber(tok) {
			return v, 0, false
		}
		if f, err := strconv.ParseFloat(string(tok), 64); err == nil && f >= math.MinInt64 && f < math.MaxInt64 {
			return wrapperValue{kind: millisDate, ms: int64(f)}, e, true
		}
	}
	return v, 0, false
}

func isDigits(s []byte) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) > 0
}

// legacyDateLayouts are the $date strings older mongoexport versions wrote
// (a numeric offset without a colon).
var legacyDateLayouts = []string{
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02T15:04:05-0700",
}

// numberValue turns the string of a $numberDouble or $numberDecimal into a
// JSON number token, or null for the non-finite values.
func numberValue(s []byte) (wrapperValue, bool) {
	switch string(s) {
	case "Infinity", "-Infinity", "+Infinity", "NaN", "-NaN", "Inf", "-Inf":
		return wrapperValue{kind: nullValue}, true
	}
	if isJSONNumber(s) {
		return wrapperValue{kind: rawToken, tok: s}, true
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return wrapperValue{}, false
	}
	return wrapperValue{kind: floatValue, f: f}, true
}

func parseInt(s []byte) (int64, bool) {
	if !isJSONNumber(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// isJSONNumber reports whether s is a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// simpleString reads a string token at src[j] that has no escapes and
// returns its contents and the index after it. The keys and values of the
// wrappers handled here are plain ASCII; a string with a backslash is not
// one mongoexport writes for them, so it does not match.
func simpleString(src []byte, j int) ([]byte, int, bool) {
	if j >= len(src) || src[j] != '"' {
		return nil, 0, false
	}
	for k := j + 1; k < len(src); k++ {
		switch src[k] {
		case '"':
			return src[j+1 : k], k + 1, true
		case '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// skipString returns the index just past the string token starting at
// src[i] (a '"'), or len(src) when it is unterminated.
func skipString(src []byte, i int) int {
	for k := i + 1; k < len(src); k++ {
		switch src[k] {
		case '"':
			return k + 1
		case '\\':
			k++
		}
	}
	return len(src)
}

func skipSpace(src []byte, j int) int {
	for j < len(src) {
		switch src[j] {
		case ' ', '\t', '\r', '\n':
			j++
		default:
			return j
		}
	}
	return j
}
