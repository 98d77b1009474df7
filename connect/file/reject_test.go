package file_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// intSet keeps the ids it is given, safe for concurrent Writes.
type intSet struct {
	mu  sync.Mutex
	ids map[int]int
}

func (s *intSet) Write(_ context.Context, ids []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[int]int{}
	}
	for _, id := range ids {
		s.ids[id]++
	}
	return nil
}

// rejectCase is a file with bad lines, read by the engine as ids.
type rejectCase struct {
	name  string
	lines []string
	// bad maps each bad line's number to its text.
	bad map[int]string
	// good is the ids of the readable records.
	good []int
	open func(path string) (weir.Source[int], error)
}

// rejectCases builds a CSV file with wrong field counts (one in a quoted,
// multi-line neighbourhood, one on the last line) and a JSON Lines file with
// broken lines (one the last line).
func rejectCases(t *testing.T) []rejectCase {
	csvCase := rejectCase{name: "users.csv", bad: map[int]string{}, lines: []string{"id,name,email,note"}}
	jsonCase := rejectCase{name: "users.jsonl", bad: map[int]string{}}
	for id := 1; id <= 300; id++ {
		switch {
		case id%37 == 0 || id == 300:
			csvCase.lines = append(csvCase.lines, fmt.Sprintf("%d,only three,fields", id))
			csvCase.bad[len(csvCase.lines)] = csvCase.lines[len(csvCase.lines)-1]
		case id%10 == 0:
			csvCase.lines = append(csvCase.lines, fmt.Sprintf(`%d,n%d,e%d@x,"two`, id, id, id), `lines"`)
			csvCase.good = append(csvCase.good, id)
		default:
			csvCase.lines = append(csvCase.lines, fmt.Sprintf("%d,n%d,e%d@x,", id, id, id))
			csvCase.good = append(csvCase.good, id)
		}
		switch {
		case id%41 == 0 || id == 300:
			jsonCase.lines = append(jsonCase.lines, fmt.Sprintf(`{"id":%d,"name":`, id))
			jsonCase.bad[len(jsonCase.lines)] = jsonCase.lines[len(jsonCase.lines)-1]
		case id%29 == 0:
			jsonCase.lines = append(jsonCase.lines, fmt.Sprintf(`{"id":"%d"}`, id)) // a string for an int
			jsonCase.bad[len(jsonCase.lines)] = jsonCase.lines[len(jsonCase.lines)-1]
		default:
			jsonCase.lines = append(jsonCase.lines, fmt.Sprintf(`{"id":%d,"name":"n%d"}`, id, id))
			jsonCase.good = append(jsonCase.good, id)
		}
	}
	csvCase.open = func(path string) (weir.Source[int], error) {
		return file.OpenCSV(path, file.CSVSourceConfig[int]{Decode: func(r file.Record) (int, error) {
			var id int
			_, err := fmt.Sscan(r.Get("id"), &id)
			return id, err
		}})
	}
	jsonCase.open = func(path string) (weir.Source[int], error) {
		src, err := file.OpenJSONL[struct{ ID int }](path, file.JSONLSourceConfig{})
		if err != nil {
			return nil, err
		}
		return idsOf{src}, nil
	}
	return []rejectCase{csvCase, jsonCase}
}

// idsOf reads records with an ID and passes on their ids, keeping the
// source's position and Close.
type idsOf struct {
	*file.JSONLSource[struct{ ID int }]
}

func (s idsOf) Read(ctx context.Context, buf []int) (int, error) {
	recs := make([]struct{ ID int }, len(buf))
	n, err := s.JSONLSource.Read(ctx, recs)
	for i := range n {
		buf[i] = recs[i].ID
	}
	return n, err
}

// TestBadLinesAreDeadLetteredWithFileAndLine: under the Skip policy, a CSV
// file with wrong field counts and a JSON Lines file with broken lines load
// every other record once; the bad ones are in the (truncated) reject file
// with their file, line and text; the stats add up; and the checkpoint
// ends past the last line, a bad one. Under FailRun the run fails naming
// the first bad line, having loaded the records before it.
func TestBadLinesAreDeadLetteredWithFileAndLine(t *testing.T) {
	for _, c := range rejectCases(t) {
		for _, cfg := range []weir.Config{{BatchSize: 1, Workers: 1}, {BatchSize: 16, Workers: 3, LoadConcurrency: 2}} {
			t.Run(fmt.Sprintf("%s/batch=%d", c.name, cfg.BatchSize), func(t *testing.T) {
				dir := t.TempDir()
				path := writeFile(t, c.name, c.lines)
				rejects := filepath.Join(dir, "rejects.jsonl")
				if err := os.WriteFile(rejects, []byte("{\"stage\":\"load\",\"error\":\"a line from an earlier run\"}\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				store, err := file.NewCheckpointStore(filepath.Join(dir, "ck.json"))
				if err != nil {
					t.Fatal(err)
				}
				src, err := c.open(path)
				if err != nil {
					t.Fatal(err)
				}
				dl, err := file.CreateDeadLetter(rejects)
				if err != nil {
					t.Fatal(err)
				}
				sink := &intSet{}
				cfg.OnTransformError = weir.Skip
				p, err := weir.New(src, weir.Identity[int](), weir.Sink[int](sink), cfg, weir.WithDeadLetter(dl), weir.WithCheckpoint(store, "job"))
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Run(t.Context()); err != nil {
					t.Fatalf("Run: %v", err)
				}
				for _, id := range c.good {
					if sink.ids[id] != 1 {
						t.Fatalf("record %d loaded %d times, want once", id, sink.ids[id])
					}
				}
				if len(sink.ids) != len(c.good) {
					t.Fatalf("%d records loaded, want %d", len(sink.ids), len(c.good))
				}
				got := readRejects(t, rejects)
				if len(got) != len(c.bad) {
					t.Fatalf("%d lines in the reject file, want the %d bad lines of this run:\n%v", len(got), len(c.bad), got)
				}
				for _, f := range got {
					var line int
					if _, err := fmt.Sscanf(strings.TrimPrefix(f.Source, path+":"), "%d", &line); err != nil || c.bad[line] == "" {
						t.Fatalf("reject %+v: source is not one of the bad lines of %s", f, path)
					}
					if f.Stage != "extract" || f.Record != c.bad[line] || !strings.HasPrefix(f.Error, f.Source+": ") {
						t.Errorf("reject %+v: want stage extract, the line's text %q, and an error naming %s", f, c.bad[line], f.Source)
					}
				}
				st := p.Stats()
				if st.Extract.Records != int64(len(c.good)) || st.Extract.DeadLettered != int64(len(c.bad)) || st.Load.Records != int64(len(c.good)) {
					t.Errorf("stats: %d extracted, %d rejected, %d loaded; want %d, %d, %d",
						st.Extract.Records, st.Extract.DeadLettered, st.Load.Records, len(c.good), len(c.bad), len(c.good))
				}
				if err := st.CheckAccounting(); err != nil {
					t.Error(err)
				}
				if ck, _ := store.Load(t.Context(), "job"); string(ck) != fmt.Sprintf(`{"line":%d}`, len(c.lines)) {
					t.Errorf("checkpoint %s, want the last line, %d: a resumed run must not read the bad last line again", ck, len(c.lines))
				}
			})
		}
		t.Run(c.name+"/fail", func(t *testing.T) {
			path := writeFile(t, c.name, c.lines)
			src, err := c.open(path)
			if err != nil {
				t.Fatal(err)
			}
			sink := &intSet{}
			p, err := weir.New(src, weir.Identity[int](), weir.Sink[int](sink), weir.Config{BatchSize: 8, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			first := slices.Min(mapKeys(c.bad))
			err = p.Run(t.Context())
			var le *file.LineError
			if !errors.As(err, &le) || le.Line != first || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: ", path, first)) {
				t.Fatalf("Run = %v, want a failure naming %s:%d", err, path, first)
			}
			before := 0
			for _, id := range c.good {
				if sink.ids[id] == 1 {
					before++
				}
			}
			if before != len(sink.ids) || before == 0 {
				t.Errorf("%d records loaded (%d of them good), want those before line %d", len(sink.ids), before, first)
			}
		})
	}
}

type reject struct {
	Stage  string `json:"stage"`
	Record string `json:"record"`
	Error  string `json:"error"`
	Source string `json:"source"`
}

func readRejects(t *testing.T, path string) []reject {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []reject
	for line := range strings.Lines(string(data)) {
		var r reject
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("reject file line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func mapKeys(m map[int]string) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
