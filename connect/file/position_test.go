package file_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// linePos decodes a file source's position.
func linePos(t *testing.T, pos []byte) int {
	t.Helper()
	var p struct{ Line int }
	if err := json.Unmarshal(pos, &p); err != nil {
		t.Fatalf("position %q: %v", pos, err)
	}
	return p.Line
}

type idRec struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// idSink records how many times each id was loaded. fail, if set, rejects
// a whole batch (nothing of it is kept).
type idSink struct {
	mu   sync.Mutex
	got  map[int]int
	fail func(batch []idRec) error
}

func (s *idSink) Write(_ context.Context, batch []idRec) error {
	if s.fail != nil {
		if err := s.fail(batch); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[int]int{}
	}
	for _, r := range batch {
		s.got[r.ID]++
	}
	return nil
}

var errSinkDown = errors.New("sink went away")

// failOn returns a sink failing every batch that holds id.
func failOn(id int) *idSink {
	return &idSink{fail: func(batch []idRec) error {
		for _, r := range batch {
			if r.ID == id {
				return errSinkDown
			}
		}
		return nil
	}}
}

var resumeConfigs = []weir.Config{
	{BatchSize: 64, Workers: 1},
	{BatchSize: 50, Workers: 3, LoadConcurrency: 2},
}

// checkResume runs a job twice over the same checkpoint store: run 1 with a
// sink that fails on record failID, run 2 with a fresh source. line maps
// every id to the line its record ends on. It checks that run 1 loaded
// every record up to its checkpoint, that run 2 loaded exactly the records
// after it, once each, and that a third run finds nothing left.
func checkResume(t *testing.T, cfg weir.Config, store weir.CheckpointStore, open func() weir.Source[idRec], line map[int]int, failID int) {
	t.Helper()
	ctx := t.Context()
	first := failOn(failID)
	p, err := weir.New(open(), weir.Identity[idRec](), weir.Sink[idRec](first), cfg, weir.WithCheckpoint(store, "job"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); !errors.Is(err, errSinkDown) {
		t.Fatalf("run 1 = %v, want the sink's error", err)
	}
	saved := mustLoad(t, store, "job")
	ck := 0
	if saved != nil {
		ck = linePos(t, saved)
	}
	if cfg.Workers == 1 && ck == 0 {
		t.Fatal("run 1 saved no checkpoint although batches before the failure loaded")
	}
	if ck >= line[failID] {
		t.Fatalf("checkpoint at line %d, at or past the record that failed (line %d)", ck, line[failID])
	}
	for id, l := range line {
		if l <= ck && first.got[id] != 1 {
			t.Fatalf("checkpoint at line %d, but record %d (line %d) was loaded %d times in run 1", ck, id, l, first.got[id])
		}
	}

	second := &idSink{}
	p, err = weir.New(open(), weir.Identity[idRec](), weir.Sink[idRec](second), cfg, weir.WithCheckpoint(store, "job"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatalf("run 2: %v", err)
	}
	if string(p.Stats().ResumedFrom) != string(saved) {
		t.Errorf("run 2 ResumedFrom = %q, want %q", p.Stats().ResumedFrom, saved)
	}
	last := 0
	for id, l := range line {
		want := 0
		if l > ck {
			want = 1
		}
		if second.got[id] != want {
			t.Fatalf("checkpoint at line %d: run 2 loaded record %d (line %d) %d times, want %d", ck, id, l, second.got[id], want)
		}
		if first.got[id]+second.got[id] == 0 {
			t.Fatalf("record %d (line %d) was loaded by neither run", id, l)
		}
		last = max(last, l)
	}
	if got := linePos(t, mustLoad(t, store, "job")); got != last {
		t.Errorf("after run 2 the checkpoint is at line %d, want the last record's line %d", got, last)
	}

	third := &idSink{}
	p, err = weir.New(open(), weir.Identity[idRec](), weir.Sink[idRec](third), cfg, weir.WithCheckpoint(store, "job"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil || len(third.got) != 0 {
		t.Fatalf("run 3 = %v, loaded %d records; want nothing left to load", err, len(third.got))
	}
}

// writeJSONL writes n records with blank and malformed lines among them
// and returns the path and each id's line.
func writeJSONL(t *testing.T, n int) (string, map[int]int) {
	t.Helper()
	var b strings.Builder
	line := map[int]int{}
	l := 0
	for id := range n {
		if id%97 == 5 {
			b.WriteString("\n")
			l++
		}
		if id%211 == 7 {
			b.WriteString("{\"id\": not json}\n")
			l++
		}
		fmt.Fprintf(&b, "{\"id\":%d,\"name\":\"n%d\"}\n", id, id)
		l++
		line[id] = l
	}
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, line
}

func TestJSONLResumesFromCheckpointStore(t *testing.T) {
	path, line := writeJSONL(t, 2000)
	for _, cfg := range resumeConfigs {
		t.Run(fmt.Sprintf("workers=%d,loaders=%d", cfg.Workers, cfg.LoadConcurrency), func(t *testing.T) {
			store, _ := newCheckpointStore(t)
			open := func() weir.Source[idRec] {
				src, err := file.OpenJSONL[idRec](path, file.JSONLSourceConfig{ReadOptions: file.ReadOptions{
					OnBadLine: func(int, []byte, error) error { return nil },
				}})
				if err != nil {
					t.Fatal(err)
				}
				return src
			}
			checkResume(t, cfg, store, open, line, 1234)
		})
	}
}

// writeCSV writes n records, some with a quoted field spanning lines, and
// returns the path and each id's last line.
func writeCSV(t *testing.T, n int) (string, map[int]int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,name\n")
	line := map[int]int{}
	l := 1
	for id := range n {
		if id%13 == 0 {
			fmt.Fprintf(&b, "%d,\"first\nsecond\nthird\"\n", id)
			l += 3
		} else {
			fmt.Fprintf(&b, "%d,n%d\n", id, id)
			l++
		}
		line[id] = l
	}
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, line
}

func decodeIDRec(r file.Record) (idRec, error) {
	var v idRec
	_, err := fmt.Sscan(r.Get("id"), &v.ID)
	v.Name = r.Get("name")
	return v, err
}

func TestCSVResumesFromCheckpointStore(t *testing.T) {
	path, line := writeCSV(t, 2000)
	for _, cfg := range resumeConfigs {
		t.Run(fmt.Sprintf("workers=%d,loaders=%d", cfg.Workers, cfg.LoadConcurrency), func(t *testing.T) {
			store, _ := newCheckpointStore(t)
			open := func() weir.Source[idRec] {
				src, err := file.OpenCSV(path, file.CSVSourceConfig[idRec]{Decode: decodeIDRec})
				if err != nil {
					t.Fatal(err)
				}
				return src
			}
			checkResume(t, cfg, store, open, line, 1500)
		})
	}
}

func TestJSONLPosition(t *testing.T) {
	in := "{\"id\":1}\n\n{\"id\":2}\n{\"id\":3}\n{bad\n{\"id\":5}\n"
	src, err := file.NewJSONLSource[idRec](strings.NewReader(in), file.JSONLSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pos := func() string {
		p, err := src.Position()
		if err != nil {
			t.Fatal(err)
		}
		return string(p)
	}
	if got := pos(); got != `{"line":0}` {
		t.Errorf("Position before Read = %s", got)
	}
	buf := make([]idRec, 2)
	if n, err := src.Read(t.Context(), buf); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if got := pos(); got != `{"line":3}` {
		t.Errorf("after records on lines 1 and 3: Position = %s, want line 3", got)
	}
	n, err := src.Read(t.Context(), buf)
	var le *file.LineError
	if n != 1 || !errors.As(err, &le) || le.Line != 5 {
		t.Fatalf("Read = %d, %v; want record 3 and the error of line 5", n, err)
	}
	// The bad line ended the read: it is not accounted for, so a resume
	// meets it again instead of passing over it.
	if got := pos(); got != `{"line":4}` {
		t.Errorf("after a failing line 5: Position = %s, want line 4", got)
	}
}

func TestJSONLSeek(t *testing.T) {
	in := "{\"id\":1}\n{\"id\":2}\n\n{\"id\":4}\n{\"id\":5}" // no final line break
	open := func() *file.JSONLSource[idRec] {
		src, err := file.NewJSONLSource[idRec](strings.NewReader(in), file.JSONLSourceConfig{ReadOptions: file.ReadOptions{Name: "in.jsonl"}})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	ids := func(src *file.JSONLSource[idRec]) []int {
		recs, err := readAll(t, weir.Source[idRec](src))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		line int
		want string
	}{{0, "[1 2 4 5]"}, {1, "[2 4 5]"}, {2, "[4 5]"}, {3, "[4 5]"}, {4, "[5]"}, {5, "[]"}} {
		src := open()
		if err := src.Seek(fmt.Appendf(nil, `{"line":%d}`, tc.line)); err != nil {
			t.Fatalf("Seek(%d): %v", tc.line, err)
		}
		if p, _ := src.Position(); linePos(t, p) != tc.line {
			t.Errorf("Position after Seek(%d) = %s", tc.line, p)
		}
		if got := fmt.Sprint(ids(src)); got != tc.want && !(tc.want == "[]" && got == "[]") {
			t.Errorf("after Seek(%d) read %s, want %s", tc.line, got, tc.want)
		}
	}

	t.Run("past the end", func(t *testing.T) {
		src := open()
		err := src.Seek([]byte(`{"line":9}`))
		if !errors.Is(err, file.ErrPastEnd) || !strings.Contains(err.Error(), "line 9") || !strings.Contains(err.Error(), "line 5") {
			t.Fatalf("Seek(9) on 5 lines = %v, want ErrPastEnd naming lines 9 and 5", err)
		}
		if _, err := src.Read(t.Context(), make([]idRec, 1)); !errors.Is(err, file.ErrPastEnd) {
			t.Errorf("Read after a failed Seek = %v, want the Seek's error", err)
		}
	})
	t.Run("after Read", func(t *testing.T) {
		src := open()
		src.Read(t.Context(), make([]idRec, 1))
		if err := src.Seek([]byte(`{"line":1}`)); err == nil {
			t.Error("Seek after Read succeeded")
		}
	})
	t.Run("twice", func(t *testing.T) {
		src := open()
		if err := src.Seek([]byte(`{"line":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := src.Seek([]byte(`{"line":2}`)); err == nil {
			t.Error("second Seek succeeded")
		}
	})
}

func TestCSVPositionAndSeek(t *testing.T) {
	// Lines: 1 header, 2 a, 3-4 b (quoted line break), 5 comment,
	// 6 c, 7 bad field count, 8 d.
	in := "id,name\n1,a\n2,\"b\nb\"\n# note\n3,c\n4\n5,d\n"
	var badLines []int
	cfg := file.CSVSourceConfig[idRec]{
		ReadOptions: file.ReadOptions{Name: "in.csv", OnBadLine: func(line int, _ []byte, _ error) error {
			badLines = append(badLines, line)
			return nil
		}},
		Decode:  decodeIDRec,
		Comment: '#',
	}
	open := func() *file.CSVSource[idRec] {
		src, err := file.NewCSVSource(strings.NewReader(in), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}

	src := open()
	var positions []int
	buf := make([]idRec, 1)
	for {
		n, err := src.Read(t.Context(), buf)
		if n > 0 {
			p, _ := src.Position()
			positions = append(positions, linePos(t, p))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(positions); got != "[2 4 6 8]" {
		t.Errorf("positions after each record = %s, want [2 4 6 8] (the records' last lines)", got)
	}

	ids := func(src *file.CSVSource[idRec]) string {
		recs, err := readAll(t, weir.Source[idRec](src))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		line int
		want string
	}{{0, "[1 2 3 5]"}, {1, "[1 2 3 5]"}, {2, "[2 3 5]"}, {4, "[3 5]"}, {6, "[5]"}, {7, "[5]"}, {8, "[]"}} {
		badLines = nil
		src := open()
		if err := src.Seek(fmt.Appendf(nil, `{"line":%d}`, tc.line)); err != nil {
			t.Fatalf("Seek(%d): %v", tc.line, err)
		}
		if got := ids(src); got != tc.want {
			t.Errorf("after Seek(%d) read %s, want %s", tc.line, got, tc.want)
		}
		// The bad record on line 7 is before the position from line 7
		// on: Seek passes over it without reporting it again.
		if wantBad := tc.line < 7; (len(badLines) == 1) != wantBad {
			t.Errorf("after Seek(%d) OnBadLine saw lines %v", tc.line, badLines)
		}
	}

	for _, tc := range []struct {
		line int
		want string
	}{{3, "no record ends on that line"}, {5, "no record ends on that line"}, {20, "line 8"}} {
		src := open()
		err := src.Seek(fmt.Appendf(nil, `{"line":%d}`, tc.line))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), fmt.Sprintf("line %d", tc.line)) {
			t.Errorf("Seek(%d) = %v, want an error naming line %d and saying %q", tc.line, err, tc.line, tc.want)
		}
		if _, rerr := src.Read(t.Context(), buf); rerr == nil || rerr == io.EOF {
			t.Errorf("Read after the failed Seek(%d) = %v, want its error", tc.line, rerr)
		}
	}
	if err := open().Seek([]byte(`{"line":20}`)); !errors.Is(err, file.ErrPastEnd) {
		t.Errorf("Seek past the end = %v, want ErrPastEnd", err)
	}

	twoLineHeader := "\"id\",\"na\nme\"\n1,a\n"
	hs, _ := file.NewCSVSource(strings.NewReader(twoLineHeader), file.CSVSourceConfig[idRec]{Decode: func(r file.Record) (idRec, error) { return idRec{}, nil }})
	if err := hs.Seek([]byte(`{"line":1}`)); err == nil || !strings.Contains(err.Error(), "header") {
		t.Errorf("Seek into a two-line header = %v, want an error about the header", err)
	}

	late := open()
	late.Read(t.Context(), buf)
	if err := late.Seek([]byte(`{"line":2}`)); err == nil {
		t.Error("Seek after Read succeeded")
	}
}
