package file_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// fuzzRead reads data with cfg in skip mode and checks what holds for any
// input: no panic, rows and bad records in line order, and no error but
// ErrLineTooLong ending the read.
func fuzzRead(t *testing.T, data []byte, cfg file.RowSourceConfig) (src *file.RowSource, rows []connect.Row, bad []int) {
	cfg.OnBadLine = func(line int, _ []byte, _ error) error {
		bad = append(bad, line)
		return nil
	}
	cfg.MaxLineBytes = 1 << 16
	src, err := file.NewRowSource(bytes.NewReader(data), cfg)
	if err != nil {
		return nil, nil, nil // a bad header
	}
	buf := make([]connect.Row, 3)
	last := int64(0)
	for {
		n, err := src.Read(context.Background(), buf)
		for _, r := range buf[:n] {
			if r.Pos.Line < last || len(r.Values) != len(src.Columns()) {
				t.Fatalf("row %+v after line %d: lines must not decrease, and rows have %d values", r, last, len(src.Columns()))
			}
			last = r.Pos.Line
		}
		rows = append(rows, buf[:n]...)
		if err == io.EOF {
			return src, rows, bad
		}
		if err != nil {
			var le *file.LineError
			if !errors.As(err, &le) {
				t.Fatalf("Read: %v; want only *LineError", err)
			}
			return src, rows, bad
		}
	}
}

// FuzzRowSourceCSV checks the CSV reader against encoding/csv: where
// encoding/csv reads a valid UTF-8 input without error, the reader returns
// the same fields (NULL being an empty field, and quoted "\r\n", which
// encoding/csv turns into "\n", kept).
func FuzzRowSourceCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a,\"b\nc\"\r\n,\"\"\n", "\"a\"\"b\",c\r\n", "a,b\n\n\n1,\"2\"", "x\r", "a\"b,c\n",
		"\"a\"x,b\n", "a,b\r\n1,2\r\n", "\"unterminated\n", "a;b\n", "\"\"\n", ",\n,\n", "a,\"b\r\nc\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sample := range []int{1, 1000} {
			src, rows, bad := fuzzRead(t, data, file.RowSourceConfig{Format: file.FormatCSV, NoHeader: true, SampleSize: sample})
			if src == nil || !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\uFEFF")) || len(src.Columns()) == 1 {
				continue // encoding/csv keeps a BOM and passes over blank lines of a one-column file
			}
			want, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				continue
			}
			var got [][]string
			for _, r := range rows {
				var rec []string
				for _, v := range r.Values {
					rec = append(rec, strings.ReplaceAll(v.Str(), "\r\n", "\n"))
				}
				got = append(got, rec)
			}
			if len(bad) > 0 || !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("input %q:\n got %q (bad lines %v)\nwant %q (encoding/csv)", data, got, bad, want)
			}
		}
	})
}

// FuzzRowSourceJSON checks the JSON reader against encoding/json: where
// the input is a JSON array of objects, or lines of objects, it returns
// each object's members by column, as encoding/json reads them.
func FuzzRowSourceJSON(f *testing.F) {
	for _, s := range []string{
		`[{"a":1},{"b":"x","a":null}]`, "{\"a\":1}\n\n{\"a\":[1,{}]}\r\n", ` [ ]`, `[{"a":"\u00e9\"","b":-1.5e3}]`,
		`[1,{"a":1}]`, `{"a":1} {"a":2}`, "[{\"a\":1},]", `"x"`, `[{"a":{"b":"}"}}]`, `{"a\"b":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, rows, bad := fuzzRead(t, data, file.RowSourceConfig{Format: file.FormatJSON, SampleSize: file.MaxSampleSize})
		objs, ok := jsonObjects(data)
		if src == nil || !ok {
			return
		}
		if len(bad) > 0 || len(rows) != len(objs) {
			t.Fatalf("input %q: %d rows, bad lines %v; want the %d objects", data, len(rows), bad, len(objs))
		}
		cols := src.Columns()
		for i, obj := range objs {
			for j, col := range cols {
				raw, ok := obj[col]
				if got, want := rowValueJSON(t, rows[i].Values[j]), compactJSON(t, raw, ok); got != want {
					t.Fatalf("input %q: record %d, column %q = %s, want %s", data, i, col, got, want)
				}
			}
		}
	})
}

// jsonObjects returns the objects of a JSON array, or of JSON Lines, when
// every element is an object without a repeated key.
func jsonObjects(data []byte) ([]map[string]json.RawMessage, bool) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return nil, false
	}
	var elems []json.RawMessage
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if json.Unmarshal(data, &elems) != nil {
			return nil, false
		}
	} else {
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if len(bytes.Trim(line, " \t\r")) > 0 {
				elems = append(elems, bytes.TrimSuffix(line, []byte("\r")))
			}
		}
	}
	var objs []map[string]json.RawMessage
	for _, e := range elems {
		var obj map[string]json.RawMessage
		if !json.Valid(e) || json.Unmarshal(e, &obj) != nil || obj == nil || countKeys(e) != len(obj) {
			return nil, false
		}
		objs = append(objs, obj)
	}
	return objs, true
}

// countKeys counts the members of the JSON object e.
func countKeys(e []byte) int {
	dec := json.NewDecoder(bytes.NewReader(e))
	dec.Token() // {
	n := 0
	for dec.More() {
		dec.Token() // the key
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return -1
		}
		n++
	}
	return n
}

// rowValueJSON writes a raw value as JSON, for comparison.
func rowValueJSON(t *testing.T, v connect.Value) string {
	b, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return compactJSON(t, b, true)
}

// compactJSON returns raw compact, with strings re-encoded, or null when
// the key is missing.
func compactJSON(t *testing.T, raw []byte, present bool) string {
	if !present {
		return "null"
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(s)
		return string(b)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
