package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

// readAll reads src to the end with buffers of size n and returns the
// records and the error that ended the read (nil for io.EOF).
func readAll[E any](t testing.TB, src weir.Source[E], n int) ([]E, error) {
	t.Helper()
	var out []E
	buf := make([]E, n)
	for {
		k, err := src.Read(context.Background(), buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

type kv struct {
	ID int64
	V  string
}

var kvTable = connect.Table{Name: "kv", Columns: []string{"id", "v"}, Key: []string{"id"}}

func scanKV(rows *sql.Rows) (kv, error) {
	var r kv
	err := rows.Scan(&r.ID, &r.V)
	return r, err
}

func kvKey(r kv) []any { return []any{r.ID} }

// seedKV creates kv with n rows whose ids have gaps (3, 6, 9, ...).
func seedKV(t *testing.T, n int) *sql.DB {
	t.Helper()
	db := openDB(t, "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
	sink, err := sqlite.NewSink(db, sqlite.SinkConfig[kv]{Table: kvTable, Values: func(r kv, row []any) []any { return append(row, r.ID, r.V) }})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]kv, n)
	for i := range batch {
		// Inserted in reverse so that rowid order is not key order by luck.
		id := int64(n-i) * 3
		batch[i] = kv{id, fmt.Sprintf("v%d", id)}
	}
	if err := sink.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return db
}

func checkSequence(t *testing.T, got []kv, fromID, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("read %d rows, want %d", len(got), n)
	}
	for i, r := range got {
		if want := int64(fromID+i) * 3; r.ID != want || r.V != fmt.Sprintf("v%d", want) {
			t.Fatalf("row %d is %+v, want id %d: a row was skipped, repeated or reordered", i, r, want)
		}
	}
}

func TestSourceResumesFromKey(t *testing.T) {
	db := seedKV(t, 1000)
	ctx := context.Background()
	src, _ := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey})
	if pos := src.LastKey(); pos != nil {
		t.Fatalf("LastKey() before reading = %v, want nil", pos)
	}
	buf := make([]kv, 100)
	var first []kv
	for range 3 {
		n, err := src.Read(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, buf[:n]...)
	}
	pos := src.LastKey()
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx, buf); !errors.Is(err, sqlite.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	checkSequence(t, first, 1, 300)

	// A new run resumes after the saved position.
	resumed, err := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, After: pos})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := readAll(t, resumed, 128)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, rest, 301, 700)
}

// lineItem is a row of a table with a key of two columns.
type lineItem struct {
	Order, Line int64
	SKU         string
}

// seedLineItems creates 50 orders of 1 to 5 lines and returns them, in key
// order, with a config reading them.
func seedLineItems(t *testing.T) (*sql.DB, []lineItem, sqlite.SourceConfig[lineItem]) {
	db := openDB(t, `CREATE TABLE items (order_id INTEGER, line INTEGER, sku TEXT, PRIMARY KEY (order_id, line))`)
	table := connect.Table{Name: "items", Columns: []string{"order_id", "line", "sku"}, Key: []string{"order_id", "line"}}
	sink, _ := sqlite.NewSink(db, sqlite.SinkConfig[lineItem]{Table: table, Values: func(r lineItem, row []any) []any { return append(row, r.Order, r.Line, r.SKU) }})
	var all []lineItem
	for o := int64(1); o <= 50; o++ {
		for l := int64(1); l <= o%5+1; l++ {
			all = append(all, lineItem{o, l, fmt.Sprintf("%d-%d", o, l)})
		}
	}
	if err := sink.Write(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	return db, all, sqlite.SourceConfig[lineItem]{
		Table: table,
		Scan: func(rows *sql.Rows) (lineItem, error) {
			var r lineItem
			return r, rows.Scan(&r.Order, &r.Line, &r.SKU)
		},
		Key: func(r lineItem) []any { return []any{r.Order, r.Line} },
	}
}

// TestSourceCompositeKeyAfter resumes after a key of two columns, given as
// After; conntest_test.go reads and seeks over the same table.
func TestSourceCompositeKeyAfter(t *testing.T) {
	db, all, cfg := seedLineItems(t)
	cfg.After = []any{int64(12), int64(1)} // order 12 has 3 lines
	src, _ := sqlite.NewSource(db, cfg)
	got, _ := readAll(t, src, 4)
	if got[0] != (lineItem{12, 2, "12-2"}) || len(got) != len(all)-slices.Index(all, lineItem{12, 2, "12-2"}) {
		t.Fatalf("resumed at %+v (%d items), want order 12 line 2 and all after it", got[0], len(got))
	}
}

// TestSourceScanError checks that a Read's error wraps Scan's;
// conntest_test.go checks what Read returns around it.
func TestSourceScanError(t *testing.T) {
	db := seedKV(t, 20)
	boom := errors.New("boom")
	src, _ := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Key: kvKey, Scan: func(rows *sql.Rows) (kv, error) {
		r, err := scanKV(rows)
		if r.ID == 30 {
			return r, boom
		}
		return r, err
	}})
	if _, err := readAll(t, src, 8); !errors.Is(err, boom) {
		t.Fatalf("Read = %v; want Scan's error", err)
	}
}

func TestSourceConfigValidation(t *testing.T) {
	_, err := sqlite.NewSource(openDB(t, ""), sqlite.SourceConfig[kv]{
		Query: "SELECT 1;", After: []any{1, 2}, PageSize: -1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Table.Key", "Scan", "SourceConfig.Key", "After", "PageSize", "';'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestPipelineCopiesTable runs a whole pipeline on one single-connection
// database: the source pages through kv while the sink writes kv_copy,
// with two concurrent loaders. Each row arrives exactly once.
func TestPipelineCopiesTable(t *testing.T) {
	const n = 20_000
	db := seedKV(t, n)
	if err := sqlite.Exec(context.Background(), db, "CREATE TABLE kv_copy (id INTEGER PRIMARY KEY, v TEXT NOT NULL, len INTEGER)"); err != nil {
		t.Fatal(err)
	}
	src, err := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey})
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		kv
		Len int
	}
	sink, err := sqlite.NewSink(db, sqlite.SinkConfig[out]{
		Table:  connect.Table{Name: "kv_copy", Columns: []string{"id", "v", "len"}},
		Values: func(r out, row []any) []any { return append(row, r.ID, r.V, r.Len) },
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := weir.Map(func(_ context.Context, r kv) (out, error) { return out{r, len(r.V)}, nil })
	p, err := weir.New(src, tr, weir.Sink[out](sink), weir.Config{BatchSize: 500, Workers: 2, LoadConcurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM kv_copy"); got != n {
		t.Fatalf("copied %d rows, want %d", got, n)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM kv JOIN kv_copy USING (id) WHERE kv.v = kv_copy.v AND kv_copy.len = length(kv.v)"); got != n {
		t.Fatalf("%d rows match their original, want %d", got, n)
	}
	if st := p.Stats(); st.Load.Records != n || sink.Rows() != n {
		t.Fatalf("stats loaded %d, sink Rows() %d; want %d", st.Load.Records, sink.Rows(), n)
	}
	// The run closed both ends.
	if _, err := src.Read(context.Background(), make([]kv, 1)); !errors.Is(err, sqlite.ErrClosed) {
		t.Fatalf("source after the run: %v", err)
	}
}
