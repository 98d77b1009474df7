package job

import (
	"errors"
	"fmt"
	copyrules "github.com/weir-etl/weir/connect/schema"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect"
)

// Conversion to a column's declared type is exact or fails: nothing is
// rounded, truncated or guessed. Text parses strictly (strconv for
// numbers and booleans, RFC 3339 for times); a number goes into an
// integer only if it is an integer literal (or an int an expression
// computed) in range, into a double by parsing its text (the nearest
// double, as a database does), into a numeric as its exact text. Any
// value goes into text (an object or array as its JSON text) and into
// json. Times keep microseconds, as the target databases do.

// errNot marks a value of a kind a type does not take; convert's callers
// turn it into "a string "x" is not a bigint".
var errNot = errors.New("not of the type")

func notA(what, shown string, t connect.Type, err error) error {
	if shown != "" {
		what += " " + shown
	}
	if errors.Is(err, errNot) {
		return fmt.Errorf("%s is not %s %s", what, article(t), t)
	}
	return fmt.Errorf("%s is not %s %s: %w", what, article(t), t, err)
}

// convertValue converts a source field; a field of type t passes as it is.
func convertValue(v connect.Value, t connect.Type, buf *[]byte) (connect.Value, error) {
	if v.IsNull() || v.Type() == t {
		return v, nil
	}
	switch v.Type() {
	case connect.TypeText:
		return convertString(v.Str(), t, buf)
	case connect.TypeNumeric:
		return convertNumber(v.Str(), t)
	case connect.TypeInt32, connect.TypeInt64:
		return convertInt(v.Int(), t)
	case connect.TypeJSON:
		if t == connect.TypeText {
			return connect.Text(v.Str()), nil
		}
		return connect.Value{}, notA("a JSON value", "", t, errNot)
	}
	return convert(fieldGo(v, nil), t, buf)
}

// convertNode converts a JSON value.
func convertNode(n *node, t connect.Type, buf *[]byte) (connect.Value, error) {
	switch n.kind {
	case kindNull:
		return connect.Null(), nil
	case kindBool:
		return convertBool(n.b, t)
	case kindNumber:
		return convertNumber(n.text, t)
	case kindString:
		return convertString(n.text, t, buf)
	}
	switch t {
	case connect.TypeJSON:
		return connect.JSON(n.text), nil
	case connect.TypeText:
		return connect.Text(n.text), nil
	}
	what := "an object"
	if n.kind == kindArray {
		what = "an array"
	}
	return connect.Value{}, notA(what, "", t, errNot)
}

func convertBool(b bool, t connect.Type) (connect.Value, error) {
	switch t {
	case connect.TypeBool:
		return connect.Bool(b), nil
	case connect.TypeText:
		return connect.Text(strconv.FormatBool(b)), nil
	case connect.TypeJSON:
		return connect.JSON(strconv.FormatBool(b)), nil
	}
	return connect.Value{}, notA("a boolean", strconv.FormatBool(b), t, errNot)
}

// convertNumber converts a number's literal text (JSON's grammar). The
// numeric types follow weir copy's rules (connect/schema): exact, or an
// error.
func convertNumber(s string, t connect.Type) (connect.Value, error) {
	switch t {
	case connect.TypeText:
		return connect.Text(s), nil
	case connect.TypeJSON:
		return connect.JSON(s), nil
	case connect.TypeNumeric, connect.TypeInt32, connect.TypeInt64, connect.TypeFloat64:
		v, err := copyrules.Convert(t, connect.Numeric(s))
		if err == nil {
			return v, nil
		}
		return connect.Value{}, notA("a number", shorten(s), t, reason(err))
	}
	return connect.Value{}, notA("a number", shorten(s), t, errNot)
}

// reason is why connect/schema refused a value: errNot for a value that
// does not parse (notA's message says it all), the cause for one out of
// range or too precise.
func reason(err error) error {
	var ve *copyrules.ValueError
	if errors.As(err, &ve) && ve.Err != nil && ve.Err.Error() != "invalid syntax" {
		return ve.Err
	}
	return errNot
}

// convertString converts a string. A string into json is a JSON string
// and into bytes its UTF-8 bytes (a string is a value here, not a field's
// raw text as in weir copy); the other types parse it by weir copy's rules
// (connect/schema), so a job and a copy read "2024-05-01", "t" or "007"
// alike.
func convertString(s string, t connect.Type, buf *[]byte) (connect.Value, error) {
	switch t {
	case connect.TypeText:
		return connect.Text(s), nil
	case connect.TypeJSON:
		*buf = appendJSONString((*buf)[:0], s)
		return connect.JSON(string(*buf)), nil
	case connect.TypeBytes:
		return connect.Bytes([]byte(s)), nil
	}
	v, err := copyrules.Convert(t, connect.Text(s))
	if err == nil {
		return v, nil
	}
	return connect.Value{}, notA("a string", strconv.Quote(shorten(s)), t, reason(err))
}

// convert converts a Go value an expression computed.
func convert(v any, t connect.Type, buf *[]byte) (connect.Value, error) {
	switch x := v.(type) {
	case nil:
		return connect.Null(), nil
	case string:
		return convertString(x, t, buf)
	case bool:
		return convertBool(x, t)
	case int:
		return convertInt(int64(x), t)
	case int64:
		return convertInt(x, t)
	case int32:
		return convertInt(int64(x), t)
	case float64:
		return convertFloat(x, t)
	case time.Time:
		switch t {
		case connect.TypeDate, connect.TypeTimestamp, connect.TypeTimestampTZ:
			return timeValue(x, t), nil
		case connect.TypeText:
			return connect.Text(x.Format(time.RFC3339Nano)), nil
		}
	case []byte:
		switch t {
		case connect.TypeBytes:
			return connect.Bytes(x), nil
		case connect.TypeText:
			return connect.Text(string(x)), nil
		}
	}
	if t == connect.TypeJSON || t == connect.TypeText {
		var err error
		if *buf, err = appendJSON((*buf)[:0], v); err != nil {
			return connect.Value{}, notA(describe(v), "", t, err)
		}
		if t == connect.TypeText {
			return connect.Text(string(*buf)), nil
		}
		return connect.JSON(string(*buf)), nil
	}
	return connect.Value{}, notA(describe(v), "", t, errNot)
}

func convertInt(i int64, t connect.Type) (connect.Value, error) {
	switch t {
	case connect.TypeInt64:
		return connect.Int64(i), nil
	case connect.TypeInt32:
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			return connect.Int32(int32(i)), nil
		}
		return connect.Value{}, notA("a number", strconv.FormatInt(i, 10), t, errors.New("out of range"))
	case connect.TypeFloat64:
		if f := float64(i); f < 1<<63 && int64(f) == i {
			return connect.Float64(f), nil
		}
		return connect.Value{}, notA("a number", strconv.FormatInt(i, 10), t, errors.New("a double cannot hold it exactly"))
	}
	return convertNumber(strconv.FormatInt(i, 10), t)
}

func convertFloat(f float64, t connect.Type) (connect.Value, error) {
	switch {
	case t == connect.TypeFloat64:
		return connect.Float64(f), nil
	case math.IsNaN(f) || math.IsInf(f, 0):
		if t == connect.TypeText {
			return connect.Text(strconv.FormatFloat(f, 'g', -1, 64)), nil
		}
		return connect.Value{}, notA("a number", strconv.FormatFloat(f, 'g', -1, 64), t, errNot)
	case t == connect.TypeInt32 || t == connect.TypeInt64:
		if f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
			return connect.Value{}, notA("a number", strconv.FormatFloat(f, 'g', -1, 64), t, errors.New("not an integer"))
		}
		return convertInt(int64(f), t)
	}
	return convertNumber(strconv.FormatFloat(f, 'f', -1, 64), t)
}

func intValue(i int64, t connect.Type) connect.Value {
	if t == connect.TypeInt32 {
		return connect.Int32(int32(i))
	}
	return connect.Int64(i)
}

func parseInt(s string, t connect.Type) (int64, error) {
	bits := 64
	if t == connect.TypeInt32 {
		bits = 32
	}
	i, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("out of range")
		}
		return 0, errNot
	}
	return i, nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("out of range")
		}
		return 0, errNot
	}
	if strings.ContainsAny(s, "xXpP_nN") { // ParseFloat takes hex, underscores, NaN and Inf; a decimal column does not
		return 0, errNot
	}
	return f, nil
}

// isDecimal reports whether s is a decimal number: an optional sign,
// digits with an optional fraction, and an optional exponent.
func isDecimal(s string) bool {
	if s == "" || strings.ContainsAny(s, "_xXpPiInN/") { // big.Rat would take 0x1p3, 1_000, 1/3
		return false
	}
	_, ok := new(big.Rat).SetString(s)
	return ok
}

// The layouts a string may have for a timestamp without a time zone.
var timestampLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

func parseTime(s string, t connect.Type) (time.Time, error) {
	switch t {
	case connect.TypeTimestampTZ:
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return tm, errors.New("want RFC 3339 with a time zone, like 2024-05-01T12:00:00Z")
		}
		return tm, nil
	case connect.TypeDate:
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return tm, errors.New("want YYYY-MM-DD")
		}
		return tm, nil
	}
	for _, l := range timestampLayouts {
		if tm, err := time.Parse(l, s); err == nil {
			return tm, nil
		}
	}
	return time.Time{}, errors.New("want YYYY-MM-DD HH:MM:SS without a time zone (declare timestamptz for one)")
}

func timeValue(tm time.Time, t connect.Type) connect.Value {
	switch t {
	case connect.TypeDate:
		return connect.Date(tm)
	case connect.TypeTimestamp:
		return connect.Timestamp(tm)
	}
	return connect.TimestampTZ(tm)
}

// fieldGo returns a source field as the Go value the expression VM sees:
// nil, string, bool, int (integers, and numerics that are integers that
// fit), float64, time.Time, []byte, and for JSON the values of goOf.
// dec decodes a JSON field; nil only for a field that is not JSON.
func fieldGo(v connect.Value, n *node) any {
	if v.IsNull() {
		return nil
	}
	switch v.Type() {
	case connect.TypeBool:
		return v.Int() == 1
	case connect.TypeInt32, connect.TypeInt64:
		return int(v.Int())
	case connect.TypeFloat64:
		return v.Float()
	case connect.TypeNumeric:
		return goNumber(v.Str())
	case connect.TypeJSON:
		return goOf(n)
	case connect.TypeDate, connect.TypeTimestamp, connect.TypeTimestampTZ:
		return v.Time()
	case connect.TypeBytes:
		return []byte(v.Str())
	}
	return v.Str()
}

// describe names a Go value's kind for errors: "a string", "null".
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, int32, float64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case time.Time:
		return "a time"
	}
	return fmt.Sprintf("a %T", v)
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// article is "an" before a type name that starts with a vowel, "a" before
// the others.
func article(t connect.Type) string {
	if strings.ContainsRune("aeiou", rune(t.String()[0])) {
		return "an"
	}
	return "a"
}
