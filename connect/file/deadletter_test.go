package file_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// failureOf is weir.Failure with its Record typed, for decoding a
// dead-letter file back.
type failureOf[T any] struct {
	Stage    string `json:"stage"`
	Record   T      `json:"record"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
	Position int64  `json:"position"`
	Batch    int64  `json:"batch"`
}

func readDeadLetters[T any](t *testing.T, path string) []failureOf[T] {
	t.Helper()
	src, err := file.OpenJSONL[failureOf[T]](path, file.JSONLSourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	recs, err := readAll(t, weir.Source[failureOf[T]](src))
	if err != nil {
		t.Fatalf("dead-letter file does not decode: %v", err)
	}
	return recs
}

// TestDeadLetterFileHoldsTheRejectedRecords runs a job whose sink refuses
// some records, under the Skip policy: the dead-letter file holds exactly
// those records, each with its error, and the sink the others.
func TestDeadLetterFileHoldsTheRejectedRecords(t *testing.T) {
	const n = 1000
	rejected := func(id int) bool { return id%37 == 3 }
	recs := make([]idRec, n)
	for i := range recs {
		recs[i] = idRec{ID: i, Name: fmt.Sprintf("name <%d>", i)}
	}
	sink := &idSink{fail: func(batch []idRec) error {
		for _, r := range batch {
			if rejected(r.ID) {
				return fmt.Errorf("id %d: check constraint", r.ID)
			}
		}
		return nil
	}}
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	dl, err := file.CreateDeadLetter(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := weir.New(weir.FromSlice(recs), weir.Identity[idRec](), weir.Sink[idRec](sink),
		weir.Config{BatchSize: 40, Workers: 2, LoadConcurrency: 3, OnLoadError: weir.Skip}, weir.WithDeadLetter(dl))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}

	var want []int
	for id := range n {
		if rejected(id) {
			want = append(want, id)
			if sink.got[id] != 0 {
				t.Errorf("rejected record %d reached the sink", id)
			}
		} else if sink.got[id] != 1 {
			t.Errorf("record %d loaded %d times, want 1", id, sink.got[id])
		}
	}
	dead := readDeadLetters[idRec](t, path)
	got := map[int]failureOf[idRec]{}
	for _, f := range dead {
		if _, dup := got[f.Record.ID]; dup {
			t.Errorf("record %d dead-lettered twice", f.Record.ID)
		}
		got[f.Record.ID] = f
	}
	if len(got) != len(want) || int64(len(dead)) != p.Stats().DeadLettered() {
		t.Fatalf("dead-letter file has %d records (%d distinct), want %d; stats count %d",
			len(dead), len(got), len(want), p.Stats().DeadLettered())
	}
	for _, id := range want {
		f, ok := got[id]
		switch {
		case !ok:
			t.Errorf("rejected record %d is not in the dead-letter file", id)
		case f.Record != recs[id]:
			t.Errorf("record %d dead-lettered as %+v, want %+v", id, f.Record, recs[id])
		case f.Error != fmt.Sprintf("id %d: check constraint", id) || f.Stage != "load" || f.Attempts != 1:
			t.Errorf("record %d: stage %q, error %q, attempts %d", id, f.Stage, f.Error, f.Attempts)
		case f.Position != int64(id) || f.Batch != int64(id/40):
			t.Errorf("record %d: position %d batch %d, want %d and %d", id, f.Position, f.Batch, id, id/40)
		}
	}
}

func TestDeadLetterAppends(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	// A crash left a partial line: the next record must start its own.
	if err := os.WriteFile(path, []byte(`{"stage":"load","record":1,"error":"a","attempts":1,"position":0,"batch":0}`+"\n"+`{"stage":"lo`), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		dl, err := file.AppendDeadLetter(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := dl.Write(ctx, []weir.Failure{{Stage: weir.StageTransform, Record: 10 + run, Error: "bad", Attempts: 1, Position: 5}}); err != nil {
			t.Fatal(err)
		}
		if err := dl.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 4 || lines[1] != `{"stage":"lo` ||
		lines[2] != `{"stage":"transform","record":10,"error":"bad","attempts":1,"position":5,"batch":0}` ||
		!strings.Contains(lines[3], `"record":11`) {
		t.Fatalf("dead-letter file after two appending runs:\n%s", data)
	}
}

func TestNewDeadLetterFlushesEveryWrite(t *testing.T) {
	ctx := t.Context()
	var w bytes.Buffer
	dl, err := file.NewDeadLetter(&w)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		ID   int               `json:"id"`
		Tags map[string]string `json:"tags"`
	}
	if err := dl.Write(ctx, []weir.Failure{{Stage: weir.StageLoad, Record: rec{ID: 1, Tags: map[string]string{"k": "v"}}, Error: "x", Attempts: 3, Position: -1, Batch: 2}}); err != nil {
		t.Fatal(err)
	}
	// No Flush, no Close: the line is already with the writer.
	if got, want := w.String(), `{"stage":"load","record":{"id":1,"tags":{"k":"v"}},"error":"x","attempts":3,"position":-1,"batch":2}`+"\n"; got != want {
		t.Fatalf("after one Write the writer holds\n%q\nwant\n%q", got, want)
	}

	// Items JSON cannot hold are kept as text rather than failing the
	// run that dead-letters them.
	if err := dl.Write(ctx, []weir.Failure{
		{Stage: weir.StageLoad, Record: math.NaN(), Error: "nan"},
		{Stage: weir.StageLoad, Record: make(chan int), Error: "chan"},
		{Stage: weir.StageLoad, Record: "fine", Error: "ok"},
	}); err != nil {
		t.Fatalf("Write of unencodable items = %v, want them written as stand-ins", err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 4 ||
		!strings.Contains(lines[1], `"record":{"unencodable":"NaN","encode_error":"json: unsupported value: NaN"}`) ||
		!strings.Contains(lines[2], `"unencodable":"0x`) || !strings.Contains(lines[2], `"error":"chan"`) ||
		!strings.Contains(lines[3], `"record":"fine"`) {
		t.Fatalf("dead letters:\n%s", w.String())
	}
	if err := dl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := file.NewDeadLetter(nil); err == nil {
		t.Error("NewDeadLetter(nil) succeeded")
	}
}

func TestJSONLSinkFlushEveryWrite(t *testing.T) {
	for _, flush := range []bool{false, true} {
		var w bytes.Buffer
		sink, err := file.NewJSONLSink[int](&w, file.JSONLSinkConfig{FlushEveryWrite: flush})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(t.Context(), []int{1, 2}); err != nil {
			t.Fatal(err)
		}
		if got := w.String(); (got == "1\n2\n") != flush {
			t.Errorf("FlushEveryWrite=%v: writer holds %q after Write", flush, got)
		}
		if err := sink.Close(t.Context()); err != nil || w.String() != "1\n2\n" {
			t.Errorf("after Close: %q, %v", w.String(), err)
		}
	}
}

// TestCreateDeadLetterIsFreshPerRun: a reject file left by an earlier run is
// truncated, so that it holds this run's rejects and nothing else.
func TestCreateDeadLetterIsFreshPerRun(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "rejects.jsonl")
	if err := os.WriteFile(path, []byte(`{"stage":"load","record":"old","error":"from last run","attempts":1,"position":0,"batch":0}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dl, err := file.CreateDeadLetter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := dl.Write(ctx, []weir.Failure{{Stage: weir.StageExtract, Record: "{oops", Error: "a.jsonl:3: bad", Attempts: 1, Position: -1, Batch: -1, Source: "a.jsonl:3"}}); err != nil {
		t.Fatal(err)
	}
	if err := dl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"stage":"extract","record":"{oops","error":"a.jsonl:3: bad","attempts":1,"position":-1,"batch":-1,"source":"a.jsonl:3"}` + "\n"; string(data) != want {
		t.Fatalf("reject file after a second run:\n%s\nwant only this run's line:\n%s", data, want)
	}
}
