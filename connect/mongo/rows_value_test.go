package mongo

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

// The BSON types FerretDB refuses to store (Decimal128, undefined,
// JavaScript, symbol, min and max keys) are checked here, on BSON the
// driver encodes, rather than through a server.

func rawValue(t testing.TB, v any) bson.RawValue {
	t.Helper()
	b, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		t.Fatal(err)
	}
	return bson.Raw(b).Lookup("v")
}

func decimal(t testing.TB, s string) bson.Decimal128 {
	t.Helper()
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestToValueDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want connect.Value
	}{
		{"12.50", connect.Numeric("12.50")},
		{"-12.50", connect.Numeric("-12.50")},
		{"0", connect.Numeric("0")},
		{"0E+5", connect.Numeric("0")},
		{"1.5E+3", connect.Numeric("1500")},
		{"1.20E+2", connect.Numeric("120")},
		{"-1.20E-5", connect.Numeric("-0.0000120")},
		{"0.001", connect.Numeric("0.001")},
		{"123456789012345678901234567890.1234", connect.Numeric("123456789012345678901234567890.1234")},
		{"Infinity", connect.Float64(math.Inf(1))},
		{"-Infinity", connect.Float64(math.Inf(-1))},
	} {
		got, err := toValue(rawValue(t, decimal(t, c.in)))
		if err != nil || got != c.want {
			t.Errorf("decimal %s: got %v %v, %v; want %v %v", c.in, got.Type(), got, err, c.want.Type(), c.want)
		}
		// The text is one every target reads as the same number.
		if c.want.Type() == connect.TypeNumeric {
			if _, err := schema.Convert(connect.TypeNumeric, connect.Text(got.Str())); err != nil {
				t.Errorf("decimal %s: %q is not numeric text: %v", c.in, got.Str(), err)
			}
		}
	}
	if got, err := toValue(rawValue(t, decimal(t, "NaN"))); err != nil || !math.IsNaN(got.Float()) || got.Type() != connect.TypeFloat64 {
		t.Errorf("decimal NaN: got %v %v, %v; want a double NaN", got.Type(), got, err)
	}
	// Inside JSON: the number's text, non-finite ones null.
	got, err := toValue(rawValue(t, bson.D{{Key: "p", Value: decimal(t, "1.50E+1")}, {Key: "q", Value: decimal(t, "-0.0100")},
		{Key: "n", Value: decimal(t, "NaN")}}))
	if want := connect.JSON(`{"p":15.0,"q":-0.0100,"n":null}`); err != nil || got != want {
		t.Errorf("decimals in a document: got %v, %v; want %v", got, err, want)
	}
}

// TestInferDecimals: schema.Infer keeps decimals exact, and widens a mix
// of decimals and integers to numeric.
func TestInferDecimals(t *testing.T) {
	var sample []connect.Row
	for _, v := range []any{decimal(t, "12.50"), int32(3), int64(1) << 40, decimal(t, "1E+3")} {
		val, err := toValue(rawValue(t, v))
		if err != nil {
			t.Fatal(err)
		}
		sample = append(sample, connect.Row{Values: []connect.Value{val}})
	}
	if got := schema.Infer([]string{"d"}, sample); got[0].Type != connect.TypeNumeric {
		t.Errorf("decimals and integers: Infer gives %v, want numeric", got[0].Type)
	}
	if got := schema.Infer([]string{"d"}, sample[1:3]); got[0].Type != connect.TypeInt64 {
		t.Errorf("int32 and int64: Infer gives %v, want bigint", got[0].Type)
	}
}

func TestToValueOtherTypes(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want connect.Value
	}{
		{"undefined", bson.Undefined{}, connect.Null()},
		{"min key", bson.MinKey{}, connect.Text(`{"$minKey":1}`)},
		{"JavaScript", bson.JavaScript("f()"), connect.Text(`{"$code":"f()"}`)},
		{"symbol", bson.Symbol("s"), connect.Text(`{"$symbol":"s"}`)},
		{"date in year 9999", bson.NewDateTimeFromTime(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)),
			connect.TimestampTZ(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC))},
		{"date after year 9999", bson.DateTime(math.MaxInt64), connect.Text(`{"$date":{"$numberLong":"9223372036854775807"}}`)},
		{"nested", bson.A{bson.Undefined{}, bson.MaxKey{}, true, int64(-5), math.Inf(1), bson.A{}},
			connect.JSON(`[null,{"$maxKey":1},true,-5,null,[]]`)},
	} {
		got, err := toValue(rawValue(t, c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: got %v %v, %v; want %v %v", c.name, got.Type(), got, err, c.want.Type(), c.want)
		}
	}
}

func TestToValueInvalidUTF8(t *testing.T) {
	for _, in := range []any{"a\xffb", bson.D{{Key: "k", Value: "\xff"}}, bson.D{{Key: "\xff", Value: 1}}} {
		if got, err := toValue(rawValue(t, in)); !errors.Is(err, errUTF8) {
			t.Errorf("%q: got %v, %v; want errUTF8", in, got, err)
		}
	}
}

// FuzzToValue feeds documents of any bytes through the conversion: it
// must not panic, and what it calls JSON must be valid JSON.
func FuzzToValue(f *testing.F) {
	for _, v := range []any{
		bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: bson.A{1, "x", 2.5, nil}}}}},
		bson.D{{Key: "d", Value: bson.NewDateTimeFromTime(time.Unix(0, 0))}, {Key: "o", Value: bson.NewObjectID()}},
		bson.D{{Key: "m", Value: bson.D{{Key: "x", Value: bson.Regex{Pattern: "a"}}, {Key: "t", Value: bson.Timestamp{T: 1}}}}},
		bson.D{{Key: "b", Value: bson.Binary{Subtype: 4, Data: []byte{1}}}, {Key: "s", Value: "\u2028\""}},
	} {
		b, err := bson.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dec, _ := bson.ParseDecimal128("-1.23E-4")
	b, _ := bson.Marshal(bson.D{{Key: "x", Value: bson.A{dec, bson.Undefined{}}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		elems, err := bson.Raw(b).Elements()
		if err != nil {
			return
		}
		for _, e := range elems {
			v, err := toValue(e.Value())
			if err == nil && v.Type() == connect.TypeJSON && !json.Valid([]byte(v.Str())) {
				t.Fatalf("toValue(%v) = invalid JSON %q", e.Value(), v.Str())
			}
		}
	})
}
