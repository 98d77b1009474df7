package schema_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

// texts returns one column of text values, as a CSV file gives them; "\x00"
// stands for NULL.
func texts(vals ...string) []connect.Value {
	out := make([]connect.Value, len(vals))
	for i, s := range vals {
		if s != "\x00" {
			out[i] = connect.Text(s)
		}
	}
	return out
}

// inferOne infers the type of a single column holding vals, and checks
// that every value converts to it.
func inferOne(t *testing.T, vals []connect.Value) connect.Type {
	t.Helper()
	sample := make([]connect.Row, len(vals))
	for i, v := range vals {
		sample[i] = connect.Row{Values: []connect.Value{v}}
	}
	cols := schema.Infer([]string{"c"}, sample)
	if len(cols) != 1 || cols[0].Name != "c" {
		t.Fatalf("Infer returned %v", cols)
	}
	for _, v := range vals {
		if _, err := schema.Convert(cols[0].Type, v); err != nil {
			t.Errorf("%v inferred %s, yet: %v", vals, cols[0].Type, err)
		}
	}
	return cols[0].Type
}

func TestInferReadsTextForWhatItHolds(t *testing.T) {
	for _, c := range []struct {
		vals []string
		want connect.Type
	}{
		// booleans: true/false only, any case
		{[]string{"true", "FALSE", "True"}, connect.TypeBool},
		{[]string{"t", "f"}, connect.TypeText},
		{[]string{"yes", "no"}, connect.TypeText},
		{[]string{"0", "1", "1"}, connect.TypeInt32},
		// integers
		{[]string{"-12", "0", "2147483647", "-2147483648"}, connect.TypeInt32},
		{[]string{"1", "2147483648"}, connect.TypeInt64},
		{[]string{"-999999999999999999"}, connect.TypeInt64},      // 18 digits
		{[]string{"1234567890123456789"}, connect.TypeNumeric},    // 19 digits
		{[]string{"9223372036854775808000"}, connect.TypeNumeric}, // beyond bigint
		{[]string{"-0"}, connect.TypeInt32},
		// decimals are exact
		{[]string{"12.50", "-0.5", "0.1"}, connect.TypeNumeric},
		{[]string{"1e3", "6.02E23", "-1.5e-7"}, connect.TypeFloat64},
		{[]string{"1e400"}, connect.TypeNumeric},
		{[]string{"1e-400"}, connect.TypeNumeric},
		{[]string{"1e99999999"}, connect.TypeText}, // beyond numeric too
		// codes
		{[]string{"007", "12345"}, connect.TypeText},
		{[]string{"-0123"}, connect.TypeText},
		{[]string{"00.5"}, connect.TypeText},
		{[]string{"0", "0.5"}, connect.TypeNumeric},
		{[]string{"+44"}, connect.TypeText},
		{[]string{".5"}, connect.TypeText},
		{[]string{"5."}, connect.TypeText},
		{[]string{"1_000"}, connect.TypeText},
		{[]string{"0x1F"}, connect.TypeText},
		{[]string{" 12"}, connect.TypeText},
		{[]string{"NaN"}, connect.TypeText},
		{[]string{"Infinity"}, connect.TypeText},
		// dates and times
		{[]string{"2024-02-29", "1999-12-31"}, connect.TypeDate},
		{[]string{"2023-02-29"}, connect.TypeText}, // no such day
		{[]string{"2024-2-29"}, connect.TypeText},
		{[]string{"29/02/2024"}, connect.TypeText},
		{[]string{"0000-01-01"}, connect.TypeText},
		{[]string{"2024-02-29 13:04", "2024-02-29T13:04:05.25", "2024-02-29t13:04:05"}, connect.TypeTimestamp},
		{[]string{"2024-02-29T13:04:05Z", "2024-02-29 13:04:05.123456+01:00", "2024-02-29 13:04-0500", "2024-02-29T13:04:05+02"}, connect.TypeTimestampTZ},
		{[]string{"2024-02-29T13:04:05.1234567"}, connect.TypeText},        // nanoseconds would be cut
		{[]string{"2024-02-29T13:04:05.123456000"}, connect.TypeTimestamp}, // zeros are not
		{[]string{"2024-02-29T24:00:00"}, connect.TypeText},
		{[]string{"2024-02-29T13:04:05 +01:00"}, connect.TypeText},
		// nested
		{[]string{`{"a":1}`, `[1,2]`}, connect.TypeJSON},
		{[]string{`{"a":1}`, `12`, `"x"`, `true`}, connect.TypeJSON},
		{[]string{`{"a":1}`, `abc`}, connect.TypeText},
		{[]string{`abc`, `{"a":1}`}, connect.TypeText},
		{[]string{`abc`, `{"a":1}`, `{"b":2}`}, connect.TypeText},
		{[]string{`{"a":`}, connect.TypeText},
		{[]string{`[draft]`}, connect.TypeText},
		// empty and NULL
		{[]string{"\x00", "\x00"}, connect.TypeText},
		{[]string{}, connect.TypeText},
		{[]string{"", "12"}, connect.TypeText},
		{[]string{"\x00", "12", "\x00"}, connect.TypeInt32},
		// Unicode is text
		{[]string{"１２"}, connect.TypeText}, // full-width digits
		{[]string{"naïve"}, connect.TypeText},
	} {
		if got := inferOne(t, texts(c.vals...)); got != c.want {
			t.Errorf("Infer(%q) = %s, want %s", c.vals, got, c.want)
		}
	}
}

func TestInferWidensMixedKinds(t *testing.T) {
	for _, c := range []struct {
		vals []string
		want connect.Type
	}{
		{[]string{"1", "3000000000"}, connect.TypeInt64},
		{[]string{"1", "2", "2.5"}, connect.TypeNumeric}, // integers that turn into decimals
		{[]string{"12", "1e3"}, connect.TypeNumeric},     // exact beats double
		{[]string{"1.5", "1e400"}, connect.TypeNumeric},
		{[]string{"1e300", "1" + strings.Repeat("0", 20000) + ".5"}, connect.TypeNumeric},
		// One value a double cannot hold, one a numeric cannot: text holds both.
		{[]string{"1" + strings.Repeat("0", 400), "1." + strings.Repeat("0", 16384) + "e0"}, connect.TypeText},
		{[]string{"1" + strings.Repeat("0", 400), "1." + strings.Repeat("0", 16383) + "e0"}, connect.TypeNumeric},
		{[]string{"1e3", "1." + strings.Repeat("0", 16384) + "e0"}, connect.TypeFloat64},
		{[]string{"2024-02-29", "2024-02-29 13:04"}, connect.TypeTimestamp},
		{[]string{"2024-02-29", "2024-02-29 13:04Z"}, connect.TypeTimestampTZ},
		{[]string{"2024-02-29T10:00", "2024-02-29 13:04+01:00"}, connect.TypeTimestampTZ},
		{[]string{"true", "1"}, connect.TypeText},
		{[]string{"12", "2024-02-29"}, connect.TypeText},
		{[]string{"12", "abc"}, connect.TypeText},
		{[]string{"12", "007"}, connect.TypeText},
	} {
		if got := inferOne(t, texts(c.vals...)); got != c.want {
			t.Errorf("Infer(%q) = %s, want %s", c.vals, got, c.want)
		}
	}
}

// TestInferReadsJSONRecords runs the messy inputs of issue 9 as a JSON
// source gives them.
func TestInferReadsJSONRecords(t *testing.T) {
	n, s, j := connect.Numeric, connect.Text, connect.JSON
	for _, c := range []struct {
		name string
		vals []connect.Value
		want connect.Type
	}{
		{"integers", []connect.Value{n("1"), n("-7")}, connect.TypeInt32},
		{"integers that turn into decimals", []connect.Value{n("1"), n("2"), n("2.5")}, connect.TypeNumeric},
		{"exponents", []connect.Value{n("1e3"), n("2.5E-3")}, connect.TypeFloat64},
		{"booleans", []connect.Value{connect.Bool(true), connect.Null(), connect.Bool(false)}, connect.TypeBool},
		{"number then string", []connect.Value{n("12"), s("twelve")}, connect.TypeText},
		{"number then numeric string", []connect.Value{n("12"), s("13")}, connect.TypeInt32},
		{"boolean then number", []connect.Value{connect.Bool(true), n("1")}, connect.TypeText},
		{"objects", []connect.Value{j(`{"a":1}`), connect.Null(), j(`{"b":[2]}`)}, connect.TypeJSON},
		{"object then array", []connect.Value{j(`{"a":1}`), j(`[1]`)}, connect.TypeJSON},
		{"object then number", []connect.Value{j(`{"a":1}`), n("1.5"), connect.Bool(false)}, connect.TypeJSON},
		{"object then string", []connect.Value{j(`{"a":1}`), s("x")}, connect.TypeText},
		{"zip codes as strings", []connect.Value{s("02134"), s("10001")}, connect.TypeText},
		{"dates as strings", []connect.Value{s("2024-01-02"), connect.Null()}, connect.TypeDate},
		{"all null", []connect.Value{connect.Null(), connect.Null()}, connect.TypeText},
	} {
		if got := inferOne(t, c.vals); got != c.want {
			t.Errorf("%s: Infer(%v) = %s, want %s", c.name, c.vals, got, c.want)
		}
	}
}

func TestInferKeepsAndWidensTypedValues(t *testing.T) {
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		vals []connect.Value
		want connect.Type
	}{
		{"integer", []connect.Value{connect.Int32(1)}, connect.TypeInt32},
		{"integer and bigint", []connect.Value{connect.Int32(1), connect.Int64(2)}, connect.TypeInt64},
		{"double", []connect.Value{connect.Float64(0.5)}, connect.TypeFloat64},
		{"double and integer", []connect.Value{connect.Float64(0.5), connect.Int64(3)}, connect.TypeFloat64},
		{"double and a bigint it cannot hold", []connect.Value{connect.Float64(0.5), connect.Int64(1<<62 + 1)}, connect.TypeNumeric},
		{"NaN and a bigint a double cannot hold", []connect.Value{connect.Float64(math.NaN()), connect.Int64(1<<62 + 1)}, connect.TypeText},
		{"numeric NaN", []connect.Value{connect.Numeric("NaN"), connect.Numeric("1.5")}, connect.TypeNumeric},
		{"date and timestamptz", []connect.Value{connect.Date(day), connect.TimestampTZ(day)}, connect.TypeTimestampTZ},
		{"timestamp", []connect.Value{connect.Timestamp(day)}, connect.TypeTimestamp},
		{"bytes", []connect.Value{connect.Bytes([]byte{1})}, connect.TypeBytes},
		{"bytes and text", []connect.Value{connect.Bytes([]byte{1}), connect.Text("x")}, connect.TypeText},
		{"boolean and integer", []connect.Value{connect.Bool(true), connect.Int32(1)}, connect.TypeText},
		{"json and date", []connect.Value{connect.JSON(`{}`), connect.Date(day)}, connect.TypeText},
	} {
		if got := inferOne(t, c.vals); got != c.want {
			t.Errorf("%s: Infer(%v) = %s, want %s", c.name, c.vals, got, c.want)
		}
	}
}

func TestInferNamesEveryColumnAndReadsRaggedRows(t *testing.T) {
	names := []string{"código", "zip", "naïve"}
	sample := []connect.Row{
		{Values: texts("1", "02134", "x")},
		{Values: texts("2")}, // short: the rest are NULL
	}
	got := schema.Infer(names, sample)
	want := []connect.Column{{Name: "código", Type: connect.TypeInt32}, {Name: "zip", Type: connect.TypeText}, {Name: "naïve", Type: connect.TypeText}}
	if len(got) != len(want) {
		t.Fatalf("Infer = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d = %v, want %v", i, got[i], want[i])
		}
	}
}
