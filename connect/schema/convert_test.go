package schema_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

// same reports whether a and b are the same value (NaN is NaN).
func same(a, b connect.Value) bool {
	if a.Type() == connect.TypeFloat64 && b.Type() == connect.TypeFloat64 && !a.IsNull() && !b.IsNull() {
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	}
	return a == b
}

var (
	day  = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	noon = time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
)

// convertCase is one Convert call and what it must return.
type convertCase struct {
	t    connect.Type
	in   connect.Value
	want connect.Value
	bad  string // non-empty: the conversion fails, and its message contains bad
}

func runConvert(t *testing.T, cases []convertCase) {
	t.Helper()
	for _, c := range cases {
		got, err := schema.Convert(c.t, c.in)
		switch {
		case c.bad != "":
			var ve *schema.ValueError
			if !errors.As(err, &ve) || ve.Type != c.t || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("Convert(%s, %#v) = %v, %v; want an error containing %q", c.t, c.in, got, err, c.bad)
			}
		case err != nil || !same(got, c.want):
			t.Errorf("Convert(%s, %#v) = %#v, %v; want %#v", c.t, c.in, got, err, c.want)
		}
	}
}

func TestConvertParsesTextStrictly(t *testing.T) {
	tx := connect.Text
	runConvert(t, []convertCase{
		{connect.TypeBool, tx("TRUE"), connect.Bool(true), ""},
		{connect.TypeBool, tx("f"), connect.Bool(false), ""},
		{connect.TypeBool, tx("1"), connect.Value{}, `"1" is not a boolean`},
		{connect.TypeBool, tx("yes"), connect.Value{}, "is not a boolean"},

		{connect.TypeInt32, tx("-2147483648"), connect.Int32(math.MinInt32), ""},
		{connect.TypeInt32, tx("007"), connect.Int32(7), ""}, // declared integer: a code is a number
		{connect.TypeInt32, tx("+5"), connect.Int32(5), ""},
		{connect.TypeInt32, tx("2147483648"), connect.Value{}, `"2147483648" is not an integer (out of range)`},
		{connect.TypeInt64, tx("12.5"), connect.Value{}, `"12.5" is not a bigint`}, // not 12
		{connect.TypeInt64, tx("12a4"), connect.Value{}, `"12a4" is not a bigint`},
		{connect.TypeInt64, tx("1e3"), connect.Value{}, "is not a bigint"},
		{connect.TypeInt64, tx(" 12"), connect.Value{}, "is not a bigint"},
		{connect.TypeInt64, tx("1_000"), connect.Value{}, "is not a bigint"},
		{connect.TypeInt64, tx(""), connect.Value{}, `"" is not a bigint`},
		{connect.TypeInt64, tx("-"), connect.Value{}, "is not a bigint"},
		{connect.TypeInt64, tx("9223372036854775807"), connect.Int64(math.MaxInt64), ""},
		{connect.TypeInt64, tx("9223372036854775808"), connect.Value{}, "(out of range)"},

		{connect.TypeFloat64, tx("0.1"), connect.Float64(0.1), ""},
		{connect.TypeFloat64, tx("-1.5E3"), connect.Float64(-1500), ""},
		{connect.TypeFloat64, tx("1e-320"), connect.Float64(1e-320), ""},
		{connect.TypeFloat64, tx("-Infinity"), connect.Float64(math.Inf(-1)), ""},
		{connect.TypeFloat64, tx("inf"), connect.Float64(math.Inf(1)), ""},
		{connect.TypeFloat64, tx("NaN"), connect.Float64(math.NaN()), ""},
		{connect.TypeFloat64, tx("1e400"), connect.Value{}, `"1e400" is not a double (out of range)`},
		{connect.TypeFloat64, tx("1e-400"), connect.Value{}, "(out of range)"}, // not 0
		{connect.TypeFloat64, tx("0x1p3"), connect.Value{}, "is not a double"},
		{connect.TypeFloat64, tx("1_0.5"), connect.Value{}, "is not a double"},
		{connect.TypeFloat64, tx("-nan"), connect.Value{}, "is not a double"},

		{connect.TypeNumeric, tx("12.50"), connect.Numeric("12.50"), ""},
		{connect.TypeNumeric, tx("007.50"), connect.Numeric("7.50"), ""},
		{connect.TypeNumeric, tx("+.5"), connect.Numeric("0.5"), ""},
		{connect.TypeNumeric, tx("5."), connect.Numeric("5"), ""},
		{connect.TypeNumeric, tx("-0.00"), connect.Numeric("0.00"), ""},
		{connect.TypeNumeric, tx("1e3"), connect.Numeric("1000"), ""},
		{connect.TypeNumeric, tx("1.50e1"), connect.Numeric("15.0"), ""},
		{connect.TypeNumeric, tx("-1.5e-3"), connect.Numeric("-0.0015"), ""},
		{connect.TypeNumeric, tx("0.0e5"), connect.Numeric("0"), ""},
		{connect.TypeNumeric, tx("00012e-1"), connect.Numeric("1.2"), ""},
		{connect.TypeNumeric, tx("1e400"), connect.Numeric("1" + strings.Repeat("0", 400)), ""},
		{connect.TypeNumeric, tx("1e131072"), connect.Value{}, "is not a numeric (out of range)"},
		{connect.TypeNumeric, tx("1e-16384"), connect.Value{}, "(out of range)"},
		{connect.TypeNumeric, tx("NaN"), connect.Value{}, `"NaN" is not a numeric`},
		{connect.TypeNumeric, tx("1,5"), connect.Value{}, "is not a numeric"},

		{connect.TypeDate, tx("2024-02-29"), connect.Date(day), ""},
		{connect.TypeDate, tx("2023-02-29"), connect.Value{}, `"2023-02-29" is not a date (out of range)`},
		{connect.TypeDate, tx("2024-02-29 00:00"), connect.Value{}, "is not a date"},
		{connect.TypeDate, tx("2024-13-01"), connect.Value{}, "is not a date"},
		{connect.TypeDate, tx("0000-01-01"), connect.Value{}, "is not a date"},

		{connect.TypeTimestamp, tx("2024-02-29T12:00:00"), connect.Timestamp(noon), ""},
		{connect.TypeTimestamp, tx("2024-02-29 12:00"), connect.Timestamp(noon), ""},
		{connect.TypeTimestamp, tx("2024-02-29"), connect.Timestamp(day), ""},
		{connect.TypeTimestamp, tx("2024-02-29 13:30+01:30"), connect.Timestamp(noon), ""}, // UTC wall clock
		{connect.TypeTimestamp, tx("2024-02-29 12:00:00.1234567"), connect.Value{}, "(finer than a microsecond)"},
		{connect.TypeTimestamp, tx("2024-02-29 12:00:60"), connect.Value{}, "(out of range)"},
		{connect.TypeTimestamp, tx("2024-02-29 12:00:00."), connect.Value{}, "is not a timestamp"},
		{connect.TypeTimestamp, tx("2024-02-29 12:00:0"), connect.Value{}, "is not a timestamp"},
		{connect.TypeTimestamp, tx("0001-01-01T00:30+01:00"), connect.Value{}, "(out of range)"}, // year 0 in UTC
		{connect.TypeTimestampTZ, tx("2024-02-29T13:00:00+01:00"), connect.TimestampTZ(noon), ""},
		{connect.TypeTimestampTZ, tx("2024-02-29T06:00:00-0600"), connect.TimestampTZ(noon), ""},
		{connect.TypeTimestampTZ, tx("2024-02-29T12:00:00Z"), connect.TimestampTZ(noon), ""},
		{connect.TypeTimestampTZ, tx("2024-02-29 12:00:00"), connect.TimestampTZ(noon), ""}, // no offset: UTC
		{connect.TypeTimestampTZ, tx("2024-02-29T12:00:00+24:00"), connect.Value{}, "is not a timestamptz (out of range)"},
		{connect.TypeTimestampTZ, tx("2024-02-29T12:00:00 UTC"), connect.Value{}, "is not a timestamptz"},

		{connect.TypeJSON, tx(` {"a": [1]} `), connect.JSON(` {"a": [1]} `), ""},
		{connect.TypeJSON, tx(`12`), connect.JSON(`12`), ""},
		{connect.TypeJSON, tx(`abc`), connect.Value{}, `"abc" is not JSON`},
		{connect.TypeJSON, tx(``), connect.Value{}, `"" is not JSON`},

		{connect.TypeBytes, tx("AP8="), connect.Bytes([]byte{0, 255}), ""},
		{connect.TypeBytes, tx(`\x00ff`), connect.Bytes([]byte{0, 255}), ""},
		{connect.TypeBytes, tx("AP9="), connect.Value{}, "is not bytes"}, // stray bits
		{connect.TypeBytes, tx(`\x0`), connect.Value{}, "is not bytes"},

		{connect.TypeText, tx(strings.Repeat("x", 1<<20)), tx(strings.Repeat("x", 1<<20)), ""},
	})
}

func TestConvertTypedValuesWhenNothingIsLost(t *testing.T) {
	n := connect.Numeric
	runConvert(t, []convertCase{
		{connect.TypeInt32, connect.Null(), connect.Null(), ""},
		{connect.TypeNumeric, n("NaN"), n("NaN"), ""}, // same type passes

		{connect.TypeInt64, connect.Int32(-5), connect.Int64(-5), ""},
		{connect.TypeNumeric, connect.Int32(-5), n("-5"), ""},
		{connect.TypeFloat64, connect.Int32(-5), connect.Float64(-5), ""},
		{connect.TypeInt32, connect.Int64(1 << 31), connect.Value{}, `"2147483648" is not an integer (out of range)`},
		{connect.TypeFloat64, connect.Int64(1 << 53), connect.Float64(1 << 53), ""},
		{connect.TypeFloat64, connect.Int64(1<<53 + 1), connect.Value{}, "is not a double (not exact)"},
		{connect.TypeFloat64, connect.Int64(math.MaxInt64), connect.Value{}, "(not exact)"},

		{connect.TypeInt64, n("42"), connect.Int64(42), ""},
		{connect.TypeInt64, n("4.20e1"), connect.Int64(42), ""},
		{connect.TypeInt32, n("3.0"), connect.Int32(3), ""},
		{connect.TypeInt32, n("3.5"), connect.Value{}, `"3.5" is not an integer (not exact)`},
		{connect.TypeInt32, n("1e10"), connect.Value{}, "(out of range)"},
		{connect.TypeFloat64, n("0.1"), connect.Float64(0.1), ""},
		{connect.TypeFloat64, n("1e400"), connect.Value{}, "(out of range)"},
		{connect.TypeFloat64, n("NaN"), connect.Value{}, "is not a double"},

		{connect.TypeInt64, connect.Float64(3), connect.Int64(3), ""},
		{connect.TypeInt64, connect.Float64(3.5), connect.Value{}, "(not exact)"},
		{connect.TypeInt64, connect.Float64(1e19), connect.Value{}, "(out of range)"},
		{connect.TypeInt64, connect.Float64(math.NaN()), connect.Value{}, "(not exact)"},
		{connect.TypeNumeric, connect.Float64(0.1), n("0.1"), ""},
		{connect.TypeNumeric, connect.Float64(math.Copysign(0, -1)), n("0"), ""},
		{connect.TypeNumeric, connect.Float64(math.Inf(1)), connect.Value{}, "is not a numeric (out of range)"},

		{connect.TypeText, connect.Bool(true), connect.Text("true"), ""},
		{connect.TypeText, connect.Int64(-12), connect.Text("-12"), ""},
		{connect.TypeText, connect.JSON(`{"a":1}`), connect.Text(`{"a":1}`), ""},
		{connect.TypeText, connect.TimestampTZ(noon), connect.Text("2024-02-29 12:00:00Z"), ""},
		{connect.TypeText, connect.Bytes([]byte{0, 255}), connect.Text("AP8="), ""},

		{connect.TypeTimestamp, connect.TimestampTZ(noon), connect.Timestamp(noon), ""},
		{connect.TypeTimestampTZ, connect.Timestamp(noon), connect.TimestampTZ(noon), ""},
		{connect.TypeTimestampTZ, connect.Date(day), connect.TimestampTZ(day), ""},
		{connect.TypeDate, connect.Timestamp(day), connect.Date(day), ""},
		{connect.TypeDate, connect.TimestampTZ(noon), connect.Value{}, "is not a date (not exact)"},

		{connect.TypeJSON, connect.Bool(false), connect.JSON("false"), ""},
		{connect.TypeJSON, n("12.50"), connect.JSON("12.50"), ""},
		{connect.TypeJSON, connect.Int32(7), connect.JSON("7"), ""},
		{connect.TypeJSON, connect.Date(day), connect.JSON(`"2024-02-29"`), ""},
		{connect.TypeJSON, n("NaN"), connect.Value{}, `"NaN" is not JSON`},

		{connect.TypeInt32, connect.Bool(true), connect.Value{}, `"true" is not an integer (no conversion from boolean)`},
		{connect.TypeBool, connect.Int32(1), connect.Value{}, "(no conversion from integer)"},
		{connect.TypeInt64, connect.JSON("12"), connect.Value{}, "(no conversion from json)"},
		{connect.TypeDate, connect.Int32(1), connect.Value{}, "no conversion"},
		{connect.TypeBytes, connect.Int32(1), connect.Value{}, "no conversion"},
	})
}

func TestValueErrorReadsPositionColumnValueAndType(t *testing.T) {
	reason := errors.New("out of range")
	for _, c := range []struct {
		err  schema.ValueError
		want string
	}{
		{schema.ValueError{Pos: connect.Pos{Name: "data.csv", Line: 12}, Column: "zip", Value: "12a4", Type: connect.TypeInt64},
			`data.csv:12: column "zip": "12a4" is not a bigint`},
		{schema.ValueError{Pos: connect.Pos{Line: 3}, Column: "código postal", Value: "ñ", Type: connect.TypeInt32},
			`line 3: column "código postal": "ñ" is not an integer`},
		{schema.ValueError{Value: "9999999999", Type: connect.TypeInt32, Err: reason},
			`"9999999999" is not an integer (out of range)`},
		{schema.ValueError{Column: "a\"b", Value: "x\ny", Type: connect.TypeJSON},
			`column "a\"b": "x\ny" is not JSON`},
		{schema.ValueError{Value: strings.Repeat("é", 40), Type: connect.TypeDate},
			`"` + strings.Repeat("é", 32) + `..." is not a date`},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %s, want %s", got, c.want)
		}
	}
	e := &schema.ValueError{Err: reason}
	if !errors.Is(e, reason) {
		t.Error("ValueError does not unwrap to its Err")
	}
}
