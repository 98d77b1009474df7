package connect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Type is the type of a column of a generic [Row]: what `weir copy` infers
// from a sample and what a job file declares. Each connector maps it to its
// own types (docs/JOBS.md has the table).
type Type uint8

// The column types. The zero value is TypeText, which holds anything.
const (
	TypeText        Type = iota // text; any value as a string
	TypeBool                    // boolean
	TypeInt32                   // integer (32 bits)
	TypeInt64                   // bigint (64 bits)
	TypeFloat64                 // double precision
	TypeNumeric                 // exact decimal, held as its text ("12.50")
	TypeDate                    // a calendar date
	TypeTimestamp               // date and time of day, no time zone
	TypeTimestampTZ             // an instant (timestamp with time zone)
	TypeJSON                    // a nested value, held as JSON text (jsonb in PostgreSQL)
	TypeBytes                   // raw bytes (bytea, BLOB)
	numTypes
)

var typeNames = [numTypes]string{"text", "boolean", "integer", "bigint", "double", "numeric",
	"date", "timestamp", "timestamptz", "json", "bytes"}

// String returns the type's name as a job file spells it ("bigint").
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// typeAliases are the other spellings ParseType accepts.
var typeAliases = map[string]Type{
	"string": TypeText, "varchar": TypeText, "bool": TypeBool, "int": TypeInt32, "int4": TypeInt32,
	"int8": TypeInt64, "float": TypeFloat64, "float8": TypeFloat64, "double precision": TypeFloat64,
	"decimal": TypeNumeric, "datetime": TypeTimestamp, "jsonb": TypeJSON, "bytea": TypeBytes, "blob": TypeBytes,
}

// ParseType returns the type named s: a name [Type.String] returns, or a
// common alias (int, varchar, jsonb, bytea, ...).
func ParseType(s string) (Type, error) {
	for t, n := range typeNames {
		if n == s {
			return Type(t), nil
		}
	}
	if t, ok := typeAliases[s]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("unknown type %q (want one of %v)", s, typeNames)
}

// MarshalText writes the type's name.
func (t Type) MarshalText() ([]byte, error) {
	if t >= numTypes {
		return nil, fmt.Errorf("connect: no such Type(%d)", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a name ParseType accepts.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err == nil {
		*t = v
	}
	return err
}

// Column is a column of a generic row: its name and type.
type Column struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Row is a generic record: typed values in the order of a list of
// [Column]s that the source and the sink agree on, and where the row came
// from. `weir copy` and job files move Rows; typed Go pipelines do not need
// them.
type Row struct {
	Values []Value
	// Pos is where the row was read, for reject files and errors.
	Pos Pos
}

// SourcePos returns r.Pos as "name:line": a row implements
// weir.Locatable, so a row that fails in any stage goes to the reject file
// with its file and line.
func (r Row) SourcePos() string { return r.Pos.String() }

// Pos is a record's place in its source: a file and a line, or a table
// and the record's number in the read.
type Pos struct {
	// Name is the file's path, or the source's label.
	Name string `json:"name,omitempty"`
	// Line is the line the record starts on (from 1) in a file, or the
	// record's number (from 1) in another source.
	Line int64 `json:"line"`
}

// String returns "name:line".
func (p Pos) String() string {
	if p.Name == "" {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", p.Name, p.Line)
}

// Value is one typed value of a [Row], or NULL. It holds its payload
// unboxed, so a row of values costs one slice and no allocation per value.
// The zero Value is NULL.
type Value struct {
	s     string  // text, numeric, JSON, bytes
	i     int64   // bool (0, 1), integers, date (days since 1970-01-01), timestamps (µs since 1970-01-01 UTC)
	f     float64 // double
	t     Type
	valid bool // false: NULL
}

// Null returns a NULL value.
func Null() Value { return Value{} }

// Text returns a text value.
func Text(s string) Value { return Value{s: s, t: TypeText, valid: true} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	v := Value{t: TypeBool, valid: true}
	if b {
		v.i = 1
	}
	return v
}

// Int32 returns an integer value. Its int32 argument makes the range a
// compile-time fact.
func Int32(i int32) Value { return Value{i: int64(i), t: TypeInt32, valid: true} }

// Int64 returns a bigint value.
func Int64(i int64) Value { return Value{i: i, t: TypeInt64, valid: true} }

// Float64 returns a double value.
func Float64(f float64) Value { return Value{f: f, t: TypeFloat64, valid: true} }

// Numeric returns an exact decimal held as its text ("-12.50"), which the
// caller has checked.
func Numeric(s string) Value { return Value{s: s, t: TypeNumeric, valid: true} }

// JSON returns a nested value held as JSON text, which the caller has
// checked.
func JSON(s string) Value { return Value{s: s, t: TypeJSON, valid: true} }

// Bytes returns a bytes value. It keeps b's contents as a string, so b may
// be reused.
func Bytes(b []byte) Value { return Value{s: string(b), t: TypeBytes, valid: true} }

// Date returns the date of t (its year, month and day in t's location).
func Date(t time.Time) Value {
	y, m, d := t.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return Value{i: days, t: TypeDate, valid: true}
}

// Timestamp returns a date and time of day without a time zone: t's wall
// clock in its location, to the microsecond.
func Timestamp(t time.Time) Value {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return Value{i: wall.UnixMicro(), t: TypeTimestamp, valid: true}
}

// TimestampTZ returns the instant t, to the microsecond.
func TimestampTZ(t time.Time) Value { return Value{i: t.UnixMicro(), t: TypeTimestampTZ, valid: true} }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return !v.valid }

// Type returns v's type; a NULL's type is TypeText.
func (v Value) Type() Type { return v.t }

// Str returns the text of a text, numeric, JSON or bytes value.
func (v Value) Str() string { return v.s }

// Int returns the number of an integer value, 0 or 1 for a boolean, the
// days since 1970-01-01 for a date, and the microseconds since 1970-01-01
// (UTC for a TimestampTZ, wall clock for a Timestamp) for a timestamp.
func (v Value) Int() int64 { return v.i }

// Float returns the number of a double value.
func (v Value) Float() float64 { return v.f }

// Time returns a date or timestamp as a time.Time in UTC (a Timestamp's
// wall clock read as UTC).
func (v Value) Time() time.Time {
	if v.t == TypeDate {
		return time.Unix(v.i*86400, 0).UTC()
	}
	return time.UnixMicro(v.i).UTC()
}

// Any returns v as a Go value for drivers and encoders that take one: nil,
// string, bool, int32, int64, float64, time.Time or []byte. A numeric or
// JSON value is its text.
func (v Value) Any() any {
	if !v.valid {
		return nil
	}
	switch v.t {
	case TypeBool:
		return v.i == 1
	case TypeInt32:
		return int32(v.i)
	case TypeInt64:
		return v.i
	case TypeFloat64:
		return v.f
	case TypeDate, TypeTimestamp, TypeTimestampTZ:
		return v.Time()
	case TypeBytes:
		return []byte(v.s)
	}
	return v.s
}

// AppendText appends v's text form to dst: what a CSV file holds and what
// PostgreSQL's text format reads. NULL appends nothing; bytes append as
// base64; doubles as the shortest text that reads back the same.
func (v Value) AppendText(dst []byte) []byte {
	if !v.valid {
		return dst
	}
	switch v.t {
	case TypeBool:
		return strconv.AppendBool(dst, v.i == 1)
	case TypeInt32, TypeInt64:
		return strconv.AppendInt(dst, v.i, 10)
	case TypeFloat64:
		if math.IsInf(v.f, 0) || math.IsNaN(v.f) {
			return append(dst, formatSpecial(v.f)...)
		}
		return strconv.AppendFloat(dst, v.f, 'g', -1, 64)
	case TypeDate:
		return v.Time().AppendFormat(dst, time.DateOnly)
	case TypeTimestamp:
		return v.Time().AppendFormat(dst, "2006-01-02 15:04:05.999999")
	case TypeTimestampTZ:
		return v.Time().AppendFormat(dst, "2006-01-02 15:04:05.999999Z07:00")
	case TypeBytes:
		return base64.StdEncoding.AppendEncode(dst, []byte(v.s))
	}
	return append(dst, v.s...)
}

func formatSpecial(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// String returns v's text form, or "NULL".
func (v Value) String() string {
	if !v.valid {
		return "NULL"
	}
	return string(v.AppendText(nil))
}

// MarshalJSON writes NULL as null, booleans and finite numbers as JSON
// literals, a JSON value as itself, and anything else as a string (its
// [Value.AppendText] form).
func (v Value) MarshalJSON() ([]byte, error) {
	switch {
	case !v.valid:
		return []byte("null"), nil
	case v.t == TypeJSON:
		return []byte(v.s), nil
	case v.t == TypeBool, v.t == TypeInt32, v.t == TypeInt64, v.t == TypeNumeric,
		v.t == TypeFloat64 && !math.IsInf(v.f, 0) && !math.IsNaN(v.f):
		return v.AppendText(nil), nil
	}
	return json.Marshal(string(v.AppendText(nil)))
}

// MarshalJSON writes the row as {"pos": ..., "values": [...]}, the way a
// reject file shows a record.
func (r Row) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Pos    Pos     `json:"pos"`
		Values []Value `json:"values"`
	}{r.Pos, r.Values})
}
