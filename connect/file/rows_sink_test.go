package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/file"
)

var sinkColumns = []connect.Column{{Name: "id"}, {Name: "text, \"quoted\""}, {Name: "note"}}

// sinkRows are rows whose text needs quoting, or looks like NULL.
func sinkRows(n int) []connect.Row {
	texts := []connect.Value{connect.Text(""), connect.Null(), connect.Text(" lead"), connect.Text("a,b"),
		connect.Text("say \"hi\""), connect.Text("two\r\nlines"), connect.Text("日本 ✓"), connect.Text("NA"), connect.Text("\t")}
	rows := make([]connect.Row, n)
	for i := range rows {
		rows[i].Values = []connect.Value{connect.Text(fmt.Sprint(i)), texts[i%len(texts)], texts[(i+3)%len(texts)]}
	}
	return rows
}

func equalValues(a, b connect.Row) bool {
	return slices.Equal(showRows([]connect.Row{a})[0], showRows([]connect.Row{b})[0])
}

func TestRowSinkConformance(t *testing.T) {
	for _, name := range []string{"out.csv", "out.tsv", "out.jsonl", "out.csv.gz", "out.ndjson.gz"} {
		for _, null := range []string{"", "NA"} {
			if null != "" && strings.Contains(name, "json") {
				continue
			}
			t.Run(name+" null "+null, func(t *testing.T) {
				failing := sinkRows(3)
				failing[1].Values = failing[1].Values[:2]
				conntest.Sink(t, conntest.SinkCase[connect.Row]{
					Open: func(t *testing.T) (weir.Sink[connect.Row], func() []connect.Row) {
						path := filepath.Join(t.TempDir(), name)
						sink, err := file.CreateRows(path, file.RowSinkConfig{Columns: sinkColumns, Null: null, BufferSize: 64})
						if err != nil {
							t.Fatal(err)
						}
						return sink, func() []connect.Row {
							src, err := file.OpenRows(path, file.RowSourceConfig{Null: null})
							if err != nil {
								t.Fatal(err)
							}
							defer src.Close(context.Background())
							if got := src.Columns(); len(got) > 0 && got[1] != sinkColumns[1].Name {
								t.Errorf("columns read back = %q", got)
							}
							return mustReadAll(t, src, 7)
						}
					},
					Records:    sinkRows(40),
					Equal:      equalValues,
					Ordered:    true,
					Failing:    failing,
					Concurrent: true,
				})
			})
		}
	}
}

// A messy CSV file read, written and read again gives the same rows.
func TestRowSinkCSVRoundTrip(t *testing.T) {
	data := "\uFEFFid,name,note\r\n" +
		"1,\"Smith, Jo\",\"two\r\nlines\"\r\n" +
		"2,,\"\"\r\n" +
		"3,\" x \",\"\"\"\"\r\n" +
		"4,日本語,\r\n"
	first := mustReadAll(t, newRows(t, data, file.RowSourceConfig{Format: file.FormatCSV}), 10)
	var out bytes.Buffer
	sink, err := file.NewRowSink(&out, file.RowSinkConfig{Format: file.FormatCSV, Columns: []connect.Column{{Name: "id"}, {Name: "name"}, {Name: "note"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := mustReadAll(t, newRows(t, out.String(), file.RowSourceConfig{Format: file.FormatCSV}), 10)
	if a, b := showRows(first), showRows(second); !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("read back\n%q\nwant\n%q\nfrom the file\n%s", b, a, out.String())
	}
	if want := "2,,\"\"\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output %q lacks %q: NULL unquoted, the empty string quoted", out.String(), want)
	}
}

func TestRowSinkTypedValues(t *testing.T) {
	row := connect.Row{Values: []connect.Value{connect.Int64(7), connect.Float64(0.5), connect.Bool(true),
		connect.JSON(`{"a":[1]}`), connect.Numeric("12.50"), connect.Null()}}
	cols := []connect.Column{{Name: "i"}, {Name: "f"}, {Name: "b"}, {Name: "j"}, {Name: "n"}, {Name: "z"}}
	for _, tc := range []struct {
		format file.Format
		want   string
	}{
		{file.FormatJSONL, `{"i":7,"f":0.5,"b":true,"j":{"a":[1]},"n":12.50,"z":null}` + "\n"},
		{file.FormatCSV, "i,f,b,j,n,z\n7,0.5,true,\"{\"\"a\"\":[1]}\",12.50,\n"},
	} {
		var out bytes.Buffer
		sink, err := file.NewRowSink(&out, file.RowSinkConfig{Format: tc.format, Columns: cols})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(context.Background(), []connect.Row{row}); err != nil {
			t.Fatal(err)
		}
		sink.Close(context.Background())
		if out.String() != tc.want {
			t.Errorf("%v: wrote %q, want %q", tc.format, out.String(), tc.want)
		}
	}
}

func TestRowSinkConfigValidate(t *testing.T) {
	cols := []connect.Column{{Name: "a"}}
	for _, tc := range []struct {
		cfg  file.RowSinkConfig
		want string
	}{
		{file.RowSinkConfig{Format: file.FormatCSV}, "Columns is required"},
		{file.RowSinkConfig{Format: file.FormatCSV, Columns: []connect.Column{{Name: "a"}, {Name: "a"}}}, "Columns[1]"},
		{file.RowSinkConfig{Format: file.FormatJSON, Columns: cols}, "Format json"},
		{file.RowSinkConfig{Format: file.FormatCSV, Columns: cols, Null: "a,b"}, "Null"},
		{file.RowSinkConfig{Format: file.FormatJSONL, Columns: cols, Null: "NA"}, "Null"},
		{file.RowSinkConfig{Format: file.FormatCSV, Columns: cols, BufferSize: -1}, "BufferSize"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "file: RowSinkConfig") {
			t.Errorf("Validate(%+v) = %v; want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := file.NewRowSink(&bytes.Buffer{}, file.RowSinkConfig{Columns: cols}); err == nil {
		t.Error("NewRowSink without a Format: nil error")
	}
	path := filepath.Join(t.TempDir(), "x.json")
	if _, err := file.CreateRows(path, file.RowSinkConfig{Columns: cols}); err == nil {
		t.Error("CreateRows x.json: nil error; want one, as no JSON array is written")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CreateRows made a file for a config it refused")
	}
}
