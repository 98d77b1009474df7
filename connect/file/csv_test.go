package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

type contact struct {
	ID    int
	Name  string
	Email string
	Note  string
}

var contactHeader = []string{"id", "name", "email", "note"}

func encodeContact(c contact, row []string) []string {
	return append(row, strconv.Itoa(c.ID), c.Name, c.Email, c.Note)
}

func decodeContact(r file.Record) (contact, error) {
	id, err := strconv.Atoi(r.Get("id"))
	if err != nil {
		return contact{}, fmt.Errorf("id: %w", err)
	}
	return contact{ID: id, Name: r.Get("name"), Email: r.Get("email"), Note: r.Get("note")}, nil
}

func contactConfig(opts file.ReadOptions) file.CSVSourceConfig[contact] {
	return file.CSVSourceConfig[contact]{ReadOptions: opts, Decode: decodeContact, Columns: contactHeader}
}

var contacts = []contact{
	{1, "Ada Lovelace", "ada@example.com", ""},
	{2, "Zoë Ünïcødé ✓ 日本語", "", `she said "hello", twice`},
	{3, "", "", ""},
	{4, "comma, inside", "semi;colon", "line one\nline two\n\nline four"},
	{5, " leading space", "quote\"mid", `""`},
	{6, "tab\there", "#not a comment", "trailing newline\n"},
	{7, "\\.", "🎉", "ends with quote\""},
}

// TestCSVHeaderLinesAndClose checks Header, Line, and what Close ends;
// conntest_test.go checks that records read back.
func TestCSVHeaderLinesAndClose(t *testing.T) {
	for _, crlf := range []bool{false, true} {
		t.Run(fmt.Sprintf("crlf=%v", crlf), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "contacts.csv")
			sink, err := file.CreateCSV(path, file.CSVSinkConfig[contact]{
				Header: contactHeader, Encode: encodeContact, UseCRLF: crlf,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := sink.Write(ctx, contacts); err != nil {
				t.Fatal(err)
			}
			if err := sink.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sink.Write(ctx, contacts); !errors.Is(err, file.ErrClosed) {
				t.Fatalf("Write after Close: %v", err)
			}

			src, err := file.OpenCSV(path, contactConfig(file.ReadOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			hdr, err := src.Header()
			if err != nil || !reflect.DeepEqual(hdr, contactHeader) {
				t.Fatalf("Header() = %q, %v", hdr, err)
			}
			if _, err := readAll(t, src); err != nil {
				t.Fatal(err)
			}
			// Physical lines: header, 7 records, plus the embedded line
			// breaks (3 in record 4, 1 in record 6).
			if src.Line() != 1+len(contacts)+4 {
				t.Fatalf("Line() = %d, want %d", src.Line(), 1+len(contacts)+4)
			}
			if err := src.Close(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCSVSingleEmptyColumn(t *testing.T) {
	// encoding/csv writes a lone empty field as an empty line, which readers
	// skip; the sink must keep the row.
	var out bytes.Buffer
	sink, _ := file.NewCSVSink(&out, file.CSVSinkConfig[string]{
		Header: []string{"v"}, Encode: func(s string, row []string) []string { return append(row, s) },
	})
	vals := []string{"a", "", "b", ""}
	if err := sink.Write(context.Background(), vals); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	src, _ := file.NewCSVSource(&out, file.CSVSourceConfig[string]{Decode: func(r file.Record) (string, error) { return r.Get("v"), nil }})
	got, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, vals) {
		t.Fatalf("got %q, want %q", got, vals)
	}
}

// malformedCSV: a record spanning lines 3-4, wrong field count at 5, bare
// quote at 7 (after a blank line at 6), decode error at 8, a comment at 9,
// and an unterminated quote from 11 to the end.
const malformedCSV = `id,name,email,note
1,a,a@x,
2,"multi
line",b@x,n
3,too,few
` + "\n" + `4,bad"quote,c@x,n
x5,d,d@x,n
#comment
6,e,e@x,n
7,"never closed,f@x,n
8,g,g@x,n
`

func TestCSVMalformedFailMode(t *testing.T) {
	src, _ := file.NewCSVSource(strings.NewReader(malformedCSV), contactConfig(file.ReadOptions{Name: "c.csv"}))
	_, err := readAll(t, src)
	var le *file.LineError
	if !errors.As(err, &le) || le.Line != 5 || le.Name != "c.csv" {
		t.Fatalf("error %v, want a LineError at c.csv:5", err)
	}
}

func TestCSVMalformedSkipMode(t *testing.T) {
	var seen []lineSeen
	cfg := contactConfig(file.ReadOptions{OnBadLine: func(line int, text []byte, err error) error {
		seen = append(seen, lineSeen{line, string(text), err})
		return nil
	}})
	cfg.Comment = '#'
	src, _ := file.NewCSVSource(strings.NewReader(malformedCSV), cfg)
	got, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if want := []int{1, 2, 6}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	want := []struct {
		line  int
		text  string
		cause error
	}{
		{5, "3,too,few", nil},
		{7, `4,bad"quote,c@x,n`, nil},
		{8, "x5,d,d@x,n", strconv.ErrSyntax},
		{11, "7,\"never closed,f@x,n\n8,g,g@x,n", nil},
	}
	if len(seen) != len(want) {
		t.Fatalf("OnBadLine saw %+v", seen)
	}
	for i, w := range want {
		s := seen[i]
		if s.line != w.line || s.text != w.text || s.err == nil || (w.cause != nil && !errors.Is(s.err, w.cause)) {
			t.Errorf("bad record %d: got (%d, %q, %v), want (%d, %q)", i, s.line, s.text, s.err, w.line, w.text)
		}
	}
	if src.Skipped() != 4 || src.Line() != 12 {
		t.Fatalf("Skipped() = %d, Line() = %d; want 4, 12", src.Skipped(), src.Line())
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	cases := []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty input", "", 1, "no header"},
		{"only blank lines", "\n\n", 1, "no header"},
		{"missing columns", "id,name\n1,a\n", 1, `lacks column "email", "note"`},
		{"duplicate column", "id,name,email,note,id\n", 1, `"id" appears twice`},
		{"bad quote in header", "id,na\"me,email,note\n", 1, "bare"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Skip mode does not skip a bad header.
			cfg := contactConfig(file.ReadOptions{OnBadLine: func(int, []byte, error) error { return nil }})
			src, _ := file.NewCSVSource(strings.NewReader(c.in), cfg)
			_, err := readAll(t, src)
			var le *file.LineError
			if !errors.As(err, &le) || le.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a LineError at line %d mentioning %q", err, c.line, c.want)
			}
		})
	}
}

func TestCSVUnknownColumnIsFatal(t *testing.T) {
	src, _ := file.NewCSVSource(strings.NewReader("id,name\n1,a\n2,b\n"), file.CSVSourceConfig[string]{
		ReadOptions: file.ReadOptions{OnBadLine: func(int, []byte, error) error { return nil }},
		Decode:      func(r file.Record) (string, error) { return r.Get("email"), nil },
	})
	got, err := readAll(t, src)
	var le *file.LineError
	if !errors.Is(err, file.ErrUnknownColumn) || !errors.As(err, &le) || le.Line != 2 || len(got) != 0 {
		t.Fatalf("records %q, error %v; want none and ErrUnknownColumn at line 2", got, err)
	}
}

func TestCSVRecordAccessors(t *testing.T) {
	src, _ := file.NewCSVSource(strings.NewReader("\xEF\xBB\xBF\"a\";b\n\n1;2\n"), file.CSVSourceConfig[string]{
		Comma: ';',
		Decode: func(r file.Record) (string, error) {
			v, ok := r.Lookup("zzz")
			return fmt.Sprintf("%s|%s|%d|%s|%q|%v|line %d", r.Get("a"), r.Get("b"), r.Len(), r.Field(1), v, ok, r.Line()), nil
		},
	})
	got, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`1|2|2|2|""|false|line 3`}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestCSVRecordTooLong(t *testing.T) {
	in := "id,name,email,note\n1,a,b,c\n2,\"" + strings.Repeat("x", 100<<10) + "\n"
	src, _ := file.NewCSVSource(strings.NewReader(in), contactConfig(file.ReadOptions{
		MaxLineBytes: 1000,
		OnBadLine:    func(int, []byte, error) error { return nil },
	}))
	got, err := readAll(t, src)
	var le *file.LineError
	if !errors.Is(err, file.ErrLineTooLong) || !errors.As(err, &le) || le.Line != 3 || len(got) != 1 {
		t.Fatalf("records %d, error %v; want 1 record and ErrLineTooLong at line 3", len(got), err)
	}
}

func TestCSVSourceConfigValidation(t *testing.T) {
	cases := []struct {
		name  string
		build func() error
		want  []string
	}{
		{"source", func() error {
			_, err := file.NewCSVSource(strings.NewReader(""), file.CSVSourceConfig[int]{
				ReadOptions: file.ReadOptions{MaxLineBytes: -1}, Comma: '"', Columns: []string{"a", "a"},
			})
			return err
		}, []string{"CSVSourceConfig.MaxLineBytes", "CSVSourceConfig.Decode", "CSVSourceConfig.Comma", `Columns lists "a" twice`}},
		{"sink", func() error {
			_, err := file.NewCSVSink(&bytes.Buffer{}, file.CSVSinkConfig[int]{Comma: '\n', BufferSize: -1})
			return err
		}, []string{"CSVSinkConfig.Header", "CSVSinkConfig.Encode", "CSVSinkConfig.Comma", "CSVSinkConfig.BufferSize"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.build()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCSVSinkEncodeWrongFieldCount(t *testing.T) {
	sink, _ := file.NewCSVSink(io.Discard, file.CSVSinkConfig[contact]{
		Header: contactHeader,
		Encode: func(c contact, row []string) []string {
			if c.ID == 2 {
				return append(row, "only one")
			}
			return encodeContact(c, row)
		},
	})
	err := sink.Write(context.Background(), contacts[:3])
	var ie *weir.RecordError
	if !errors.As(err, &ie) || ie.Index != 1 {
		t.Fatalf("error %v, want a RecordError for record 1", err)
	}
}

type contactCount struct {
	mu  sync.Mutex
	n   int
	sum int
}

func (c *contactCount) Write(_ context.Context, batch []contact) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range batch {
		c.n++
		c.sum += r.ID
	}
	return nil
}

func TestCSVStreamsThroughPipeline(t *testing.T) {
	const lines = 100_000
	path := filepath.Join(t.TempDir(), "big.csv")
	sink, err := file.CreateCSV(path, file.CSVSinkConfig[contact]{Header: contactHeader, Encode: encodeContact})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]contact, 1000)
	for k := 0; k < lines; k += len(batch) {
		for i := range batch {
			batch[i] = contact{ID: k + i + 1, Name: "n", Email: "e@x", Note: "a, \"b\""}
		}
		if err := sink.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	src, err := file.OpenCSV(path, contactConfig(file.ReadOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	count := &contactCount{}
	p, err := weir.New(src, weir.Identity[contact](), weir.Sink[contact](count), weir.Config{BatchSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if count.n != lines || count.sum != lines*(lines+1)/2 {
		t.Fatalf("loaded %d records (id sum %d), want %d (%d)", count.n, count.sum, lines, lines*(lines+1)/2)
	}
	if src.Line() != lines+1 {
		t.Fatalf("Line() = %d, want %d", src.Line(), lines+1)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
