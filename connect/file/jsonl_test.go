package file_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// readAll reads src to the end with a small buffer (so records straddle
// Reads) and returns the records and the error that ended the read (nil for
// io.EOF).
func readAll[E any](t testing.TB, src weir.Source[E]) ([]E, error) {
	t.Helper()
	var out []E
	buf := make([]E, 7)
	for {
		n, err := src.Read(context.Background(), buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

type person struct {
	ID    int64    `json:"id"`
	Name  string   `json:"name"`
	Note  string   `json:"note"`
	Tags  []string `json:"tags"`
	Score float64  `json:"score"`
	OK    bool     `json:"ok"`
}

var people = []person{
	{ID: 1, Name: "Ada Lovelace", Note: "", Tags: []string{"math"}, Score: 1.5, OK: true},
	{ID: 2, Name: "Zoë Ünïcødé ✓ 日本語", Note: "says \"hi\", then leaves", Score: -0.25},
	{ID: 3, Name: "", Note: "line one\nline two\r\nline three", Tags: []string{}},
	{ID: 4, Name: "tab\there, comma, here", Note: `back\slash and <html> & "quotes"`, Score: math.MaxFloat64},
	{ID: 5, Name: " leading space", Note: "emoji 🎉 and \u2028 separator", OK: true},
}

// TestJSONLLinesAndClose checks a file's lines, Line, and what Close
// ends; conntest_test.go checks that records read back.
func TestJSONLLinesAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "people.jsonl")
	sink, err := file.CreateJSONL[person](path, file.JSONLSinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sink.Write(ctx, people); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(ctx, people[:1]); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(data, []byte("\n")); got != len(people) {
		t.Fatalf("file has %d lines, want %d:\n%s", got, len(people), data)
	}

	src, err := file.OpenJSONL[person](path, file.JSONLSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, src); err != nil {
		t.Fatal(err)
	}
	if src.Line() != len(people) {
		t.Fatalf("Line() = %d, want %d", src.Line(), len(people))
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx, make([]person, 1)); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
}

// mongoDoc is what a mongoexport document decodes into.
type mongoDoc struct {
	ID      string      `json:"_id"`
	Created time.Time   `json:"created"`
	Born    time.Time   `json:"born"`
	Visits  int64       `json:"visits"`
	Age     int         `json:"age"`
	Score   float64     `json:"score"`
	Ratio   *float64    `json:"ratio"`
	Price   json.Number `json:"price"`
	Address struct {
		City  string    `json:"city"`
		Moved time.Time `json:"moved"`
	} `json:"address"`
	Orders []struct {
		ID    string `json:"id"`
		Qty   int    `json:"qty"`
		Total float64
	} `json:"orders"`
	Friends []string `json:"friends"`
}

func TestJSONLExtendedJSONDocuments(t *testing.T) {
	// The same document as mongoexport writes it in each mode.
	relaxed := `{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"created":{"$date":"2024-01-02T03:04:05.678Z"},` +
		`"born":{"$date":{"$numberLong":"-86400000"}},"visits":9007199254740993,"age":36,"score":1.5,` +
		`"ratio":{"$numberDouble":"NaN"},"price":{"$numberDecimal":"19.990"},` +
		`"address":{"city":"Zürich","moved":{"$date":"2020-05-06T07:08:09Z"}},` +
		`"orders":[{"id":{"$oid":"000000000000000000000001"},"qty":2,"Total":{"$numberDouble":"3.25"}},` +
		`{"id":{"$oid":"000000000000000000000002"},"qty":1,"Total":4}],` +
		`"friends":[{"$oid":"aa"},{"$oid":"bb"}]}`
	canonical := `{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"created":{"$date":{"$numberLong":"1704164645678"}},` +
		`"born":{"$date":{"$numberLong":"-86400000"}},"visits":{"$numberLong":"9007199254740993"},"age":{"$numberInt":"36"},` +
		`"score":{"$numberDouble":"1.5"},"ratio":{"$numberDouble":"NaN"},"price":{"$numberDecimal":"19.990"},` +
		`"address":{"city":"Zürich","moved":{"$date":{"$numberLong":"1588748889000"}}},` +
		`"orders":[{"id":{"$oid":"000000000000000000000001"},"qty":{"$numberInt":"2"},"Total":{"$numberDouble":"3.25"}},` +
		`{"id":{"$oid":"000000000000000000000002"},"qty":{"$numberInt":"1"},"Total":{"$numberDouble":"4.0"}}],` +
		`"friends":[{"$oid":"aa"},{"$oid":"bb"}]}`

	for _, mode := range []struct{ name, line string }{{"relaxed", relaxed}, {"canonical", canonical}} {
		t.Run(mode.name, func(t *testing.T) {
			src, err := file.NewJSONLSource[mongoDoc](strings.NewReader(mode.line+"\n"), file.JSONLSourceConfig{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d documents, want 1", len(got))
			}
			d := got[0]
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("_id", d.ID, "65a1b2c3d4e5f60718293a4b")
			check("created", d.Created.UTC(), time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC))
			check("born", d.Born.UTC(), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC))
			check("visits", d.Visits, int64(9007199254740993))
			check("age", d.Age, 36)
			check("score", d.Score, 1.5)
			check("ratio (NaN → null)", d.Ratio, (*float64)(nil))
			check("price", d.Price, json.Number("19.990"))
			check("address.city", d.Address.City, "Zürich")
			check("address.moved", d.Address.Moved.UTC(), time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC))
			check("orders", len(d.Orders), 2)
			if len(d.Orders) == 2 {
				check("orders[0].id", d.Orders[0].ID, "000000000000000000000001")
				check("orders[0].qty", d.Orders[0].Qty, 2)
				check("orders[0].Total", d.Orders[0].Total, 3.25)
				check("orders[1].Total", d.Orders[1].Total, 4.0)
			}
			check("friends", d.Friends, []string{"aa", "bb"})
		})
	}
}

// TestJSONLExtendedJSONForms decodes each form, alone, nested and in an
// array, into `any` and compares with the plain JSON it stands for.
func TestJSONLExtendedJSONForms(t *testing.T) {
	forms := []struct{ name, ext, plain string }{
		{"$oid", `{"$oid":"65a1b2c3d4e5f60718293a4b"}`, `"65a1b2c3d4e5f60718293a4b"`},
		{"$date string", `{"$date":"2024-01-02T03:04:05Z"}`, `"2024-01-02T03:04:05Z"`},
		{"$date $numberLong", `{"$date":{"$numberLong":"1700000000000"}}`, `"2023-11-14T22:13:20Z"`},
		{"$date number", `{"$date":1700000000000}`, `"2023-11-14T22:13:20Z"`},
		{"$numberLong", `{"$numberLong":"123"}`, `123`},
		{"$numberInt", `{"$numberInt":"5"}`, `5`},
		{"$numberDouble", `{"$numberDouble":"1.5"}`, `1.5`},
		{"$numberDouble Infinity", `{"$numberDouble":"Infinity"}`, `null`},
		{"$numberDouble -Infinity", `{"$numberDouble":"-Infinity"}`, `null`},
		{"$numberDouble NaN", `{"$numberDouble":"NaN"}`, `null`},
		{"$numberDecimal", `{"$numberDecimal":"123.4500"}`, `123.45`},
	}
	shapes := []struct{ name, tmpl string }{
		{"top", `{"v":%s}`},
		{"nested", `{"a":{"b":{"v":%s,"w":1}}}`},
		{"array", `{"xs":[1,%s,{"y":%[1]s}]}`},
	}
	for _, f := range forms {
		for _, sh := range shapes {
			t.Run(f.name+"/"+sh.name, func(t *testing.T) {
				in := fmt.Sprintf(sh.tmpl, f.ext)
				var want any
				if err := json.Unmarshal([]byte(fmt.Sprintf(sh.tmpl, f.plain)), &want); err != nil {
					t.Fatal(err)
				}
				src, err := file.NewJSONLSource[any](strings.NewReader(in), file.JSONLSourceConfig{})
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAll(t, src)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
					t.Fatalf("%s decoded to %#v, want %#v", in, got, want)
				}
			})
		}
	}
	t.Run("$date into time.Time", func(t *testing.T) {
		type rec struct{ At time.Time }
		want := time.UnixMilli(1700000000000).UTC()
		in := `{"At":{"$date":"2023-11-14T22:13:20Z"}}` + "\n" +
			`{"At":{"$date":{"$numberLong":"1700000000000"}}}` + "\n" +
			`{"At":{"$date":1700000000000}}` + "\n"
		src, _ := file.NewJSONLSource[rec](strings.NewReader(in), file.JSONLSourceConfig{})
		got, err := readAll(t, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("got %d records, want 3", len(got))
		}
		for i, r := range got {
			if !r.At.Equal(want) {
				t.Errorf("line %d: At = %v, want %v", i+1, r.At, want)
			}
		}
	})
}

type lineSeen struct {
	line int
	text string
	err  error
}

// malformedJSONL has bad lines at 3 (syntax), 5 (type), 8 (trailing data)
// and 10 (syntax, after a CRLF line), blank lines at 4 and 7.
const malformedJSONL = `{"id":1,"name":"a"}
{"id":2,"name":"b"}
{"id":3,"name":
` + "  \t" + `
{"id":"four"}
{"id":6}

{"id":8} {"id":9}
{"id":9}` + "\r\n" + `{oops}
{"id":11}`

func TestJSONLMalformedFailMode(t *testing.T) {
	src, err := file.NewJSONLSource[person](strings.NewReader(malformedJSONL), file.JSONLSourceConfig{
		ReadOptions: file.ReadOptions{Name: "people.jsonl"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, src)
	var le *file.LineError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T), want a *LineError", err, err)
	}
	if le.Line != 3 || le.Name != "people.jsonl" {
		t.Fatalf("LineError at %s:%d, want people.jsonl:3", le.Name, le.Line)
	}
	if !strings.HasPrefix(err.Error(), "people.jsonl:3: ") {
		t.Fatalf("message %q does not start with the file and line", err)
	}
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		t.Fatalf("cause %v is not the *json.SyntaxError", le.Err)
	}
	// The source has moved past line 3: reading on gives every good
	// record, each bad line once, as a BadRecordError with its text.
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || bad.Pos != "people.jsonl:3" || string(bad.Raw) != `{"id":3,"name":` || bad.Error() != err.Error() {
		t.Fatalf("error %v: want a *weir.BadRecordError at people.jsonl:3 with the line's text", err)
	}
	rest, bads := readOn(t, src)
	var ids []int64
	for _, p := range rest {
		ids = append(ids, p.ID)
	}
	if want := []int64{6, 9, 11}; !reflect.DeepEqual(ids, want) {
		t.Errorf("reading on after line 3: ids %v, want %v", ids, want)
	}
	want := []string{"people.jsonl:5 {\"id\":\"four\"}", "people.jsonl:8 {\"id\":8} {\"id\":9}", "people.jsonl:10 {oops}"}
	if !reflect.DeepEqual(bads, want) {
		t.Errorf("bad lines after line 3: %q, want %q", bads, want)
	}
}

// readOn reads src to io.EOF, past the BadRecordErrors it returns, and
// returns the records and each bad record as "pos raw".
func readOn[E any](t *testing.T, src weir.Source[E]) ([]E, []string) {
	t.Helper()
	var out []E
	var bads []string
	buf := make([]E, 3)
	for range 1000 {
		n, err := src.Read(t.Context(), buf)
		out = append(out, buf[:n]...)
		var bad *weir.BadRecordError
		switch {
		case err == io.EOF:
			return out, bads
		case errors.As(err, &bad):
			bads = append(bads, bad.Pos+" "+string(bad.Raw))
		case err != nil:
			t.Fatalf("after %d records: %v", len(out), err)
		}
	}
	t.Fatal("no io.EOF after 1000 Reads")
	return nil, nil
}

func TestJSONLMalformedSkipMode(t *testing.T) {
	var seen []lineSeen
	src, err := file.NewJSONLSource[person](strings.NewReader(malformedJSONL), file.JSONLSourceConfig{
		ReadOptions: file.ReadOptions{OnBadLine: func(line int, text []byte, err error) error {
			seen = append(seen, lineSeen{line, string(text), err})
			return nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	if want := []int64{1, 2, 6, 9, 11}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	wantLines := []int{3, 5, 8, 10}
	wantText := []string{`{"id":3,"name":`, `{"id":"four"}`, `{"id":8} {"id":9}`, `{oops}`}
	if len(seen) != len(wantLines) {
		t.Fatalf("OnBadLine saw %+v, want lines %v", seen, wantLines)
	}
	for i, s := range seen {
		if s.line != wantLines[i] || s.text != wantText[i] || s.err == nil {
			t.Errorf("bad line %d: got (%d, %q, %v), want (%d, %q, error)", i, s.line, s.text, s.err, wantLines[i], wantText[i])
		}
	}
	var ute *json.UnmarshalTypeError
	if !errors.As(seen[1].err, &ute) {
		t.Errorf("line 5 cause %v, want *json.UnmarshalTypeError", seen[1].err)
	}
	if src.Skipped() != 4 || src.Line() != 11 {
		t.Fatalf("Skipped() = %d, Line() = %d; want 4, 11", src.Skipped(), src.Line())
	}
}

func TestJSONLOnBadLineStops(t *testing.T) {
	stop := errors.New("too many bad lines")
	calls := 0
	src, _ := file.NewJSONLSource[person](strings.NewReader(malformedJSONL), file.JSONLSourceConfig{
		ReadOptions: file.ReadOptions{OnBadLine: func(line int, _ []byte, _ error) error {
			calls++
			if line >= 5 {
				return stop
			}
			return nil
		}},
	})
	got, err := readAll(t, src)
	if !errors.Is(err, stop) {
		t.Fatalf("error %v, want it to wrap the callback's", err)
	}
	if calls != 2 || len(got) != 2 || src.Line() != 5 {
		t.Fatalf("calls %d, records %d, Line %d; want 2, 2, 5", calls, len(got), src.Line())
	}
}

func TestJSONLLineLength(t *testing.T) {
	long := func(n int) string { return `{"id":1,"name":"` + strings.Repeat("x", n) + `"}` }
	t.Run("longer than the read buffer but under the limit", func(t *testing.T) {
		in := long(300<<10) + "\n" + `{"id":2}` + "\n"
		src, _ := file.NewJSONLSource[person](strings.NewReader(in), file.JSONLSourceConfig{})
		got, err := readAll(t, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || len(got[0].Name) != 300<<10 || got[1].ID != 2 {
			t.Fatalf("got %d records", len(got))
		}
	})
	for _, size := range []int{200, 300 << 10} { // within the buffer, and beyond it
		t.Run(fmt.Sprintf("over the limit by %d", size), func(t *testing.T) {
			in := `{"id":1}` + "\n" + long(size) + "\r\n" + `{"id":3}` + "\n" + long(50) + "\n" + long(size)
			var seen []lineSeen
			src, _ := file.NewJSONLSource[person](strings.NewReader(in), file.JSONLSourceConfig{
				ReadOptions: file.ReadOptions{MaxLineBytes: 100, OnBadLine: func(line int, text []byte, err error) error {
					seen = append(seen, lineSeen{line, string(text), err})
					return nil
				}},
			})
			got, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[1].ID != 3 || len(got[2].Name) != 50 {
				t.Fatalf("records %+v", got)
			}
			if len(seen) != 2 || seen[0].line != 2 || seen[1].line != 5 {
				t.Fatalf("bad lines %+v, want lines 2 and 5", seen)
			}
			for _, s := range seen {
				if !errors.Is(s.err, file.ErrLineTooLong) || len(s.text) != 100 {
					t.Fatalf("line %d: err %v, text of %d bytes; want ErrLineTooLong and the first 100 bytes", s.line, s.err, len(s.text))
				}
			}
		})
	}
	t.Run("fail mode", func(t *testing.T) {
		src, _ := file.NewJSONLSource[person](strings.NewReader(`{"id":1}`+"\n"+long(200)), file.JSONLSourceConfig{
			ReadOptions: file.ReadOptions{MaxLineBytes: 100},
		})
		_, err := readAll(t, src)
		var le *file.LineError
		if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, file.ErrLineTooLong) {
			t.Fatalf("error %v, want a LineError at line 2 wrapping ErrLineTooLong", err)
		}
	})
}

func TestJSONLBOMAndBlankLines(t *testing.T) {
	in := "\xEF\xBB\xBF{\"id\":1}\r\n\r\n   \n{\"id\":2}\n\n"
	src, _ := file.NewJSONLSource[person](strings.NewReader(in), file.JSONLSourceConfig{})
	got, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 2 {
		t.Fatalf("got %+v", got)
	}
	if src.Line() != 5 {
		t.Fatalf("Line() = %d, want 5", src.Line())
	}
}

func TestJSONLSourceConfigValidation(t *testing.T) {
	_, err := file.NewJSONLSource[person](strings.NewReader(""), file.JSONLSourceConfig{ReadOptions: file.ReadOptions{MaxLineBytes: -1}})
	if err == nil || !strings.Contains(err.Error(), "MaxLineBytes") {
		t.Fatalf("error %v, want one naming MaxLineBytes", err)
	}
	_, err = file.NewJSONLSink[person](io.Discard, file.JSONLSinkConfig{BufferSize: -5})
	if err == nil || !strings.Contains(err.Error(), "BufferSize") {
		t.Fatalf("error %v, want one naming BufferSize", err)
	}
	if _, err := file.OpenJSONL[person](filepath.Join(t.TempDir(), "missing.jsonl"), file.JSONLSourceConfig{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenJSONL of a missing file: %v", err)
	}
}

func TestJSONLSinkEncodeError(t *testing.T) {
	sink, _ := file.NewJSONLSink[any](io.Discard, file.JSONLSinkConfig{})
	err := sink.Write(context.Background(), []any{1, math.NaN(), 3})
	var ie *weir.RecordError
	if !errors.As(err, &ie) || ie.Index != 1 {
		t.Fatalf("error %v, want a RecordError for record 1", err)
	}
}

// countSink counts records and sums their ids; Write may run concurrently.
type countSink struct {
	n, sum atomic.Int64
}

func (c *countSink) Write(_ context.Context, batch []person) error {
	c.n.Add(int64(len(batch)))
	var s int64
	for _, p := range batch {
		s += p.ID
	}
	c.sum.Add(s)
	return nil
}

func TestJSONLStreamsThroughPipeline(t *testing.T) {
	const lines = 100_000
	path := filepath.Join(t.TempDir(), "big.jsonl")
	sink, err := file.CreateJSONL[person](path, file.JSONLSinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]person, 1000)
	for k := 0; k < lines; k += len(batch) {
		for i := range batch {
			batch[i] = person{ID: int64(k + i + 1), Name: "someone", Tags: []string{"t"}}
		}
		if err := sink.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	src, err := file.OpenJSONL[person](path, file.JSONLSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	count := &countSink{}
	p, err := weir.New(src, weir.Identity[person](), weir.Sink[person](count), weir.Config{BatchSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count.n.Load(); n != lines {
		t.Fatalf("loaded %d records, want %d", n, lines)
	}
	if s, want := count.sum.Load(), int64(lines)*(lines+1)/2; s != want {
		t.Fatalf("sum of ids %d, want %d: records lost or doubled", s, want)
	}
	if src.Line() != lines {
		t.Fatalf("Line() = %d, want %d", src.Line(), lines)
	}
	// The run closed the source, and with it the file.
	if _, err := src.Read(context.Background(), batch); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("Read after the run: %v, want ErrClosed", err)
	}
}
