package file_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/file"
)

// The connectors against weir's contracts, checked by the conformance kit:
// one call per interface and per variant of the connector.

// morePeople returns people and n more.
func morePeople(n int) []person {
	out := slices.Clone(people)
	for i := range n {
		id := int64(len(out) + 1)
		p := person{ID: id, Name: fmt.Sprintf("person %d, «%d»", id, i), Score: float64(id) / 8, OK: id%2 == 0}
		if i%3 == 0 {
			p.Tags = []string{"t", strconv.Itoa(i)}
			p.Note = "a \"note\"\nover lines"
		}
		out = append(out, p)
	}
	return out
}

// writeFile writes the lines, joined by line breaks, to a new file named
// name, and returns its path.
func writeFile(t *testing.T, name string, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sparse returns r with its zero fields left out, as a map to encode: a
// source that decodes into a used record keeps its old values there.
func sparse(r person) map[string]any {
	m := map[string]any{"id": r.ID}
	for k, v := range map[string]any{"name": r.Name, "note": r.Note, "score": r.Score, "ok": r.OK} {
		if !reflect.ValueOf(v).IsZero() {
			m[k] = v
		}
	}
	if r.Tags != nil {
		m["tags"] = r.Tags
	}
	return m
}

// jsonlLines encodes recs as the lines of a JSON Lines file with what a
// reader must pass over: a byte order mark, blank lines, CRLF line ends,
// Extended JSON numbers, fields left out. It returns the lines, without
// line breaks, and the index of the line after each record's.
func jsonlLines(t *testing.T, recs []person) (lines []string, after []int) {
	for i, r := range recs {
		var v any = r
		if i%2 == 1 {
			v = sparse(r)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		line := string(b)
		switch i % 5 {
		case 1:
			lines = append(lines, "", " \t")
		case 2:
			line += "\r"
		case 3:
			line = strings.Replace(line, fmt.Sprintf(`"id":%d`, r.ID), fmt.Sprintf(`"id":{"$numberLong":"%d"}`, r.ID), 1)
		}
		lines = append(lines, line)
		after = append(after, len(lines))
	}
	lines[0] = "\xEF\xBB\xBF" + lines[0]
	return lines, after // the last line has no line break
}

func TestJSONLSourceConformance(t *testing.T) {
	want := morePeople(25)
	lines, after := jsonlLines(t, want)
	path := writeFile(t, "people.jsonl", lines)
	// A line cut short after the 7th record.
	bad := slices.Insert(slices.Clone(lines), after[6], `{"id":8,"name":`)
	badPath := writeFile(t, "bad.jsonl", bad)
	open := func(path string) func(t *testing.T) weir.Source[person] {
		return func(t *testing.T) weir.Source[person] {
			src, err := file.OpenJSONL[person](path, file.JSONLSourceConfig{})
			if err != nil {
				t.Fatal(err)
			}
			return src
		}
	}
	conntest.Source(t, conntest.SourceCase[person]{
		Open:      open(path),
		Want:      want,
		Malformed: &conntest.MalformedCase[person]{Open: open(badPath), Before: want[:7], After: want[7:], ErrContains: fmt.Sprintf("%s:%d: ", badPath, after[6]+1)},
		BadPositions: [][]byte{[]byte(``), []byte(`x`), []byte(`{}`), []byte(`{"line":-1}`), []byte(`{"line":1.5}`), []byte(`{"line":"3"}`),
			[]byte(`{"line":1,"col":2}`), []byte(`{"line":1}{}`), []byte(`[1]`), []byte(`{"_id":3}`), fmt.Appendf(nil, `{"line":%d}`, len(lines)+1)},
	})
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestJSONLSinkConformance(t *testing.T) {
	recs := morePeople(100)
	// The middle record has a NaN, which JSON cannot hold.
	failing := []person{{ID: 9001}, {ID: 9002, Score: math.NaN()}, {ID: 9003}}
	readBack := func(t *testing.T, src *file.JSONLSource[person]) []person {
		got, err := readAll(t, weir.Source[person](src))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (weir.Sink[person], func() []person)
	}{
		// A buffer smaller than a batch: batches are flushed in parts.
		{"file with a buffer of 64 bytes", func(t *testing.T) (weir.Sink[person], func() []person) {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			sink, err := file.CreateJSONL[person](path, file.JSONLSinkConfig{BufferSize: 64})
			if err != nil {
				t.Fatal(err)
			}
			return sink, func() []person {
				src, err := file.OpenJSONL[person](path, file.JSONLSourceConfig{})
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close(t.Context())
				return readBack(t, src)
			}
		}},
		{"writer flushed on every Write", func(t *testing.T) (weir.Sink[person], func() []person) {
			var out lockedBuffer
			sink, err := file.NewJSONLSink[person](&out, file.JSONLSinkConfig{FlushEveryWrite: true})
			if err != nil {
				t.Fatal(err)
			}
			return sink, func() []person {
				src, err := file.NewJSONLSource[person](&out.buf, file.JSONLSourceConfig{})
				if err != nil {
					t.Fatal(err)
				}
				return readBack(t, src)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conntest.Sink(t, conntest.SinkCase[person]{
				Open:       tc.open,
				Records:    recs,
				Ordered:    true,
				Failing:    failing,
				Concurrent: true,
			})
		})
	}
}

// moreContacts returns contacts and n more.
func moreContacts(n int) []contact {
	out := slices.Clone(contacts)
	for i := range n {
		id := len(out) + 1
		c := contact{ID: id, Name: fmt.Sprintf("contact %d", id), Email: fmt.Sprintf("c%d@example.com", id)}
		if i%3 == 0 {
			c.Note = "quoted, \"twice\"\nand over\nthree lines"
		}
		out = append(out, c)
	}
	return out
}

// csvLines encodes recs under contactHeader as the lines of a CSV file with
// what a reader must pass over: a byte order mark, blank lines, comments,
// records over several lines. It returns the lines, without line breaks,
// and the index of the line after each record's.
func csvLines(t *testing.T, recs []contact) (lines []string, after []int) {
	encode := func(row []string) {
		var b strings.Builder
		w := csv.NewWriter(&b)
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		lines = append(lines, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
	}
	encode(contactHeader)
	lines[0] = "\xEF\xBB\xBF" + lines[0]
	for i, r := range recs {
		switch i % 6 {
		case 1:
			lines = append(lines, "")
		case 4:
			lines = append(lines, "# a comment, \"quoted\"")
		}
		encode(encodeContact(r, nil))
		after = append(after, len(lines))
	}
	return lines, after
}

func TestCSVSourceConformance(t *testing.T) {
	want := moreContacts(25)
	lines, after := csvLines(t, want)
	path := writeFile(t, "contacts.csv", lines)
	// A record of three fields after the 7th record.
	bad := slices.Insert(slices.Clone(lines), after[6], "8,too,few")
	badPath := writeFile(t, "bad.csv", bad)
	open := func(path string) func(t *testing.T) weir.Source[contact] {
		return func(t *testing.T) weir.Source[contact] {
			cfg := contactConfig(file.ReadOptions{})
			cfg.Comment = '#'
			src, err := file.OpenCSV(path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return src
		}
	}
	inRecord := slices.IndexFunc(want, func(c contact) bool { return strings.Count(c.Note, "\n") > 1 })
	conntest.Source(t, conntest.SourceCase[contact]{
		Open:      open(path),
		Want:      want,
		Malformed: &conntest.MalformedCase[contact]{Open: open(badPath), Before: want[:7], After: want[7:], ErrContains: fmt.Sprintf("%s:%d: ", badPath, after[6]+1)},
		BadPositions: [][]byte{[]byte(``), []byte(`{}`), []byte(`{"line":-1}`), []byte(`{"line":"3"}`), []byte(`{"line":1}{}`),
			fmt.Appendf(nil, `{"line":%d}`, after[inRecord]-1), // inside a record
			fmt.Appendf(nil, `{"line":%d}`, len(lines)+1)},
	})
}

func TestCSVSinkConformance(t *testing.T) {
	recs := moreContacts(100)
	// The middle record encodes to one field, for a header of four.
	failing := []contact{{ID: 9001}, {ID: -1}, {ID: 9002}}
	encode := func(c contact, row []string) []string {
		if c.ID < 0 {
			return append(row, "one field")
		}
		return encodeContact(c, row)
	}
	for _, crlf := range []bool{false, true} {
		t.Run(fmt.Sprintf("UseCRLF %v", crlf), func(t *testing.T) {
			conntest.Sink(t, conntest.SinkCase[contact]{
				Open: func(t *testing.T) (weir.Sink[contact], func() []contact) {
					path := filepath.Join(t.TempDir(), "out.csv")
					// A buffer smaller than a batch: batches are flushed in parts.
					sink, err := file.CreateCSV(path, file.CSVSinkConfig[contact]{Header: contactHeader, Encode: encode, UseCRLF: crlf, BufferSize: 64})
					if err != nil {
						t.Fatal(err)
					}
					return sink, func() []contact {
						src, err := file.OpenCSV(path, contactConfig(file.ReadOptions{}))
						if err != nil {
							t.Fatal(err)
						}
						defer src.Close(t.Context())
						got, err := readAll(t, weir.Source[contact](src))
						if err != nil {
							t.Fatal(err)
						}
						return got
					}
				},
				Records:    recs,
				Ordered:    true,
				Failing:    failing,
				Concurrent: true,
			})
		})
	}
}

func TestCheckpointStoreConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	conntest.CheckpointStore(t, conntest.CheckpointStoreCase{
		Open: func(t *testing.T) weir.CheckpointStore {
			store, err := file.NewCheckpointStore(path)
			if err != nil {
				t.Fatal(err)
			}
			return store
		},
	})
}
