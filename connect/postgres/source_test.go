package postgres_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir/connect/postgres"
)

type item struct {
	ID int64  `db:"id"`
	V  string `db:"v"`
}

const itemsDDL = `CREATE TABLE items (id bigint PRIMARY KEY, v text NOT NULL);
INSERT INTO items SELECT i, 'v' || i FROM generate_series(1, 2500) AS i`

// TestSourceKeysetPagination checks the SQL of a read and LastKey after
// each Read; conntest_test.go checks the records.
func TestSourceKeysetPagination(t *testing.T) {
	pool := newDB(t, itemsDDL)
	rec := &recordingDB{Pool: pool}
	src, err := postgres.NewSource(rec, postgres.SourceConfig[item]{
		Table: "items", Key: "id", Columns: []string{"id", "v"}, PageSize: 100,
		Scan: pgx.RowToStructByName[item],
	})
	if err != nil {
		t.Fatal(err)
	}
	if src.LastKey() != nil {
		t.Errorf("LastKey() before any Read = %v, want nil", src.LastKey())
	}
	buf := make([]item, 37) // not a divisor of the page size
	var got []item
	for {
		n, err := src.Read(t.Context(), buf)
		got = append(got, buf[:n]...)
		if n > 0 {
			if pos := src.LastKey(); len(pos) != 1 || pos[0] != got[len(got)-1].ID {
				t.Fatalf("after %d records LastKey() = %#v, want [%d]", len(got), pos, got[len(got)-1].ID)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2500 {
		t.Fatalf("read %d records, want 2500", len(got))
	}
	if n, err := src.Read(t.Context(), buf); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v; want 0, EOF", n, err)
	}
	// 25 full pages, then one that comes back empty, and none after.
	if len(rec.queries) != 26 {
		t.Errorf("%d queries, want 26", len(rec.queries))
	}
	for i, q := range rec.queries {
		if strings.Contains(strings.ToUpper(q), "OFFSET") {
			t.Errorf("query %d uses OFFSET: %s", i, q)
		}
		if hasWhere := strings.Contains(q, `WHERE "id" > $1`); hasWhere != (i > 0) {
			t.Errorf("query %d: %s", i, q)
		}
	}
}

func TestSourceResume(t *testing.T) {
	pool := newDB(t, itemsDDL)
	newSrc := func(after []any) *postgres.Source[item] {
		s, err := postgres.NewSource(pool, postgres.SourceConfig[item]{
			Table: "items", Key: "id", PageSize: 100, After: after, Scan: pgx.RowToStructByName[item],
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ids := func(items []item) []int64 {
		out := make([]int64, len(items))
		for i, it := range items {
			out[i] = it.ID
		}
		return out
	}
	seq := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}

	t.Run("from a given key", func(t *testing.T) {
		src := newSrc([]any{int64(1234)})
		if k := src.LastKey(); len(k) != 1 || k[0] != int64(1234) {
			t.Errorf("LastKey() before Read = %v, want After", src.LastKey())
		}
		if got := ids(readAll(t, src, 64)); !slices.Equal(got, seq(1235, 2500)) {
			t.Errorf("read %d ids from %v to %v, want 1235..2500", len(got), got[0], got[len(got)-1])
		}
	})

	t.Run("from the position of an interrupted read", func(t *testing.T) {
		first := newSrc(nil)
		buf := make([]item, 333)
		var got []item
		for len(got) < 1000 {
			n, err := first.Read(t.Context(), buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		}
		second := newSrc(first.LastKey())
		got = append(got, readAll(t, second, 333)...)
		if !slices.Equal(ids(got), seq(1, 2500)) {
			t.Errorf("the two runs read %d ids, want each of 1..2500 once, in order", len(got))
		}
	})
}

// wordsDDL is a table of 300 words keyed by themselves, not ASCII.
const wordsDDL = `CREATE TABLE words (w text PRIMARY KEY);
	INSERT INTO words SELECT 'wörd ' || chr(19968 + i) || i FROM generate_series(1, 300) AS i`

func scanString(row pgx.CollectableRow) (string, error) {
	var s string
	return s, row.Scan(&s)
}

// TestSourceTextKey checks LastKey of a text key: the word itself.
func TestSourceTextKey(t *testing.T) {
	src, err := postgres.NewSource(newDB(t, wordsDDL), postgres.SourceConfig[string]{Table: "words", Key: "w", PageSize: 7, Scan: scanString})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, src, 10)
	if pos := src.LastKey(); len(pos) != 1 || pos[0] != got[len(got)-1] {
		t.Errorf("LastKey() = %#v, want the last word", src.LastKey())
	}
}

func TestSourceErrors(t *testing.T) {
	pool := newDB(t, `CREATE TABLE n (id int, v text); INSERT INTO n VALUES (1, 'a'), (NULL, 'b')`)
	scan := pgx.RowToStructByName[item]
	t.Run("config", func(t *testing.T) {
		for _, tc := range []struct {
			cfg  postgres.SourceConfig[item]
			want []string
		}{
			{postgres.SourceConfig[item]{}, []string{"set Table or Query", "Key is empty", "Scan is nil"}},
			{postgres.SourceConfig[item]{Table: "t", Query: "SELECT 1", Key: "id", Scan: scan}, []string{"not both"}},
			{postgres.SourceConfig[item]{Query: "SELECT 1;", Key: "id", Scan: scan}, []string{"semicolon"}},
			{postgres.SourceConfig[item]{Table: "t", QueryArgs: []any{1}, Key: "id", Scan: scan}, []string{"QueryArgs is set without Query"}},
			{postgres.SourceConfig[item]{Table: "t", Key: "id", Columns: []string{"v", ""}, PageSize: -1, Scan: scan},
				[]string{`Columns must include Key "id"`, "Columns[1] is empty", "PageSize must be between 1 and"}},
		} {
			_, err := postgres.NewSource(pool, tc.cfg)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("%+v: err = %v, want %q", tc.cfg, err, w)
				}
			}
		}
	})
	read := func(cfg postgres.SourceConfig[item]) error {
		src, err := postgres.NewSource(pool, cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Read(t.Context(), make([]item, 10))
		return err
	}
	t.Run("NULL key", func(t *testing.T) {
		err := read(postgres.SourceConfig[item]{Table: "n", Key: "id", Scan: pgx.RowToStructByNameLax[item]})
		if err == nil || !strings.Contains(err.Error(), `key column "id" is NULL`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("key not read", func(t *testing.T) {
		err := read(postgres.SourceConfig[item]{Query: "SELECT v, id AS ident FROM n", Key: "id", Scan: scan})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42703" || !strings.Contains(err.Error(), "read page") {
			t.Errorf("err = %v, want undefined_column from the page query", err)
		}
	})
}
