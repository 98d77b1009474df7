package sqlite_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

func catalogOf(t *testing.T, ddl string) *sqlite.Catalog {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Exec(t.Context(), db, ddl); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := sqlite.OpenReadOnly(path, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	c, err := sqlite.NewCatalog(ro)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogMapsTypesKeysAndOrder(t *testing.T) {
	c := catalogOf(t, `
		CREATE TABLE child (id INTEGER PRIMARY KEY, p INT, amount DECIMAL(10,2) DEFAULT 0,
			ok BOOLEAN DEFAULT 1, d DATE, ts DATETIME, j JSON, b BLOB, s VARCHAR(9) NOT NULL UNIQUE, x, r REAL,
			odd TEXT DEFAULT (lower('A')), FOREIGN KEY (p, s) REFERENCES parent);
		CREATE TABLE parent (a TEXT, b INT, PRIMARY KEY (b, a)) WITHOUT ROWID;
		CREATE INDEX child_d ON child (d, ts);
		CREATE INDEX child_part ON child (r) WHERE r > 0;`)
	tables, err := c.Tables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 || tables[0].Name != "parent" || tables[1].Name != "child" {
		t.Fatalf("tables %v: want parent before child, which references it", tables)
	}
	if got := tables[0].PrimaryKey; len(got) != 2 || got[0] != "b" || got[1] != "a" {
		t.Errorf("parent's key = %v, want [b a] in key order", got)
	}
	ch := tables[1]
	want := map[string]struct {
		typ  connect.Type
		pg   string
		dflt string
	}{
		"id": {connect.TypeInt64, "bigint", ""}, "p": {connect.TypeInt64, "bigint", ""},
		"amount": {connect.TypeNumeric, "numeric(10,2)", "0"}, "ok": {connect.TypeBool, "boolean", "true"},
		"d": {connect.TypeDate, "date", ""}, "ts": {connect.TypeTimestamp, "timestamp", ""},
		"j": {connect.TypeJSON, "jsonb", ""}, "b": {connect.TypeBytes, "bytea", ""},
		"s": {connect.TypeText, "text", ""}, "x": {connect.TypeText, "text", ""},
		"r": {connect.TypeFloat64, "double precision", ""}, "odd": {connect.TypeText, "text", ""},
	}
	for _, col := range ch.Columns {
		w := want[col.Name]
		if col.Type != w.typ || col.PGType != w.pg || col.Default != w.dflt {
			t.Errorf("column %s: %v %q default %q, want %v %q default %q", col.Name, col.Type, col.PGType, col.Default, w.typ, w.pg, w.dflt)
		}
		if col.Identity != (col.Name == "id") || col.NotNull != (col.Name == "s" || col.Name == "id") {
			t.Errorf("column %s: identity %v, not null %v", col.Name, col.Identity, col.NotNull)
		}
	}
	if len(ch.Indexes) != 2 || !ch.Indexes[0].Unique || ch.Indexes[0].Columns[0] != "s" || ch.Indexes[1].Name != "child_d" || len(ch.Indexes[1].Columns) != 2 {
		t.Errorf("indexes = %+v, want the unique s and child_d (d, ts); not the partial one", ch.Indexes)
	}
	if fk := ch.ForeignKeys; len(fk) != 1 || fk[0].RefTable != "parent" || len(fk[0].RefColumns) != 2 || fk[0].RefColumns[0] != "b" || fk[0].RefColumns[1] != "a" {
		t.Errorf("foreign keys = %+v, want (p, s) → parent's key (b, a)", fk)
	}
	notes := c.Notes()
	if len(notes) != 2 {
		t.Errorf("notes = %+v, want the dropped default of odd and the partial index", notes)
	}
}

func TestCatalogRangesReadEveryRowOnceAndRejectMisfits(t *testing.T) {
	old := *sqlite.MinRangeRows
	*sqlite.MinRangeRows = 1000 // ranges of 1,000 rows and more: SQLite under -race is slow
	t.Cleanup(func() { *sqlite.MinRangeRows = old })
	c := catalogOf(t, `
		CREATE TABLE big (id INTEGER PRIMARY KEY, n INTEGER);
		WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 13000)
		INSERT INTO big SELECT i * 2, i FROM s;
		UPDATE big SET n = 'many' WHERE id = 10000;`)
	tables, err := c.Tables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ranges, err := c.Ranges(t.Context(), tables[0], 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 3 || ranges[0].From != nil || ranges[2].To != nil {
		t.Fatalf("ranges = %v, want 3, open at both ends", ranges)
	}
	seen := make(map[int64]bool)
	var bad []string
	for _, r := range ranges {
		rd, err := c.Open(t.Context(), tables[0], r)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]connect.Row, 1000)
		for {
			n, err := rd.Read(context.Background(), buf)
			for _, row := range buf[:n] {
				id := row.Values[0].Int()
				if seen[id] || row.Pos.Line != id {
					t.Fatalf("row %d read twice, or at Pos %v", id, row.Pos)
				}
				seen[id] = true
			}
			var b *weir.BadRecordError
			if errors.As(err, &b) {
				bad = append(bad, b.Pos)
				continue
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rd.Close(t.Context())
	}
	if len(seen) != 13000-1 || len(bad) != 1 || bad[0] != "big:10000" {
		t.Errorf("read %d rows and bad %v; want every row but the misfit big:10000", len(seen), bad)
	}
}
