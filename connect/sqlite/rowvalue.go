package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/weir-etl/weir/connect"
)

// decode turns raw, a value as the driver gives it (nil, int64, float64,
// string, []byte, or a time.Time for a column declared DATE, DATETIME or
// TIMESTAMP), into a value of type t. A value that does not fit t is an
// error, except in a text column, which takes anything in its text form:
// SQLite lets any column hold any value, and a text column is how a user
// says "whatever is there".
func decode(t connect.Type, raw any) (connect.Value, error) {
	if raw == nil {
		return connect.Null(), nil
	}
	switch t {
	case connect.TypeText:
		return decodeText(raw), nil
	case connect.TypeBool:
		if i, ok := raw.(int64); ok && (i == 0 || i == 1) {
			return connect.Bool(i == 1), nil
		}
	case connect.TypeInt32:
		if i, ok := raw.(int64); ok && i >= math.MinInt32 && i <= math.MaxInt32 {
			return connect.Int32(int32(i)), nil
		}
	case connect.TypeInt64:
		if i, ok := raw.(int64); ok {
			return connect.Int64(i), nil
		}
	case connect.TypeFloat64:
		switch x := raw.(type) {
		case float64:
			return connect.Float64(x), nil
		case int64:
			if x >= -1<<53 && x <= 1<<53 { // exact as a double
				return connect.Float64(float64(x)), nil
			}
		}
	case connect.TypeNumeric:
		switch x := raw.(type) {
		case int64:
			return connect.Numeric(strconv.FormatInt(x, 10)), nil
		case float64:
			if !math.IsInf(x, 0) {
				return connect.Numeric(strconv.FormatFloat(x, 'f', -1, 64)), nil
			}
		case string:
			if isDecimal(x) {
				return connect.Numeric(x), nil
			}
		}
	case connect.TypeDate:
		switch x := raw.(type) {
		case time.Time:
			if h, m, s := x.Clock(); h == 0 && m == 0 && s == 0 && x.Nanosecond() == 0 {
				return connect.Date(x), nil
			}
		case string:
			if d, err := time.Parse(dateLayout, x); err == nil {
				return connect.Date(d), nil
			}
		}
	case connect.TypeTimestamp, connect.TypeTimestampTZ:
		tm, ok := raw.(time.Time)
		if s, isText := raw.(string); isText {
			tm, ok = parseTime(s)
		}
		if ok && t == connect.TypeTimestamp {
			return connect.Timestamp(tm), nil
		}
		if ok {
			return connect.TimestampTZ(tm), nil
		}
	case connect.TypeJSON:
		switch x := raw.(type) {
		case string:
			if json.Valid([]byte(x)) {
				return connect.JSON(x), nil
			}
		case int64:
			return connect.JSON(strconv.FormatInt(x, 10)), nil
		case float64:
			if !math.IsInf(x, 0) {
				return connect.JSON(strconv.FormatFloat(x, 'g', -1, 64)), nil
			}
		}
	case connect.TypeBytes:
		switch x := raw.(type) {
		case []byte:
			return connect.Bytes(x), nil
		case string:
			return connect.Bytes([]byte(x)), nil
		}
	}
	return connect.Value{}, fmt.Errorf("%s is not a %v", describe(raw), t)
}

// decodeText returns raw's text form.
func decodeText(raw any) connect.Value {
	switch x := raw.(type) {
	case string:
		return connect.Text(x)
	case int64:
		return connect.Text(strconv.FormatInt(x, 10))
	case float64:
		return connect.Text(strconv.FormatFloat(x, 'g', -1, 64))
	case []byte:
		return connect.Text(string(x))
	case time.Time:
		return connect.Text(x.Format("2006-01-02 15:04:05.999999999-07:00"))
	}
	return connect.Text(fmt.Sprint(raw))
}

// describe names a stored value for an error: its storage class and, but
// for a blob, its value, cut to a readable length.
func describe(raw any) string {
	const most = 40
	switch x := raw.(type) {
	case string:
		if len(x) > most {
			x = x[:most] + "..."
		}
		return fmt.Sprintf("TEXT %q", x)
	case int64:
		return fmt.Sprintf("INTEGER %d", x)
	case float64:
		return fmt.Sprintf("REAL %v", x)
	case []byte:
		return fmt.Sprintf("a BLOB of %d bytes", len(x))
	case time.Time:
		return fmt.Sprintf("TEXT %q", x.Format("2006-01-02 15:04:05.999999999-07:00"))
	}
	return fmt.Sprintf("%T %v", raw, raw)
}

// timeLayouts are the forms of ISO 8601 that SQLite's date functions read
// (https://sqlite.org/lang_datefunc.html), with and without a zone.
// time.Parse takes a fraction of a second after the seconds of any of them.
var timeLayouts = []string{
	"2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05", "2006-01-02T15:04:05",
	"2006-01-02 15:04Z07:00", "2006-01-02T15:04Z07:00",
	"2006-01-02 15:04", "2006-01-02T15:04",
	dateLayout,
}

// parseTime reads s in one of timeLayouts. A time without a zone is UTC,
// as SQLite's date functions take it.
func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// isDecimal reports whether s is a decimal literal: a sign, digits with
// at most one '.', and an exponent ("-12.50", "1e3", ".5").
func isDecimal(s string) bool {
	i, digits := 0, 0
	skipDigits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits += skipDigits()
	if i < len(s) && s[i] == '.' {
		i++
		digits += skipDigits()
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if skipDigits() == 0 {
			return false
		}
	}
	return i == len(s)
}
