package file_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
)

// show writes a raw value so that NULL, text, numbers and JSON differ.
func show(v connect.Value) string {
	switch {
	case v.IsNull():
		return "NULL"
	case v.Type() == connect.TypeText:
		return fmt.Sprintf("%q", v.Str())
	}
	return v.Type().String() + ":" + v.String()
}

func showRows(rows []connect.Row) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, v := range r.Values {
			out[i] = append(out[i], show(v))
		}
	}
	return out
}

func lines(rows []connect.Row) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, r.Pos.Line)
	}
	return out
}

// newRows returns a source over data, named name.
func newRows(t *testing.T, data string, cfg file.RowSourceConfig) *file.RowSource {
	t.Helper()
	src, err := file.NewRowSource(strings.NewReader(data), cfg)
	if err != nil {
		t.Fatalf("NewRowSource: %v", err)
	}
	return src
}

// readRows reads src to io.EOF, batch rows at a time, and returns the
// rows and the errors Read returned on the way, the last of them one that
// ended the read if it did not reach io.EOF.
func readRows(t *testing.T, src *file.RowSource, batch int) ([]connect.Row, []error) {
	t.Helper()
	var rows []connect.Row
	var errs []error
	buf := make([]connect.Row, batch)
	for range 1_000_000 {
		n, err := src.Read(context.Background(), buf)
		rows = append(rows, buf[:n]...)
		if err == io.EOF {
			return rows, errs
		}
		if err != nil {
			var le *file.LineError
			if !errors.As(err, &le) || len(errs) > 0 && err == errs[len(errs)-1] {
				return rows, append(errs, err) // an error that ends the read: Read returns it again
			}
			errs = append(errs, err)
		}
	}
	t.Fatal("the source never reached io.EOF")
	return nil, nil
}

func mustReadAll(t *testing.T, src *file.RowSource, batch int) []connect.Row {
	t.Helper()
	rows, errs := readRows(t, src, batch)
	if len(errs) > 0 {
		t.Fatalf("Read: %v", errs)
	}
	return rows
}

func TestRowSourceCSVReadsMessyInput(t *testing.T) {
	long := strings.Repeat("ü", 1<<19) // 1 MiB
	data := "\uFEFFid,name,note,zip\r\n" +
		"1,\"Smith, Jo\",\"two\r\nlines\",007\r\n" +
		"2,,\"\",\r\n" +
		"\r\n" +
		"3,\"say \"\"hi\"\"\",日本語 ✓,\"" + long + "\"\r\n" +
		"4, spaced ,\"a\nb\nc\",x\r" // no final line break; "\r" before the end is dropped
	for _, batch := range []int{1, 3, 100} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			src := newRows(t, data, file.RowSourceConfig{Format: file.FormatCSV, ReadOptions: file.ReadOptions{Name: "messy.csv"}})
			if got, want := src.Columns(), []string{"id", "name", "note", "zip"}; !slices.Equal(got, want) {
				t.Errorf("Columns = %q, want %q (the byte order mark stripped)", got, want)
			}
			rows := mustReadAll(t, src, batch)
			want := [][]string{
				{`"1"`, `"Smith, Jo"`, `"two\r\nlines"`, `"007"`},
				{`"2"`, `NULL`, `""`, `NULL`},
				{`"3"`, `"say \"hi\""`, `"日本語 ✓"`, fmt.Sprintf("%q", long)},
				{`"4"`, `" spaced "`, `"a\nb\nc"`, `"x"`},
			}
			if got := showRows(rows); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("rows:\n got %.300q\nwant %.300q", got, want)
			}
			if got, want := lines(rows), []int64{2, 4, 6, 7}; !slices.Equal(got, want) {
				t.Errorf("lines = %v, want %v (the line each record starts on)", got, want)
			}
			for _, r := range rows {
				if r.Pos.Name != "messy.csv" {
					t.Errorf("Pos.Name = %q, want messy.csv", r.Pos.Name)
				}
			}
		})
	}
}

func TestRowSourceCSVNullString(t *testing.T) {
	data := "a,b,c\nNA,\"NA\",\n"
	src := newRows(t, data, file.RowSourceConfig{Format: file.FormatCSV, Null: "NA"})
	got := showRows(mustReadAll(t, src, 10))
	want := [][]string{{"NULL", `"NA"`, `""`}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("with Null NA: %q, want %q (an unquoted NA is NULL, a quoted one and an empty field are text)", got, want)
	}
}

func TestRowSourceTSVAndNoHeader(t *testing.T) {
	src := newRows(t, "1\t\"a\tb\"\t\n2\tc\td\n", file.RowSourceConfig{Format: file.FormatTSV, NoHeader: true})
	if got, want := src.Columns(), []string{"column1", "column2", "column3"}; !slices.Equal(got, want) {
		t.Errorf("Columns = %q, want %q", got, want)
	}
	got := showRows(mustReadAll(t, src, 10))
	want := [][]string{{`"1"`, `"a\tb"`, "NULL"}, {`"2"`, `"c"`, `"d"`}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

func TestRowSourceCSVOneColumnBlankLineIsNull(t *testing.T) {
	src := newRows(t, "v\na\n\n\"\"\n", file.RowSourceConfig{Format: file.FormatCSV})
	got := showRows(mustReadAll(t, src, 10))
	want := [][]string{{`"a"`}, {"NULL"}, {`""`}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows = %q, want %q: in a one-column file a blank line is a NULL", got, want)
	}
}

func TestRowSourceCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"repeated name", "a,b,a\n1,2,3\n", "column 3 is named \"a\", as column 1 is"},
		{"empty name", "a,,c\n", "column 2 has no name"},
		{"empty quoted name", "a,\"\"\n", "column 2 has no name"},
		{"no header", "", "no header row"},
		{"bad quoting", "a,\"b\n", "header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := file.NewRowSource(strings.NewReader(tc.data), file.RowSourceConfig{Format: file.FormatCSV, ReadOptions: file.ReadOptions{Name: "h.csv"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "h.csv:1") {
				t.Errorf("NewRowSource = %v; want an error at h.csv:1 containing %q", err, tc.want)
			}
		})
	}
}

func TestRowSourceCSVBadRecords(t *testing.T) {
	data := "a,b\n" +
		"1,x\n" +
		"2\n" + // line 3: one field
		"3,\"multi\nline\",extra\n" + // line 4: three fields
		"4,\xff\n" + // line 6: invalid UTF-8
		"5,ab\"c\n" + // line 7: bare quote
		"6,\"ab\"c\n" + // line 8: text after the closing quote
		"7,y\n"
	wantBad := []int{3, 4, 6, 7, 8}
	wantGood := [][]string{{`"1"`, `"x"`}, {`"7"`, `"y"`}}
	t.Run("each bad record is returned with its line, and the read goes on", func(t *testing.T) {
		for _, sample := range []int{1, 100} { // bad records in the read-ahead, and after it
			src := newRows(t, data, file.RowSourceConfig{Format: file.FormatCSV, SampleSize: sample, ReadOptions: file.ReadOptions{Name: "bad.csv"}})
			rows, errs := readRows(t, src, 10)
			if got := showRows(rows); !slices.EqualFunc(got, wantGood, slices.Equal) {
				t.Errorf("SampleSize %d: rows = %q, want %q", sample, got, wantGood)
			}
			var got []int
			for _, err := range errs {
				var le *file.LineError
				if !errors.As(err, &le) || le.Name != "bad.csv" {
					t.Fatalf("error %v is not a *LineError naming bad.csv", err)
				}
				got = append(got, le.Line)
			}
			if !slices.Equal(got, wantBad) {
				t.Errorf("SampleSize %d: bad lines = %v, want %v (errors %v)", sample, got, wantBad, errs)
			}
		}
	})
	t.Run("OnBadLine skips them", func(t *testing.T) {
		var got []int
		var texts []string
		cfg := file.RowSourceConfig{Format: file.FormatCSV, ReadOptions: file.ReadOptions{OnBadLine: func(line int, text []byte, err error) error {
			got = append(got, line)
			texts = append(texts, string(text))
			return nil
		}}}
		rows := mustReadAll(t, newRows(t, data, cfg), 10)
		if !slices.Equal(got, wantBad) || len(rows) != 2 {
			t.Errorf("skipped lines %v and read %d rows; want %v and 2", got, len(rows), wantBad)
		}
		if len(texts) > 1 && texts[1] != "3,\"multi\nline\",extra" {
			t.Errorf("text of the record on line 4 = %q; want the record's whole text", texts[1])
		}
	})
}

func TestRowSourceCSVMaxLineBytes(t *testing.T) {
	field := strings.Repeat("x", 1<<20)
	data := "a,b\n1," + field + "\n2,\"" + field + "\"\n"
	rows := mustReadAll(t, newRows(t, data, file.RowSourceConfig{Format: file.FormatCSV}), 10)
	if len(rows) != 2 || rows[0].Values[1].Str() != field || rows[1].Values[1].Str() != field {
		t.Fatalf("a 1 MiB field did not read back whole")
	}
	src := newRows(t, data, file.RowSourceConfig{Format: file.FormatCSV, ReadOptions: file.ReadOptions{MaxLineBytes: 1 << 19}})
	_, errs := readRows(t, src, 10)
	if len(errs) == 0 || !errors.Is(errs[len(errs)-1], file.ErrLineTooLong) || !strings.Contains(errs[len(errs)-1].Error(), "line 2") {
		t.Errorf("with MaxLineBytes 512 KiB: errors %v; want ErrLineTooLong at line 2", errs)
	}
}

func TestRowSourceCSVGlob(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("b.csv", "id,v\n3,c\n")
	write("a.csv", "id,v\n1,a\n2,b\n")
	write("c.txt", "not read")
	src, err := file.OpenRows(filepath.Join(dir, "*.csv"), file.RowSourceConfig{SampleSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	rows := mustReadAll(t, src, 2)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s:%d %s", filepath.Base(r.Pos.Name), r.Pos.Line, r.Values[1].Str()))
	}
	if want := []string{"a.csv:2 a", "a.csv:3 b", "b.csv:2 c"}; !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q: files in sorted order, each row naming its file", got, want)
	}

	t.Run("no match names the pattern", func(t *testing.T) {
		_, err := file.OpenRows(filepath.Join(dir, "*.jsonl"), file.RowSourceConfig{})
		if err == nil || !strings.Contains(err.Error(), "*.jsonl") {
			t.Errorf("OpenRows = %v; want an error naming the pattern", err)
		}
	})
	t.Run("different headers name both files", func(t *testing.T) {
		write("d.csv", "id,w\n4,d\n")
		defer os.Remove(filepath.Join(dir, "d.csv"))
		_, err := file.OpenRows(filepath.Join(dir, "*.csv"), file.RowSourceConfig{})
		if err == nil || !strings.Contains(err.Error(), "a.csv") || !strings.Contains(err.Error(), "d.csv") {
			t.Errorf("OpenRows = %v; want an error naming a.csv and d.csv", err)
		}
	})
	t.Run("different formats name both files", func(t *testing.T) {
		_, err := file.OpenRows(filepath.Join(dir, "[ac].*"), file.RowSourceConfig{})
		if err == nil || !strings.Contains(err.Error(), "c.txt") {
			t.Errorf("OpenRows = %v; want an error naming c.txt", err)
		}
	})
}

func TestRowSourceConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  file.RowSourceConfig
		want string
	}{
		{file.RowSourceConfig{Format: 9}, "RowSourceConfig.Format"},
		{file.RowSourceConfig{Comma: '"'}, "RowSourceConfig.Comma"},
		{file.RowSourceConfig{Comma: 'é'}, "RowSourceConfig.Comma"},
		{file.RowSourceConfig{Null: "a\nb"}, "RowSourceConfig.Null"},
		{file.RowSourceConfig{Comma: ';', Null: ";"}, "RowSourceConfig.Null"},
		{file.RowSourceConfig{Format: file.FormatJSON, NoHeader: true}, "NoHeader"},
		{file.RowSourceConfig{SampleSize: -1}, "RowSourceConfig.SampleSize"},
		{file.RowSourceConfig{ReadOptions: file.ReadOptions{MaxLineBytes: -1}}, "RowSourceConfig.MaxLineBytes"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "file: ") {
			t.Errorf("Validate(%+v) = %v; want an error naming %s", tc.cfg, err, tc.want)
		}
		if _, err := file.NewRowSource(strings.NewReader("a\n1\n"), tc.cfg); err == nil {
			t.Errorf("NewRowSource(%+v) = nil error; want Validate's", tc.cfg)
		}
	}
	if err := (file.RowSourceConfig{}).Validate(); err != nil {
		t.Errorf("the zero config: %v", err)
	}
}

func TestRowSourceCSVByteOrderMarkBeforeAQuotedHeader(t *testing.T) {
	src := newRows(t, "\uFEFF\"id\",\"v\"\n1,2\n", file.RowSourceConfig{Format: file.FormatCSV})
	if got := src.Columns(); !slices.Equal(got, []string{"id", "v"}) {
		t.Errorf("Columns = %q, want [id v]", got)
	}
}
