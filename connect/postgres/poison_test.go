package postgres_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/connect/postgres"
)

type reading struct {
	ID    int64 `json:"id"`
	Value int64 `json:"value"`
}

// TestPoisonRecordsGoToTheDeadLetterFile mixes records that violate a
// CHECK constraint into a million good ones: under the Skip policy exactly
// those records land in the dead-letter file, with the server's error, and
// every other record is loaded once.
func TestPoisonRecordsGoToTheDeadLetterFile(t *testing.T) {
	n := int64(1_000_000)
	if testing.Short() {
		n = 50_000
	}
	pool := newDB(t, `CREATE TABLE readings (id bigint PRIMARY KEY, value bigint NOT NULL CHECK (value >= 0))`)
	poison := func(id int64) bool { return id%99_991 == 7 }
	next := int64(0)
	src := weir.SourceFunc[reading](func(_ context.Context, buf []reading) (int, error) {
		k := 0
		for k < len(buf) && next < n {
			v := next * 3
			if poison(next) {
				v = -1
			}
			buf[k] = reading{ID: next, Value: v}
			next++
			k++
		}
		if next >= n {
			return k, io.EOF
		}
		return k, nil
	})
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[reading]{
		Table:  connect.Table{Name: "readings", Columns: []string{"id", "value"}},
		Values: func(r reading, row []any) []any { return append(row, r.ID, r.Value) },
	})
	if err != nil {
		t.Fatal(err)
	}
	dlPath := filepath.Join(t.TempDir(), "dead.jsonl")
	dl, err := file.CreateDeadLetter(dlPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := weir.New(weir.Source[reading](src), weir.Identity[reading](), weir.Sink[reading](sink),
		weir.Config{BatchSize: 5000, Workers: 2, LoadConcurrency: 2, OnLoadError: weir.Skip}, weir.WithDeadLetter(dl))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}

	var want []int64
	for id := range n {
		if poison(id) {
			want = append(want, id)
		}
	}
	f, err := os.Open(dlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Stage    string  `json:"stage"`
			Record   reading `json:"record"`
			Error    string  `json:"error"`
			Position int64   `json:"position"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		if rec.Stage != "load" || rec.Position != rec.Record.ID || !strings.Contains(rec.Error, "readings_value_check") {
			t.Errorf("dead letter %+v", rec)
		}
		got = append(got, rec.Record.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("dead-lettered %v, want exactly %v", got, want)
	}
	if c := count(t, pool, `SELECT count(*) FROM readings`); c != n-int64(len(want)) {
		t.Fatalf("table holds %d rows, want %d", c, n-int64(len(want)))
	}
	if c := count(t, pool, `SELECT count(*) FROM readings WHERE value < 0`); c != 0 {
		t.Fatalf("%d poison rows were loaded", c)
	}
	st := p.Stats()
	if st.Load.DeadLettered != int64(len(want)) || st.CheckAccounting() != nil {
		t.Errorf("stats: dead-lettered %d, accounting %v", st.Load.DeadLettered, st.CheckAccounting())
	}
}
