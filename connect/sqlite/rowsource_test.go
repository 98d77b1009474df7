package sqlite_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

func TestRowSourceMisfitIsAnError(t *testing.T) {
	for _, c := range []struct {
		decl, stored string // a column's declared type and an SQL literal it holds
		want         string // the error's end
	}{
		{"INTEGER", "'abc'", `column "x": TEXT "abc" is not a bigint`},
		{"INTEGER", "1.5", `column "x": REAL 1.5 is not a bigint`},
		{"INT4", "4294967296", `column "x": INTEGER 4294967296 is not a integer`},
		{"REAL", "'x'", `column "x": TEXT "x" is not a double`},
		{"BOOLEAN", "2", `column "x": INTEGER 2 is not a boolean`},
		{"BOOLEAN", "'true'", `column "x": TEXT "true" is not a boolean`},
		{"NUMERIC_TEXT", "'12a4'", `column "x": TEXT "12a4" is not a numeric`},
		{"DATE", "'yesterday'", `column "x": TEXT "yesterday" is not a date`},
		{"DATE", "'2024-01-02 03:04'", `column "x": TEXT "2024-01-02 03:04:00+00:00" is not a date`},
		{"DATE", "20240102", `column "x": INTEGER 20240102 is not a date`},
		{"TIMESTAMP", "'noon'", `column "x": TEXT "noon" is not a timestamp`},
		{"TIMESTAMPTZ", "'2024-13-01 00:00:00'", `column "x": TEXT "2024-13-01 00:00:00" is not a timestamptz`},
		{"JSON_TEXT", "'{bad'", `column "x": TEXT "{bad" is not a json`},
		{"JSON_TEXT", "x'00'", `column "x": a BLOB of 1 bytes is not a json`},
		{"BLOB", "1", `column "x": INTEGER 1 is not a bytes`},
	} {
		t.Run(c.decl+" "+c.stored, func(t *testing.T) {
			db := openDB(t, "CREATE TABLE m (x "+c.decl+"); INSERT INTO m VALUES (NULL), (NULL), ("+c.stored+"), (NULL)")
			src, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Table: "m"})
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]connect.Row, 10)
			n, err := src.Read(t.Context(), buf)
			if n != 2 || err == nil || !strings.HasSuffix(err.Error(), "sqlite: read m: rowid 3: "+c.want) {
				t.Fatalf("Read = %d, %v; want the 2 rows before rowid 3, then an error ending %q", n, err, "sqlite: read m: rowid 3: "+c.want)
			}
			// The bad row is not passed over: the next Read fails on it again.
			if n, err2 := src.Read(t.Context(), buf); n != 0 || err2 == nil || err2.Error() != err.Error() {
				t.Errorf("next Read = %d, %v; want 0 and the same error", n, err2)
			}
			if key := src.LastKey(); !reflect.DeepEqual(key, []any{int64(2)}) {
				t.Errorf("LastKey = %v, want [2]", key)
			}
		})
	}
}

func TestRowSourceTextTakesAnything(t *testing.T) {
	db := openDB(t, `CREATE TABLE m (x VARCHAR(5), y);
		INSERT INTO m VALUES (12, 1.5), (x'C3A9', 'abc'), (-0.5, x'00ff'), ('long text', NULL)`)
	got := readRows(t, db, sqlite.RowSourceConfig{Table: "m"})
	want := [][]connect.Value{
		{connect.Text("12"), connect.Text("1.5")},
		{connect.Text("é"), connect.Text("abc")},
		{connect.Text("-0.5"), connect.Text("\x00\xff")},
		{connect.Text("long text"), connect.Null()},
	}
	if !reflect.DeepEqual(values(got), want) {
		t.Errorf("read %v, want %v", values(got), want)
	}
}

func TestRowSourceColumnTypes(t *testing.T) {
	db := openDB(t, `CREATE TABLE m (a BIGINT, b SMALLINT, c INT4, d DOUBLE PRECISION, e FLOAT, f DECIMAL(10,2),
		g NUMERIC, h BOOL, i DATETIME, j TIMESTAMP WITH TIME ZONE, k date, l JSONB, m BLOB, n VARCHAR(3), o CLOB, p, q POINT)`)
	want := []connect.Type{connect.TypeInt64, connect.TypeInt64, connect.TypeInt32, connect.TypeFloat64, connect.TypeFloat64,
		connect.TypeNumeric, connect.TypeNumeric, connect.TypeBool, connect.TypeTimestamp, connect.TypeTimestampTZ,
		connect.TypeDate, connect.TypeJSON, connect.TypeBytes, connect.TypeText, connect.TypeText, connect.TypeText, connect.TypeInt64}
	check := func(what string, cols []connect.Column) {
		t.Helper()
		if len(cols) != len(want) {
			t.Fatalf("%s: %d columns, want %d", what, len(cols), len(want))
		}
		for i, c := range cols {
			if c.Type != want[i] {
				t.Errorf("%s: column %s is %v, want %v", what, c.Name, c.Type, want[i])
			}
		}
	}
	src, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Table: "m"})
	if err != nil {
		t.Fatal(err)
	}
	check("RowSource.Columns", src.Columns())
	cols, ok, err := sqlite.TableColumns(t.Context(), db, "m")
	if err != nil || !ok {
		t.Fatalf("TableColumns = %v, %v", ok, err)
	}
	check("TableColumns", cols)
	// A query's columns have their table's declared types, through a
	// subquery too; an expression has none, and reads as text.
	q, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Query: "SELECT c, k, c + 1 AS e FROM (SELECT * FROM m)"})
	if err != nil {
		t.Fatal(err)
	}
	wantQ := []connect.Column{{Name: "c", Type: connect.TypeInt32}, {Name: "k", Type: connect.TypeDate}, {Name: "e", Type: connect.TypeText}}
	if !reflect.DeepEqual(q.Columns(), wantQ) {
		t.Errorf("query Columns = %v, want %v", q.Columns(), wantQ)
	}
}

func TestRowSourcePos(t *testing.T) {
	db := openDB(t, "CREATE TABLE m (k TEXT PRIMARY KEY, v INTEGER); INSERT INTO m(rowid, k, v) VALUES (10, 'b', 1), (20, 'a', 2)")
	for _, c := range []struct {
		cfg  sqlite.RowSourceConfig
		want []connect.Pos
	}{
		{sqlite.RowSourceConfig{Table: "m"}, []connect.Pos{{Name: "m", Line: 10}, {Name: "m", Line: 20}}},
		{sqlite.RowSourceConfig{Table: "m", Key: []string{"k"}}, []connect.Pos{{Name: "m", Line: 1}, {Name: "m", Line: 2}}},
		{sqlite.RowSourceConfig{Query: "SELECT * FROM m"}, []connect.Pos{{Name: "query", Line: 1}, {Name: "query", Line: 2}}},
	} {
		var got []connect.Pos
		for _, r := range readRows(t, db, c.cfg) {
			got = append(got, r.Pos)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: Pos = %v, want %v", c.cfg, got, c.want)
		}
	}
}

func TestRowSourceOnePassQuery(t *testing.T) {
	db := seedKV(t, 100)
	src, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Query: "SELECT v, id FROM kv WHERE id % 2 = 0 ORDER BY id DESC"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	if _, err := src.Position(); err == nil || !strings.Contains(err.Error(), "set Key to resume it") {
		t.Errorf("Position = %v, want an error saying to set Key", err)
	}
	if err := src.Seek([]byte(`{"key":null}`)); err == nil {
		t.Error("Seek = nil, want an error")
	}
	got, err := readAll(t, src, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 || got[0].Values[1].Int() != 300 || got[49].Values[1].Int() != 6 {
		t.Errorf("read %d rows, from %v to %v; want 50 rows, ids 300 down to 6", len(got), got[0].Values, got[len(got)-1].Values)
	}
	if n, err := src.Read(t.Context(), make([]connect.Row, 3)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestRowSourceOnePassCancel(t *testing.T) {
	db := seedKV(t, 100)
	src, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Query: "SELECT * FROM kv"})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]connect.Row, 10)
	ctx, cancel := context.WithCancel(t.Context())
	if n, err := src.Read(ctx, buf); n != 10 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	cancel()
	// A Read given a cancelled context fails and takes no row...
	if n, err := src.Read(ctx, buf); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %d, %v; want 0, context.Canceled", n, err)
	}
	// ...and the cursor, opened under that context, outlives it: the next
	// Read goes on with the 11th row.
	if n, err := src.Read(t.Context(), buf); n != 10 || err != nil || buf[0].Values[0].Int() != 33 {
		t.Errorf("next Read = %d, %v, first id %v; want 10 rows from id 33", n, err, buf[0].Values[0])
	}
	if err := src.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Close released the connection the cursor held: without it, this
	// query would wait for it forever.
	if n := queryInt(t, db, "SELECT count(*) FROM kv"); n != 100 {
		t.Fatal(n)
	}
}

func TestNewRowSourceChecksTheDatabase(t *testing.T) {
	db := openDB(t, "CREATE TABLE w (a TEXT PRIMARY KEY) WITHOUT ROWID")
	for _, c := range []struct {
		cfg  sqlite.RowSourceConfig
		want string
	}{
		{sqlite.RowSourceConfig{}, "RowSourceConfig needs Table or Query"},
		{sqlite.RowSourceConfig{Table: "nope"}, "sqlite: read nope: SQL logic error: no such table: nope"},
		{sqlite.RowSourceConfig{Query: "SELECT nope"}, "sqlite: read query: SQL logic error: no such column: nope"},
		{sqlite.RowSourceConfig{Table: "w"}, "(a table without rowid needs RowSourceConfig.Key)"},
		{sqlite.RowSourceConfig{Table: "w", Key: []string{"b"}}, `sqlite: read w: RowSourceConfig.Key column "b" is not one of its columns`},
	} {
		if _, err := sqlite.NewRowSource(t.Context(), db, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewRowSource(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}

func TestRowSourceKeyReadAsStored(t *testing.T) {
	// Another program wrote the key in ISO 8601 with a T. The driver reads
	// it as a time.Time, which it would bind back as other text ("...
	// 03:00:00+00:00", with a space): the next page must start after the
	// text stored, not after that.
	db := openDB(t, `CREATE TABLE e (at TIMESTAMP PRIMARY KEY, n INTEGER);
		INSERT INTO e VALUES ('2024-01-02T01:00:00', 1), ('2024-01-02T02:00:00', 2), ('2024-01-02T03:00:00', 3),
			('2024-01-02T04:00:00', 4), ('2024-01-02T05:00:00', 5)`)
	src, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Table: "e", Key: []string{"at"}, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []connect.Row
	var ns []int64
	buf := make([]connect.Row, 2)
	for range 5 { // at most: a source that reads a row twice may never end
		n, err := src.Read(t.Context(), buf)
		for _, r := range buf[:n] {
			got = append(got, r)
			ns = append(ns, r.Values[1].Int())
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(ns, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("read rows %v, want 1 to 5 once each", ns)
	}
	if key := got[4].Values[0]; key.Type() != connect.TypeTimestamp || key.String() != "2024-01-02 05:00:00" {
		t.Errorf("last key column = %v (%v), want the timestamp 2024-01-02 05:00:00", key, key.Type())
	}
}

func TestRowSourceOnePassFailsForGood(t *testing.T) {
	db := openDB(t, "CREATE TABLE m (x INTEGER); INSERT INTO m VALUES (1), (2), ('three'), (4)")
	src, err := sqlite.NewRowSource(t.Context(), db, sqlite.RowSourceConfig{Query: "SELECT x FROM m"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	buf := make([]connect.Row, 10)
	n, err := src.Read(t.Context(), buf)
	const want = `sqlite: read query: row 3: column "x": TEXT "three" is not a bigint`
	if n != 2 || err == nil || err.Error() != want {
		t.Fatalf("Read = %d, %v; want 2 rows and %q", n, err, want)
	}
	// The cursor has passed the bad row: going on would skip it, and
	// starting over would load rows 1 and 2 twice.
	if n, err2 := src.Read(t.Context(), buf); n != 0 || err2 == nil || err2.Error() != want {
		t.Errorf("next Read = %d, %v; want 0 and the same error", n, err2)
	}
}
