package file_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
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

// rowCSV returns a CSV file of n records after a header, with quoted
// line breaks, NULLs and empty strings.
func rowCSV(first, n int) string {
	var b strings.Builder
	b.WriteString("id,name,note\r\n")
	for i := first; i < first+n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "%d,\"n%d, \"\"q\"\"\",\"two\nlines\"\r\n", i, i)
		case 1:
			fmt.Fprintf(&b, "%d,,\"\"\r\n", i)
		case 2:
			fmt.Fprintf(&b, "%d,ü%d,\r\n\r\n", i, i)
		default:
			fmt.Fprintf(&b, "%d,x,y\n", i)
		}
	}
	return b.String()
}

// rowJSON returns n JSON objects, as an array or as lines.
func rowJSON(n int, array bool) string {
	var recs []string
	for i := range n {
		recs = append(recs, fmt.Sprintf(`{"id": %d, "name": "n%d", "tags": [%d, {"k": null}]%s}`, i, i, i, map[bool]string{true: `, "x": true`}[i%3 == 0]))
	}
	if array {
		return "[\n" + strings.Join(recs, ",\n") + "\n]\n"
	}
	return strings.Join(recs, "\n") + "\n"
}

func gzipped(t testing.TB, data string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(data))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeFiles(t testing.TB, files map[string]string) string {
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func equalRows(a, b connect.Row) bool {
	return a.Pos == b.Pos && slices.Equal(showRows([]connect.Row{a})[0], showRows([]connect.Row{b})[0])
}

// The RowSource against weir's source contract, for each format and way
// in, with the read-ahead holding all the records or a few.
func TestRowSourceConformance(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"p.csv":        rowCSV(0, 40),
		"p.csv.gz":     gzipped(t, rowCSV(0, 40)),
		"magic.csv":    gzipped(t, rowCSV(0, 40)), // gzip told by its magic bytes
		"p.tsv":        strings.ReplaceAll(rowCSV(0, 40), ",", "\t"),
		"p.jsonl":      rowJSON(40, false),
		"a.json":       rowJSON(40, true),
		"a.json.gz":    gzipped(t, rowJSON(40, true)),
		"g1.csv":       rowCSV(0, 15),
		"g2.csv":       rowCSV(15, 0),
		"g3.csv.gz":    gzipped(t, rowCSV(15, 15)),
		"g4.csv":       rowCSV(30, 10),
		"reader.json":  rowJSON(40, true),
		"reader.csv":   rowCSV(0, 40),
		"nolf.jsonl":   strings.TrimSuffix(rowJSON(40, false), "\n"),
		"spaced.jsonl": strings.ReplaceAll(rowJSON(40, false), "\n", "\n\n"),
	})
	cases := []struct{ name, pattern string }{
		{"CSV", "p.csv"}, {"CSV gzip", "p.csv.gz"}, {"CSV gzip by magic", "magic.csv"}, {"TSV", "p.tsv"},
		{"JSON Lines", "p.jsonl"}, {"JSON Lines without a final line break", "nolf.jsonl"}, {"JSON Lines with blank lines", "spaced.jsonl"},
		{"JSON array", "a.json"}, {"JSON array gzip", "a.json.gz"}, {"glob", "g*.csv*"},
		{"reader CSV", "reader.csv"}, {"reader JSON array", "reader.json"},
	}
	for _, tc := range cases {
		for _, sample := range []int{3, 1000} {
			t.Run(fmt.Sprintf("%s sample %d", tc.name, sample), func(t *testing.T) {
				path := filepath.Join(dir, tc.pattern)
				cfg := file.RowSourceConfig{SampleSize: sample}
				open := func(t *testing.T) *file.RowSource {
					var src *file.RowSource
					var err error
					if strings.HasPrefix(tc.pattern, "reader") {
						data, rerr := os.ReadFile(path)
						if rerr != nil {
							t.Fatal(rerr)
						}
						c := cfg
						c.Name = "in"
						src, err = file.NewRowSource(bytes.NewReader(data), c)
					} else {
						src, err = file.OpenRows(path, cfg)
					}
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { src.Close(context.Background()) })
					return src
				}
				want := mustReadAll(t, open(t), 5)
				if len(want) != 40 {
					t.Fatalf("read %d rows, want 40", len(want))
				}
				bad := [][]byte{
					[]byte(`{}`), []byte(`{"file":"elsewhere.csv","offset":0,"line":0}`),
					[]byte(fmt.Sprintf(`{"file":%q,"offset":-1,"line":0}`, want[0].Pos.Name)),
					[]byte(fmt.Sprintf(`{"file":%q,"offset":1000000,"line":3}`, want[len(want)-1].Pos.Name)),
				}
				if !strings.Contains(tc.pattern, "json") || strings.HasSuffix(tc.pattern, "jsonl") {
					// Not where a record starts: a CSV or JSON Lines position must follow a line break.
					bad = append(bad, []byte(fmt.Sprintf(`{"file":%q,"offset":17,"line":1}`, want[0].Pos.Name)))
					// Past the read-ahead too: one byte before where record 31 starts.
					src := open(t)
					if n, err := src.Read(context.Background(), make([]connect.Row, 30)); n != 30 {
						t.Fatalf("Read = %d, %v", n, err)
					}
					var p struct {
						File   string `json:"file"`
						Offset int64  `json:"offset"`
						Line   int    `json:"line"`
					}
					pos, _ := src.Position()
					if err := json.Unmarshal(pos, &p); err != nil {
						t.Fatal(err)
					}
					p.Offset--
					pos, _ = json.Marshal(p)
					bad = append(bad, pos)
				}
				conntest.Source(t, conntest.SourceCase[connect.Row]{
					Open:         func(t *testing.T) weir.Source[connect.Row] { return open(t) },
					Want:         want,
					Equal:        equalRows,
					BadPositions: bad,
				})
			})
		}
	}
}

// A malformed record Read returned is accounted for by the next Read: a
// position taken between the two resumes at it, one taken after resumes
// after it.
func TestRowSourceBadRecordPositions(t *testing.T) {
	for name, data := range map[string]string{
		"CSV":   "a,b\n1,x\n2\n3,y\n4,z\n",
		"JSON":  "[{\"a\":1},\n\n{\"a\":2,\"a\":2},\n{\"a\":3},{\"a\":4}]",
		"JSONL": "{\"a\":1}\n\n{\"a\":}\n{\"a\":3}\n{\"a\":4}\n",
	} {
		for _, sample := range []int{1, 1000} {
			t.Run(fmt.Sprintf("%s sample %d", name, sample), func(t *testing.T) {
				cfg := file.RowSourceConfig{SampleSize: sample, ReadOptions: file.ReadOptions{Name: "in." + strings.ToLower(name)}}
				src := newRows(t, data, cfg)
				buf := make([]connect.Row, 10)
				n, err := src.Read(context.Background(), buf)
				var le *file.LineError
				if n != 1 || !errors.As(err, &le) || le.Line != 3 {
					t.Fatalf("first Read = %d, %v; want 1 row and the bad record on line 3", n, err)
				}
				atBad, _ := src.Position()
				n, err = src.Read(context.Background(), buf)
				if n != 2 || err != nil && err.Error() != "EOF" {
					t.Fatalf("second Read = %d, %v; want the 2 rows after the bad record", n, err)
				}
				pastBad, _ := src.Position()

				again := newRows(t, data, cfg)
				if err := again.Seek(atBad); err != nil {
					t.Fatal(err)
				}
				if n, err := again.Read(context.Background(), buf); n != 0 || !errors.As(err, &le) || le.Line != 3 {
					t.Errorf("after Seek(%s): Read = %d, %v; want the bad record on line 3 again", atBad, n, err)
				}
				after := newRows(t, data, cfg)
				if err := after.Seek(pastBad); err != nil {
					t.Fatal(err)
				}
				if n, err := after.Read(context.Background(), buf); n != 0 || err == nil || err.Error() != "EOF" {
					t.Errorf("after Seek(%s): Read = %d, %v; want 0, io.EOF", pastBad, n, err)
				}
			})
		}
	}
}
