package schema_test

import (
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

// allTypes lists every connect.Type.
var allTypes = []connect.Type{connect.TypeText, connect.TypeBool, connect.TypeInt32, connect.TypeInt64,
	connect.TypeFloat64, connect.TypeNumeric, connect.TypeDate, connect.TypeTimestamp, connect.TypeTimestampTZ,
	connect.TypeJSON, connect.TypeBytes}

var fuzzSeeds = []string{"", "0", "-0", "007", "+5", "12.50", "1e3", "1.50e1", "-1.5e-3", "1e400", "1e-400",
	"NaN", "-inf", "true", "F", "2024-02-29", "2023-02-29", "2024-02-29T13:04:05.123456+01:00",
	"2024-02-29 13:04", "0001-01-01T00:30+01:00", `{"a":[1]}`, `"x"`, "AP8=", `\x00ff`, "9223372036854775808",
	"00012e-1", ".5", "5.", "1_0"}

// FuzzConvert reads any text as every type: Convert never panics, and a
// value it returns reads back as itself from its text form, so that
// nothing is bent on the way through a CSV file or a text COPY. It also
// converts each result into every other type, which must not panic.
func FuzzConvert(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ty := range allTypes {
			v, err := schema.Convert(ty, connect.Text(s))
			if err != nil {
				continue
			}
			if v.IsNull() || v.Type() != ty {
				t.Fatalf("Convert(%s, %q) = %#v", ty, s, v)
			}
			text := string(v.AppendText(nil))
			back, err := schema.Convert(ty, connect.Text(text))
			if err != nil || !same(back, v) {
				t.Fatalf("Convert(%s, %q) = %#v, whose text %q reads back as %#v, %v", ty, s, v, text, back, err)
			}
			for _, to := range allTypes {
				schema.Convert(to, v)
			}
		}
	})
}

// FuzzInfer infers the types of columns of any values, split from the
// input at '|' (one column) and '\n' (rows); "~" stands for NULL. Every
// sample value must convert to the type inferred for its column.
func FuzzInfer(f *testing.F) {
	f.Add(strings.Join(fuzzSeeds, "\n"))
	f.Add("1|007|2024-01-01\n2.5|12|2024-01-01 10:00\n~|~|~")
	f.Add("{\"a\":1}|1e3|true\n12|1|false\n\"x\"|1.5|TRUE")
	f.Fuzz(func(t *testing.T, in string) {
		var sample []connect.Row
		ncols := 0
		for line := range strings.SplitSeq(in, "\n") {
			var r connect.Row
			for field := range strings.SplitSeq(line, "|") {
				if field == "~" {
					r.Values = append(r.Values, connect.Null())
				} else {
					r.Values = append(r.Values, connect.Text(field))
				}
			}
			ncols = max(ncols, len(r.Values))
			sample = append(sample, r)
		}
		cols := schema.Infer(make([]string, ncols), sample)
		for _, r := range sample {
			for i, v := range r.Values {
				if _, err := schema.Convert(cols[i].Type, v); err != nil {
					t.Fatalf("column %d inferred %s, yet: %v", i, cols[i].Type, err)
				}
			}
		}
	})
}
