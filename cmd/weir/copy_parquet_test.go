package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/internal/pgtest"
)

// CSV → Parquet → PostgreSQL lands the same rows, with the same column
// types, as CSV → PostgreSQL: the table checksums are equal.
func TestCopyCSVThroughParquetIntoPostgres(t *testing.T) {
	pg := pgtest.New(t)
	checkLeaks(t)
	csv := writeFile(t, "people.csv", messyCSV(strings.Repeat("é", 10_000)))
	pqPath := filepath.Join(t.TempDir(), "people.parquet")
	mustCopy(t, csv, pqPath)
	mustCopy(t, csv, pg.URL()+"&table=direct")
	out := mustCopy(t, pqPath, pg.URL()+"&table=via_parquet", "--verify")
	if !strings.Contains(out, "verified: ") {
		t.Errorf("output:\n%s", out)
	}
	pool := pg.Pool(t)
	ctx := context.Background()
	sum := func(table string) (types, rows string) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
			FROM information_schema.columns WHERE table_name = $1`, table).Scan(&types); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(ctx, `SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY id)) FROM `+table+` t`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		return types, rows
	}
	wantTypes, wantRows := sum("direct")
	gotTypes, gotRows := sum("via_parquet")
	if gotTypes != wantTypes {
		t.Errorf("through Parquet the columns are\n  %s\nwant\n  %s", gotTypes, wantTypes)
	}
	if gotRows != wantRows || !strings.HasPrefix(gotRows, "4:") {
		t.Errorf("through Parquet the rows' checksum is %s, want %s", gotRows, wantRows)
	}
}

type pqItem struct {
	ID     int64             `parquet:"id"`
	Price  int64             `parquet:"price,decimal(2:18)"`
	When   int64             `parquet:"when,timestamp(millisecond:utc)"`
	Label  *string           `parquet:"label,optional"`
	Tags   []string          `parquet:"tags,list"`
	Attrs  map[string]string `parquet:"attrs"`
	Origin *struct {
		City string `parquet:"city"`
		Zip  *int32 `parquet:"zip,optional"`
	} `parquet:"origin,optional"`
}

func TestCopyParquetIntoSQLite(t *testing.T) {
	checkLeaks(t)
	path := filepath.Join(t.TempDir(), "items.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	label := "first"
	items := []pqItem{
		{ID: 1, Price: 1250, When: 1700000000123, Label: &label, Tags: []string{"a", "b"}, Attrs: map[string]string{"k": "v"}},
		{ID: 2, Price: -5},
	}
	items[0].Origin = &struct {
		City string `parquet:"city"`
		Zip  *int32 `parquet:"zip,optional"`
	}{City: "Zürich"}
	w := pq.NewGenericWriter[pqItem](f, pq.MaxRowsPerRowGroup(1))
	if _, err := w.Write(items); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db := filepath.Join(t.TempDir(), "out.db")
	out := mustCopy(t, path, "sqlite:"+db, "--verify")
	if !strings.Contains(out, "table items: id bigint, price numeric, when timestamptz, label text, tags json, attrs json, origin json") {
		t.Errorf("output:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var got string
	if err := h.QueryRow(`SELECT group_concat(id || '|' || price || '|' || coalesce(label, 'NULL') || '|' || tags || '|' || attrs || '|' || coalesce(origin, 'NULL'), ' ; ') FROM (SELECT * FROM items ORDER BY id)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	want := `1|12.50|first|["a","b"]|{"k":"v"}|{"city":"Zürich","zip":null} ; 2|-0.05|NULL|[]|{}|NULL`
	if got != want {
		t.Errorf("rows\n  %s\nwant\n  %s", got, want)
	}
}

// A copy into a .parquet path that fails leaves the path as it was: no
// half file, no temporary file beside it.
func TestCopyIntoParquetFailingLeavesNoFile(t *testing.T) {
	checkLeaks(t)
	// The sample (1 record) makes n an integer; the second record is not.
	csv := writeFile(t, "bad.csv", "id,n\n1,5\n2,five\n")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.parquet")
	code, stdout, stderr := weirCmd(t, "copy", csv, out, "--sample", "1", "--progress", "off")
	if code == exitOK {
		t.Fatalf("exit 0, want a failure\n%s", stdout)
	}
	if !strings.Contains(stderr, "bad.csv:3") {
		t.Errorf("stderr does not name the bad record: %s", stderr)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("after the failed copy %s holds %v, want nothing", dir, es)
	}
	// An existing file is kept as it was.
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	weirCmd(t, "copy", csv, out, "--sample", "1", "--if-exists", "replace", "--progress", "off")
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("after a failed --if-exists replace the file holds %q, want the old one", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("after the failed copy %s holds %v, want out.parquet only", dir, es)
	}
}
