package schema

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/weir-etl/weir/connect"
)

// Why a value does not fit a type: the Err of a [ValueError].
var (
	errSyntax    = errors.New("invalid syntax")
	errRange     = errors.New("out of range")
	errPrecision = errors.New("finer than a microsecond")
	errInexact   = errors.New("not exact")
	errMismatch  = errors.New("no conversion")
)

// Convert returns v as a value of type t, or a [*ValueError] (with no Pos
// or Column) when it does not fit. The package doc's table lists what fits.
// NULL converts to NULL, and a value of type t is returned as it is.
//
// Convert does not allocate when it parses text into a boolean, an
// integer, a double, a date, a timestamp or JSON, nor when it keeps text;
// it allocates the new text when a value becomes text or a numeric needs
// rewriting ("1e3" is "1000").
func Convert(t connect.Type, v connect.Value) (connect.Value, error) {
	if v.IsNull() || v.Type() == t {
		return v, nil
	}
	out, err := convert(t, v)
	if err != nil {
		return connect.Value{}, newValueError(t, v, err)
	}
	return out, nil
}

// newValueError returns the error for v, which does not fit type t.
func newValueError(t connect.Type, v connect.Value, err error) *ValueError {
	if err == errMismatch {
		err = fmt.Errorf("%w from %s", err, v.Type())
	}
	return &ValueError{Value: valueText(v), Type: t, Err: err}
}

// valueText is v's text, as an error shows it.
func valueText(v connect.Value) string {
	if v.Type() == connect.TypeText {
		return v.Str()
	}
	return v.String()
}

// convert is Convert for a non-NULL v of another type than t.
func convert(t connect.Type, v connect.Value) (connect.Value, error) {
	src := v.Type()
	if t == connect.TypeText {
		return connect.Text(valueText(v)), nil
	}
	if src == connect.TypeText {
		return parse(t, v.Str())
	}
	switch t {
	case connect.TypeInt32, connect.TypeInt64:
		return toInt(t, v)
	case connect.TypeFloat64:
		return toFloat(v)
	case connect.TypeNumeric:
		return toNumeric(v)
	case connect.TypeDate:
		if src == connect.TypeTimestamp || src == connect.TypeTimestampTZ {
			if v.Int()%(86400*1e6) != 0 {
				return connect.Value{}, errInexact // a time of day would be lost
			}
			return connect.Date(v.Time()), nil
		}
	case connect.TypeTimestamp:
		if src == connect.TypeDate || src == connect.TypeTimestampTZ {
			return connect.Timestamp(v.Time()), nil // a TimestampTZ's UTC wall clock
		}
	case connect.TypeTimestampTZ:
		if src == connect.TypeDate || src == connect.TypeTimestamp {
			return connect.TimestampTZ(v.Time()), nil // the wall clock read as UTC
		}
	case connect.TypeJSON:
		return toJSON(v)
	}
	return connect.Value{}, errMismatch
}

// parse reads s, a text value, as a value of type t (not text).
func parse(t connect.Type, s string) (connect.Value, error) {
	switch t {
	case connect.TypeBool:
		b, err := parseBool(s)
		return connect.Bool(b), err
	case connect.TypeInt32:
		i, err := parseInt(s, 32)
		return connect.Int32(int32(i)), err
	case connect.TypeInt64:
		i, err := parseInt(s, 64)
		return connect.Int64(i), err
	case connect.TypeFloat64:
		f, err := parseFloat(s)
		return connect.Float64(f), err
	case connect.TypeNumeric:
		return parseNumeric(s)
	case connect.TypeDate:
		days, err := parseDate(s)
		return connect.Date(time.Unix(days*86400, 0).UTC()), err
	case connect.TypeTimestamp, connect.TypeTimestampTZ:
		// An offset into a timestamp column gives the UTC wall clock; no
		// offset into a timestamptz column reads as UTC.
		micros, _, err := parseTimestamp(s)
		if t == connect.TypeTimestamp {
			return connect.Timestamp(time.UnixMicro(micros).UTC()), err
		}
		return connect.TimestampTZ(time.UnixMicro(micros)), err
	case connect.TypeJSON:
		if !json.Valid([]byte(s)) {
			return connect.Value{}, errSyntax
		}
		return connect.JSON(s), nil
	case connect.TypeBytes:
		return parseBytes(s)
	}
	return connect.Value{}, errMismatch
}

// parseNumeric reads a decimal literal as a numeric, rewritten to its
// canonical form (see number.canonical).
func parseNumeric(s string) (connect.Value, error) {
	n, ok := parseNumber(s)
	if !ok {
		return connect.Value{}, errSyntax
	}
	c, ok := n.canonical(s)
	if !ok {
		return connect.Value{}, errRange
	}
	return connect.Numeric(c), nil
}

// parseBytes reads PostgreSQL's hex form (\x0aff) or standard base64, the
// form [connect.Value.AppendText] writes.
func parseBytes(s string) (connect.Value, error) {
	var b []byte
	var err error
	if h, ok := strings.CutPrefix(s, `\x`); ok {
		b, err = hex.DecodeString(h)
	} else {
		b, err = base64.StdEncoding.Strict().DecodeString(s)
	}
	if err != nil {
		return connect.Value{}, errSyntax
	}
	return connect.Bytes(b), nil
}

// toInt converts a number to an integer type, when its value is a whole
// number that fits: Float64(3) is 3, Numeric("3.5") is errInexact.
func toInt(t connect.Type, v connect.Value) (connect.Value, error) {
	var i int64
	switch v.Type() {
	case connect.TypeInt32, connect.TypeInt64:
		i = v.Int()
	case connect.TypeFloat64:
		f := v.Float()
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return connect.Value{}, errInexact
		}
		if f < -(1<<63) || f >= 1<<63 {
			return connect.Value{}, errRange
		}
		i = int64(f)
	case connect.TypeNumeric:
		var err error
		if i, err = numericInt(v.Str()); err != nil {
			return connect.Value{}, err
		}
	default:
		return connect.Value{}, errMismatch
	}
	if t == connect.TypeInt64 {
		return connect.Int64(i), nil
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return connect.Value{}, errRange
	}
	return connect.Int32(int32(i)), nil
}

// numericInt returns the whole number a numeric's text holds.
func numericInt(s string) (int64, error) {
	n, ok := parseNumber(s)
	if !ok {
		return 0, errSyntax
	}
	if n.isInteger() && !n.plus {
		return parseInt(s, 64) // the common case: a JSON number such as 42
	}
	c, ok := n.canonical(s)
	if !ok {
		return 0, errRange
	}
	whole, frac, _ := strings.Cut(c, ".")
	if strings.Trim(frac, "0") != "" {
		return 0, errInexact
	}
	return parseInt(whole, 64)
}

// toFloat converts a number to a double: an integer only when the double
// holds it exactly, a numeric to the nearest double.
func toFloat(v connect.Value) (connect.Value, error) {
	switch v.Type() {
	case connect.TypeInt32, connect.TypeInt64:
		i := v.Int()
		f := float64(i)
		if f >= 1<<63 || int64(f) != i {
			return connect.Value{}, errInexact
		}
		return connect.Float64(f), nil
	case connect.TypeNumeric:
		if _, ok := parseNumber(v.Str()); !ok {
			return connect.Value{}, errSyntax // NaN, say: not a number a source's numeric holds
		}
		f, err := parseFloat(v.Str())
		return connect.Float64(f), err
	}
	return connect.Value{}, errMismatch
}

// toNumeric converts a number to a numeric: an integer's digits, a
// double's shortest decimal that reads back as the same double.
func toNumeric(v connect.Value) (connect.Value, error) {
	switch v.Type() {
	case connect.TypeInt32, connect.TypeInt64:
		return connect.Numeric(strconv.FormatInt(v.Int(), 10)), nil
	case connect.TypeFloat64:
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return connect.Value{}, errRange
		}
		if f == 0 {
			f = 0 // no "-0"
		}
		return connect.Numeric(strconv.FormatFloat(f, 'f', -1, 64)), nil
	}
	return connect.Value{}, errMismatch
}

// toJSON converts a value to JSON: a boolean or a number as its literal, a
// date, timestamp or bytes as a JSON string of its text.
func toJSON(v connect.Value) (connect.Value, error) {
	b, err := v.MarshalJSON()
	if err != nil || !json.Valid(b) { // a numeric NaN is no JSON number
		return connect.Value{}, errSyntax
	}
	return connect.JSON(string(b)), nil
}
