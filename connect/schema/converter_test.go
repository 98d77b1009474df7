package schema_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

func cols(spec ...any) []connect.Column {
	var out []connect.Column
	for i := 0; i < len(spec); i += 2 {
		out = append(out, connect.Column{Name: spec[i].(string), Type: spec[i+1].(connect.Type)})
	}
	return out
}

func TestNewConverterListsMissingColumnsBothWays(t *testing.T) {
	src := []string{"id", "extra", "naïve", "more"}
	dst := cols("id", connect.TypeInt64, "zip", connect.TypeText, "naïve", connect.TypeText, "código", connect.TypeText)
	_, err := schema.NewConverter(src, dst)
	want := `schema: target columns missing from the source: "zip", "código"; source columns missing from the target: "extra", "more"`
	if err == nil || err.Error() != want {
		t.Fatalf("NewConverter error = %v, want %s", err, want)
	}
	inSrc, inDst := schema.Match(src, dst)
	if !slices.Equal(inSrc, []string{"zip", "código"}) || !slices.Equal(inDst, []string{"extra", "more"}) {
		t.Errorf("Match = %q, %q", inSrc, inDst)
	}
	if inSrc, inDst := schema.Match([]string{"b", "a"}, cols("a", connect.TypeText, "b", connect.TypeText)); inSrc != nil || inDst != nil {
		t.Errorf("Match of the same names = %q, %q; want none", inSrc, inDst)
	}
}

func TestNewConverterRefusesRepeatedNamesAndNoTarget(t *testing.T) {
	_, err := schema.NewConverter([]string{"a", "a", "b"}, cols("a", connect.TypeText, "b", connect.TypeText, "b", connect.TypeText))
	for _, want := range []string{`source columns named twice: "a"`, `target columns named twice: "b"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewConverter error = %v; want it to contain %s", err, want)
		}
	}
	if _, err := schema.NewConverter(nil, nil); err == nil || !strings.Contains(err.Error(), "no target columns") {
		t.Errorf("NewConverter(nil, nil) error = %v", err)
	}
}

func TestConverterMatchesNamesThenCase(t *testing.T) {
	// "Zip" finds "zip" by case; "Name" has an exact match, so "name" is
	// not taken from it.
	src := []string{"name", "Zip", "Name"}
	dst := cols("Name", connect.TypeText, "zip", connect.TypeInt32, "NAME", connect.TypeText)
	c, err := schema.NewConverter(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Convert(connect.Row{Values: texts("lower", "42", "Upper")}, nil)
	want := []connect.Value{connect.Text("Upper"), connect.Int32(42), connect.Text("lower")}
	if err != nil || !slices.Equal(out, want) {
		t.Errorf("Convert = %v, %v; want %v", out, err, want)
	}
	// Two source columns differ from the target's name only in case: neither matches.
	if inSrc, inDst := schema.Match([]string{"Id", "ID"}, cols("id", connect.TypeText)); !slices.Equal(inSrc, []string{"id"}) || len(inDst) != 2 {
		t.Errorf("ambiguous Match = %q, %q", inSrc, inDst)
	}
}

func TestConverterConvertsEachColumnByName(t *testing.T) {
	src := []string{"when", "zip", "amount", "tags", "id"}
	dst := cols("id", connect.TypeInt64, "amount", connect.TypeNumeric, "zip", connect.TypeText,
		"when", connect.TypeTimestampTZ, "tags", connect.TypeJSON)
	c, err := schema.NewConverter(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Columns(), dst) {
		t.Errorf("Columns = %v", c.Columns())
	}
	in := connect.Row{Values: []connect.Value{connect.Text("2024-02-29T12:00:00Z"), connect.Text("02134"),
		connect.Numeric("12.50"), connect.JSON(`["a"]`), connect.Null()}}
	prefix := []connect.Value{connect.Text("kept")}
	out, err := c.Convert(in, prefix)
	want := []connect.Value{connect.Text("kept"), connect.Null(), connect.Numeric("12.50"), connect.Text("02134"),
		connect.TimestampTZ(noon), connect.JSON(`["a"]`)}
	if err != nil || !slices.Equal(out, want) {
		t.Errorf("Convert = %v, %v; want %v", out, err, want)
	}
}

func TestConverterErrorNamesLineAndColumnAndKeepsOut(t *testing.T) {
	c, err := schema.NewConverter([]string{"id", "código postal"}, cols("id", connect.TypeInt32, "código postal", connect.TypeInt64))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]connect.Value, 1, 8)
	in := connect.Row{Values: texts("1", "12a4"), Pos: connect.Pos{Name: "data.csv", Line: 12}}
	got, err := c.Convert(in, out)
	var ve *schema.ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("Convert error = %v, want a *ValueError", err)
	}
	if want := `data.csv:12: column "código postal": "12a4" is not a bigint`; err.Error() != want {
		t.Errorf("error = %s, want %s", err, want)
	}
	if ve.Pos != in.Pos || ve.Column != "código postal" || ve.Value != "12a4" || ve.Type != connect.TypeInt64 {
		t.Errorf("ValueError = %+v", ve)
	}
	if len(got) != 1 {
		t.Errorf("Convert returned %d values on error, want out as it was (1)", len(got))
	}

	_, err = c.Convert(connect.Row{Values: texts("1"), Pos: connect.Pos{Name: "data.csv", Line: 13}}, nil)
	if want := "data.csv:13: schema: the row has 1 values, want 2"; err == nil || err.Error() != want {
		t.Errorf("short row error = %v, want %s", err, want)
	}
}

// TestConvertAllocatesNothingOnCommonPaths holds Convert to its promise: no
// allocation per value when text becomes text, numbers, booleans, dates,
// timestamps or JSON.
func TestConvertAllocatesNothingOnCommonPaths(t *testing.T) {
	c, in := benchRow(t)
	out := make([]connect.Value, 0, len(in.Values))
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if out, err = c.Convert(in, out[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Convert allocates %v times a CSV row, want 0", allocs)
	}

	// A JSON record: numbers, a boolean, an object, a string holding JSON.
	dst := cols("n", connect.TypeInt64, "x", connect.TypeNumeric, "ok", connect.TypeBool,
		"obj", connect.TypeJSON, "raw", connect.TypeJSON, "f", connect.TypeFloat64)
	c, err := schema.NewConverter(names(dst), dst)
	if err != nil {
		t.Fatal(err)
	}
	in = connect.Row{Values: []connect.Value{connect.Numeric("42"), connect.Numeric("1.5"), connect.Bool(true),
		connect.JSON(`{"a":[1,2]}`), connect.Text(`{"b": "some longer text to defeat small-buffer tricks"}`), connect.Numeric("2.5e3")}}
	allocs = testing.AllocsPerRun(100, func() {
		var err error
		if out, err = c.Convert(in, out[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Convert allocates %v times a JSON row, want 0", allocs)
	}
}

// benchRow returns a Converter for eight columns and a CSV row for it.
func benchRow(tb testing.TB) (*schema.Converter, connect.Row) {
	dst := cols("id", connect.TypeInt64, "n", connect.TypeInt32, "price", connect.TypeFloat64,
		"amount", connect.TypeNumeric, "name", connect.TypeText, "ok", connect.TypeBool,
		"day", connect.TypeDate, "at", connect.TypeTimestampTZ)
	c, err := schema.NewConverter(names(dst), dst)
	if err != nil {
		tb.Fatal(err)
	}
	in := connect.Row{Values: texts("1234567890", "42", "19.99", "1234.50", "Zoë Smith", "true",
		"2024-02-29", "2024-02-29T13:04:05.123456+01:00"), Pos: connect.Pos{Name: "data.csv", Line: 2}}
	return c, in
}

func names(cs []connect.Column) []string {
	n := make([]string, len(cs))
	for i, c := range cs {
		n[i] = c.Name
	}
	return n
}

func BenchmarkConvert(b *testing.B) {
	c, in := benchRow(b)
	out := make([]connect.Value, 0, len(in.Values))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = c.Convert(in, out[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
