package postgres_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

const allTypesDDL = `CREATE TABLE all_types (
	id    bigint PRIMARY KEY,
	name  text,
	at    timestamptz,
	doc   jsonb,
	score double precision,
	ok    boolean
)`

type allTypes struct {
	ID    int64          `db:"id"`
	Name  *string        `db:"name"`
	At    *time.Time     `db:"at"`
	Doc   map[string]any `db:"doc"`
	Score *float64       `db:"score"`
	OK    *bool          `db:"ok"`
}

var allTypesTable = connect.Table{Name: "all_types", Columns: []string{"id", "name", "at", "doc", "score", "ok"}, Key: []string{"id"}}

func allTypesValues(r allTypes, row []any) []any {
	return append(row, r.ID, r.Name, r.At, r.Doc, r.Score, r.OK)
}

func ptr[T any](v T) *T { return &v }

// trickyRecords returns n records exercising every column with awkward
// values and NULLs in every nullable column.
func trickyRecords(n int) []allTypes {
	names := []string{
		"", "plain", "héllo wörld", "日本語のテキスト", "emoji 🚀🎉", "quote ' and \" and `",
		"tab\there", "new\nline", "crlf\r\nline", `back\slash`, `\N`, "comma,semi;pipe|", "NULL",
		strings.Repeat("long ", 500),
	}
	times := []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1000, time.FixedZone("east", 5*3600+30*60)),
		time.Date(1969, 7, 20, 20, 17, 40, 0, time.FixedZone("west", -7*3600)),
	}
	scores := []float64{0, -1.5, math.Pi, 1e308, -1e-308, 5e-324, math.Inf(1), math.Inf(-1), math.MaxFloat64}
	recs := make([]allTypes, n)
	for i := range recs {
		r := allTypes{ID: int64(i)*7919 - 1000} // negative and positive, not in insertion order
		if i%7 != 3 {
			r.Name = ptr(names[i%len(names)] + fmt.Sprint(i))
		}
		if i%5 != 2 {
			r.At = ptr(times[i%len(times)].Add(time.Duration(i) * time.Microsecond))
		}
		if i%6 != 1 {
			r.Doc = map[string]any{
				"i": float64(i), "s": names[i%len(names)], "nested": map[string]any{"list": []any{1.5, "x", true, nil}},
				"ключ": "значение",
			}
		}
		if i%4 != 0 {
			r.Score = ptr(scores[i%len(scores)])
		}
		if i%3 != 0 {
			r.OK = ptr(i%2 == 0)
		}
		recs[i] = r
	}
	return recs
}

// readAll reads src to the end with a buffer of bufSize.
func readAll[E any](t *testing.T, src weir.Source[E], bufSize int) []E {
	t.Helper()
	var out []E
	buf := make([]E, bufSize)
	for {
		n, err := src.Read(t.Context(), buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("Read returned 0 records and no error")
		}
	}
}

type kv struct {
	ID  int64
	Val *string
}

func kvValues(r kv, row []any) []any { return append(row, r.ID, r.Val) }

func kvRange(from, to int64, prefix string) []kv {
	var out []kv
	for i := from; i <= to; i++ {
		out = append(out, kv{ID: i, Val: ptr(fmt.Sprintf("%s-%d", prefix, i))})
	}
	return out
}

func TestSinkFailedBatchLoadsNothing(t *testing.T) {
	pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, val text NOT NULL)`)
	table := connect.Table{Name: "kv", Columns: []string{"id", "val"}}
	newSink := func(values func(kv, []any) []any) *postgres.Sink[kv] {
		s, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Table: table, Values: values})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	batch := kvRange(1, 10, "x")
	batch[2].Val = nil // line 3 of the COPY

	t.Run("server rejects a row", func(t *testing.T) {
		sink := newSink(kvValues)
		err := sink.Write(t.Context(), batch)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23502" {
			t.Fatalf("err = %v, want not_null_violation (23502)", err)
		}
		if !strings.Contains(err.Error(), "copy kv") || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("error %q does not name the table and the line", err)
		}
		if postgres.Retryable(err) {
			t.Error("a NOT NULL violation is reported retryable")
		}
		if sink.Rows() != 0 {
			t.Errorf("Rows() = %d after a failed batch", sink.Rows())
		}
	})
	t.Run("Values returns the wrong width", func(t *testing.T) {
		sink := newSink(func(r kv, row []any) []any { return append(row, r.ID) })
		err := sink.Write(t.Context(), kvRange(1, 10, "x"))
		if err == nil || !strings.Contains(err.Error(), "record 0: Values returned 1 values for 2 columns") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Values panics", func(t *testing.T) {
		sink := newSink(func(r kv, row []any) []any {
			if r.ID == 5 {
				panic("bad record")
			}
			return kvValues(r, row)
		})
		err := sink.Write(t.Context(), kvRange(1, 10, "x"))
		var pe *weir.PanicError
		if !errors.As(err, &pe) || pe.Value != "bad record" || len(pe.Stack) == 0 {
			t.Fatalf("err = %v, want a *weir.PanicError with the value and a stack", err)
		}
		if !strings.Contains(err.Error(), "record 4") {
			t.Errorf("error %q does not name record 4", err)
		}
	})
	t.Run("missing table", func(t *testing.T) {
		s, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Table: connect.Table{Name: "nope", Columns: []string{"id", "val"}}, Values: kvValues})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Write(t.Context(), batch)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" || !strings.Contains(err.Error(), "copy nope") {
			t.Fatalf("err = %v, want undefined_table naming nope", err)
		}
	})
	if n := count(t, pool, `SELECT count(*) FROM kv`); n != 0 {
		t.Errorf("%d rows loaded by failed batches", n)
	}
	// The pool is still usable: failures left no connection in a bad state.
	if err := newSink(kvValues).Write(t.Context(), kvRange(1, 10, "ok")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM kv`); n != 10 {
		t.Errorf("count = %d, want 10", n)
	}
}

func TestSinksInsideCallerTransaction(t *testing.T) {
	pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, val text NOT NULL)`)
	table := connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: []string{"id"}}
	for _, commit := range []bool{false, true} {
		tx, err := pool.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		cs, err := postgres.NewSink(tx, postgres.SinkConfig[kv]{Table: table, Values: kvValues})
		if err != nil {
			t.Fatal(err)
		}
		us, err := postgres.NewSink(tx, postgres.SinkConfig[kv]{Table: table, Values: kvValues, OnConflict: connect.ConflictUpdate})
		if err != nil {
			t.Fatal(err)
		}
		// Two upserts in one outer transaction: the staging table of the
		// first must be gone before the second creates it again.
		for _, step := range []func() error{
			func() error { return cs.Write(t.Context(), kvRange(1, 10, "copy")) },
			func() error { return us.Write(t.Context(), kvRange(5, 15, "up1")) },
			func() error { return us.Write(t.Context(), kvRange(10, 20, "up2")) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			err = tx.Commit(t.Context())
		} else {
			err = tx.Rollback(t.Context())
		}
		if err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if commit {
			want = 20
		}
		if n := count(t, pool, `SELECT count(*) FROM kv`); n != want {
			t.Errorf("commit=%v: count = %d, want %d", commit, n, want)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM kv WHERE val = 'up2-' || id`); n != 11 {
		t.Errorf("%d rows hold the last upsert's value, want 11", n)
	}
}

func TestSinkConfigErrors(t *testing.T) {
	pool := newDB(t, `SELECT 1`)
	good := connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: []string{"id"}}
	cases := []struct {
		name  string
		build func() error
		want  []string
	}{
		{"copy: empty table", func() error {
			_, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Values: kvValues})
			return err
		}, []string{"SinkConfig.Table.Name is empty", "SinkConfig.Table.Columns is empty"}},
		{"copy: nil Values and DB", func() error {
			_, err := postgres.NewSink[kv](nil, postgres.SinkConfig[kv]{Table: good})
			return err
		}, []string{"SinkConfig.Values is nil", "nil DB"}},
		{"copy: bad columns", func() error {
			_, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Values: kvValues,
				Table: connect.Table{Name: "s..t", Columns: []string{"a", "", "a"}, Key: []string{"b"}}})
			return err
		}, []string{`Name "s..t" has an empty part`, "Columns[1] is empty", `Columns lists "a" twice`, `Key column "b" is not in Columns`}},
		{"update: no key", func() error {
			_, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Values: kvValues, OnConflict: connect.ConflictUpdate,
				Table: connect.Table{Name: "kv", Columns: []string{"id", "val"}}})
			return err
		}, []string{"SinkConfig.Table.Key is empty"}},
		{"bad conflict", func() error {
			_, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Values: kvValues, Table: good, OnConflict: 7})
			return err
		}, []string{"SinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(7)"}},
		{"multi: nil splitter", func() error {
			_, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{})
			return err
		}, []string{"MultiSinkConfig.Splitter is nil"}},
		{"multi: bad tables", func() error {
			_, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: badSplitter{}})
			return err
		}, []string{"MultiSinkConfig.Splitter.Tables()[1].Columns is empty", `lists "a" twice`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

type badSplitter struct{}

func (badSplitter) Tables() []connect.Table {
	return []connect.Table{{Name: "a", Columns: []string{"x"}}, {Name: "b"}, {Name: "a", Columns: []string{"y"}}}
}
func (badSplitter) Split(order, connect.RowWriter) error { return nil }
