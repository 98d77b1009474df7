package file_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect/file"
)

// jsonRecords are records whose fields change type from one to the next,
// with nulls, missing keys, nesting, escapes and number literals.
var jsonRecords = []string{
	`{"id": 1, "name": "Ada", "zip": "007", "tags": ["a", "b"]}`,
	`{"id": "2", "name": null, "zip": 7.50, "meta": {"k": [1, {"x": null}]}}`,
	`{"zip": 1e3, "id": 3, "name": "caf\u00e9 \"q\" 日本", "ok": true, "tags": {}}`,
	`{"id": -0.0, "ok": false, "name": "\ud83d\ude00"}`,
}

var jsonWant = [][]string{
	{"numeric:1", `"Ada"`, `"007"`, `json:["a","b"]`, "NULL", "NULL"},
	{`"2"`, "NULL", "numeric:7.50", "NULL", `json:{"k":[1,{"x":null}]}`, "NULL"},
	{"numeric:3", `"café \"q\" 日本"`, "numeric:1e3", "json:{}", "NULL", "boolean:true"},
	{"numeric:-0.0", `"😀"`, "NULL", "NULL", "NULL", "boolean:false"},
}

var jsonColumns = []string{"id", "name", "zip", "tags", "meta", "ok"}

func TestRowSourceJSONReadsArraysAndLinesAlike(t *testing.T) {
	inputs := map[string]string{
		"JSON Lines":           "\uFEFF" + strings.Join(jsonRecords, "\n") + "\n",
		"JSON Lines with CRLF": strings.Join(jsonRecords, "\r\n\r\n"),
		"array on one line":    "[" + strings.Join(jsonRecords, ",") + "]",
		"array pretty":         "\uFEFF \n[\n  " + strings.Join(jsonRecords, ",\n  ") + "\n]\n",
	}
	for name, data := range inputs {
		for _, format := range []file.Format{file.FormatJSON, file.FormatAuto} {
			t.Run(name+" "+format.String(), func(t *testing.T) {
				src := newRows(t, data, file.RowSourceConfig{Format: format})
				if got := src.Columns(); !slices.Equal(got, jsonColumns) {
					t.Errorf("Columns = %q, want %q: the keys in first-seen order", got, jsonColumns)
				}
				if got := len(src.Sample()); got != len(jsonRecords) {
					t.Errorf("Sample has %d rows, want %d", got, len(jsonRecords))
				}
				for _, batch := range []int{1, 3} {
					src := newRows(t, data, file.RowSourceConfig{Format: format})
					if got := showRows(mustReadAll(t, src, batch)); !slices.EqualFunc(got, jsonWant, slices.Equal) {
						t.Errorf("batch %d: rows\n got %q\nwant %q", batch, got, jsonWant)
					}
				}
			})
		}
	}
}

func TestRowSourceJSONLines(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []int64
	}{
		{"JSON Lines count blank lines", "\n{\"a\":1}\n\n  \n{\"a\":2}\n", []int64{2, 5}},
		{"an array counts the line each object starts on", "[\n{\"a\":\n1},\n\n {\"a\":2}, {\"a\":3}]", []int64{2, 5, 5}},
	} {
		rows := mustReadAll(t, newRows(t, tc.data, file.RowSourceConfig{Format: file.FormatJSON}), 10)
		if got := lines(rows); !slices.Equal(got, tc.want) {
			t.Errorf("%s: lines = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRowSourceJSONBadRecords(t *testing.T) {
	records := []string{
		`{"a": 1}`,
		`[1, 2]`,           // 2: not an object
		`"text"`,           // 3: not an object
		`{"a": }`,          // 4: not JSON
		`{"a": 1, "a": 2}`, // 5: a key twice
		`{"a": "\xff"}`,    // 6: invalid UTF-8
		`{"b": 2}`,         // 7: a key the sample did not see
		`{"a": 3}`,         // 8
	}
	for name, data := range map[string]string{
		"lines": strings.Join(records, "\n"),
		"array": "[" + strings.Join(records, ",\n") + "]",
	} {
		t.Run(name, func(t *testing.T) {
			src := newRows(t, data, file.RowSourceConfig{Format: file.FormatJSON, SampleSize: 1})
			rows, errs := readRows(t, src, 10)
			if got, want := showRows(rows), [][]string{{"numeric:1"}, {"numeric:3"}}; !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("rows = %q, want %q", got, want)
			}
			var got []int
			for _, err := range errs {
				var le *file.LineError
				if !errors.As(err, &le) {
					t.Fatalf("error %v is not a *LineError", err)
				}
				got = append(got, le.Line)
			}
			if want := []int{2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
				t.Errorf("bad lines = %v, want %v (%v)", got, want, errs)
			}
			if last := errs[len(errs)-1].Error(); !strings.Contains(last, `"b"`) || !strings.Contains(last, "sample size") {
				t.Errorf("the error for a key outside the sample = %q; want it to name the key and the sample size", last)
			}
		})
	}
}

func TestRowSourceJSONBrokenArrayEndsTheRead(t *testing.T) {
	for _, tc := range []struct {
		data, want string
		rows       int
	}{
		{`[{"a":1} {"a":2}]`, "where , or ] should follow", 1},
		{"[{\"a\":1},\n{\"a\":2},]", "line 2: JSON array: ] after a comma", 2},
		{"[{\"a\":1}\n", "no closing ]", 1},
		{`[{"a":1}] {"a":2}`, "after the array's closing ]", 1},
	} {
		src := newRows(t, tc.data, file.RowSourceConfig{Format: file.FormatJSON})
		rows, errs := readRows(t, src, 10)
		if len(rows) != tc.rows || len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Error(), tc.want) {
			t.Errorf("%s: %d rows, errors %v; want %d, then an error containing %q", tc.data, len(rows), errs, tc.rows, tc.want)
		}
	}
}

func TestRowSourceJSONLineTooLong(t *testing.T) {
	data := `{"a":1}` + "\n" + `{"a":"` + strings.Repeat("x", 200) + `"}` + "\n" + `{"a":3}`
	src := newRows(t, data, file.RowSourceConfig{Format: file.FormatJSONL, ReadOptions: file.ReadOptions{MaxLineBytes: 100}})
	rows, errs := readRows(t, src, 1)
	if len(rows) != 2 || len(errs) != 1 || !errors.Is(errs[0], file.ErrLineTooLong) || !strings.Contains(errs[0].Error(), "line 2") {
		t.Errorf("%d rows, errors %v; want 2 rows and ErrLineTooLong at line 2", len(rows), errs)
	}
}
