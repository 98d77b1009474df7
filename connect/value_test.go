package connect_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
)

func TestValueTextForms(t *testing.T) {
	ts := time.Date(2024, 2, 29, 13, 4, 5, 123456000, time.FixedZone("x", 3600))
	for _, c := range []struct {
		v    connect.Value
		text string
		json string
	}{
		{connect.Null(), "NULL", "null"},
		{connect.Value{}, "NULL", "null"},
		{connect.Text(`a"b`), `a"b`, `"a\"b"`},
		{connect.Bool(true), "true", "true"},
		{connect.Int32(-7), "-7", "-7"},
		{connect.Int64(math.MaxInt64), "9223372036854775807", "9223372036854775807"},
		{connect.Float64(0.1), "0.1", "0.1"},
		{connect.Float64(math.Inf(-1)), "-Infinity", `"-Infinity"`},
		{connect.Numeric("12.50"), "12.50", "12.50"},
		{connect.Date(ts), "2024-02-29", `"2024-02-29"`},
		{connect.Timestamp(ts), "2024-02-29 13:04:05.123456", `"2024-02-29 13:04:05.123456"`},
		{connect.TimestampTZ(ts), "2024-02-29 12:04:05.123456Z", `"2024-02-29 12:04:05.123456Z"`},
		{connect.JSON(`{"a":[1]}`), `{"a":[1]}`, `{"a":[1]}`},
		{connect.Bytes([]byte{0, 255}), "AP8=", `"AP8="`},
	} {
		if got := c.v.String(); got != c.text {
			t.Errorf("%#v.String() = %q, want %q", c.v, got, c.text)
		}
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.json {
			t.Errorf("json.Marshal(%v) = %s, %v; want %s", c.v, b, err, c.json)
		}
	}
}

func TestValueTimesRoundTrip(t *testing.T) {
	for _, ts := range []time.Time{
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		if got := connect.TimestampTZ(ts).Time(); !got.Equal(ts) {
			t.Errorf("TimestampTZ(%v).Time() = %v", ts, got)
		}
		day := time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC)
		if got := connect.Date(ts).Time(); !got.Equal(day) {
			t.Errorf("Date(%v).Time() = %v, want %v", ts, got, day)
		}
	}
}

func TestParseTypeReadsEveryNameAndAlias(t *testing.T) {
	for ty := connect.TypeText; ty <= connect.TypeBytes; ty++ {
		got, err := connect.ParseType(ty.String())
		if err != nil || got != ty {
			t.Errorf("ParseType(%q) = %v, %v", ty, got, err)
		}
	}
	if got, err := connect.ParseType("jsonb"); err != nil || got != connect.TypeJSON {
		t.Errorf("ParseType(jsonb) = %v, %v", got, err)
	}
	if _, err := connect.ParseType("integr"); err == nil {
		t.Error("ParseType(integr) succeeded")
	}
}

func TestRowMarshalsPositionAndValues(t *testing.T) {
	r := connect.Row{Values: []connect.Value{connect.Int64(1), connect.Null()}, Pos: connect.Pos{Name: "a.csv", Line: 3}}
	b, err := json.Marshal(r)
	if want := `{"pos":{"name":"a.csv","line":3},"values":[1,null]}`; err != nil || string(b) != want {
		t.Errorf("got %s, %v; want %s", b, err, want)
	}
}
