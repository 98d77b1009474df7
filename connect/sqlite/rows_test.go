package sqlite_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/sqlite"
)

// allCols has a column of every connect.Type, keyed by id.
var allCols = []connect.Column{
	{Name: "id", Type: connect.TypeInt64},
	{Name: "txt", Type: connect.TypeText},
	{Name: "ok", Type: connect.TypeBool},
	{Name: "i32", Type: connect.TypeInt32},
	{Name: "f", Type: connect.TypeFloat64},
	{Name: "num", Type: connect.TypeNumeric},
	{Name: "day", Type: connect.TypeDate},
	{Name: "at", Type: connect.TypeTimestamp},
	{Name: "attz", Type: connect.TypeTimestampTZ},
	{Name: "doc", Type: connect.TypeJSON},
	{Name: "bin", Type: connect.TypeBytes},
}

func colNames(cols []connect.Column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

var allTable = connect.Table{Name: "all", Columns: colNames(allCols), Key: []string{"id"}}

// openAll returns a database holding an empty table "all" made by
// CreateTable.
func openAll(t testing.TB) *sql.DB {
	t.Helper()
	db := openDB(t, "")
	if err := sqlite.CreateTable(context.Background(), db, "all", allCols, []string{"id"}); err != nil {
		t.Fatal(err)
	}
	return db
}

func row(line int64, vals ...connect.Value) connect.Row {
	return connect.Row{Values: vals, Pos: connect.Pos{Name: "in.csv", Line: line}}
}

// edgeRows are rows of every type at the edges SQLite could bend: the
// extremes of each range, exact decimals a REAL would round, JSON numbers
// NUMERIC affinity would rewrite, Unicode, NUL bytes, NULLs.
func edgeRows() []connect.Row {
	paris := time.FixedZone("Paris", 3600)
	return []connect.Row{
		row(1, connect.Int64(1), connect.Text("héllo wörld ✓ 日本語 🎉"), connect.Bool(true), connect.Int32(math.MaxInt32),
			connect.Float64(0.1), connect.Numeric("12.50"), connect.Date(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)),
			connect.Timestamp(time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)),
			connect.TimestampTZ(time.Date(2024, 1, 2, 3, 4, 5, 1000, paris)),
			connect.JSON(`{"a":[1,2.50,"ü"],"b":null}`), connect.Bytes([]byte{0, 1, 0xfe, 0xff})),
		row(2, connect.Int64(math.MinInt64), connect.Text(""), connect.Bool(false), connect.Int32(math.MinInt32),
			connect.Float64(math.Inf(-1)), connect.Numeric("-123456789012345678901234567890.000000001"),
			connect.Date(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)),
			connect.Timestamp(time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)),
			connect.TimestampTZ(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)),
			connect.JSON(`1.50`), connect.Bytes([]byte{})),
		row(3, connect.Int64(math.MaxInt64), connect.Text("a\x00b \"quoted\" 'single'\n"), connect.Null(), connect.Int32(0),
			connect.Float64(-0.0000123e-300), connect.Numeric("1e3"), connect.Date(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)),
			connect.Timestamp(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)),
			connect.TimestampTZ(time.Date(2262, 4, 11, 23, 47, 16, 854775000, time.UTC)),
			connect.JSON(`"12345678901234567890"`), connect.Null()),
		row(4, connect.Int64(4), connect.Null(), connect.Null(), connect.Null(), connect.Null(), connect.Null(),
			connect.Null(), connect.Null(), connect.Null(), connect.Null(), connect.Null()),
		row(5, connect.Int64(5), connect.Text("12"), connect.Bool(true), connect.Int32(-1),
			connect.Float64(math.MaxFloat64), connect.Numeric("007.10"), connect.Date(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)),
			connect.Timestamp(time.Date(2024, 6, 1, 12, 0, 0, 1000, time.UTC)),
			connect.TimestampTZ(time.Date(2024, 6, 1, 12, 0, 0, 0, time.FixedZone("", -7*3600))),
			connect.JSON(`[]`), connect.Bytes([]byte("text-like"))),
	}
}

// sameRow reports whether two rows hold the same values, ignoring Pos.
func sameRow(a, b connect.Row) bool { return reflect.DeepEqual(a.Values, b.Values) }

// readRows reads a whole RowSource.
func readRows(t testing.TB, db *sql.DB, cfg sqlite.RowSourceConfig) []connect.Row {
	t.Helper()
	src, err := sqlite.NewRowSource(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	got, err := readAll(t, src, 3)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func writeRows(t testing.TB, db *sql.DB, cfg sqlite.RowSinkConfig, batches ...[]connect.Row) *sqlite.RowSink {
	t.Helper()
	sink, err := sqlite.NewRowSink(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close(context.Background()) })
	for _, b := range batches {
		if err := sink.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return sink
}

func TestRowsRoundTripEveryType(t *testing.T) {
	db := openAll(t)
	want := edgeRows()
	slices.SortFunc(want, func(a, b connect.Row) int { return cmp.Compare(a.Values[0].Int(), b.Values[0].Int()) })
	sink := writeRows(t, db, sqlite.RowSinkConfig{Table: allTable}, want[:2], want[2:])
	if sink.Rows() != int64(len(want)) {
		t.Errorf("Rows() = %d, want %d", sink.Rows(), len(want))
	}
	for _, cfg := range []sqlite.RowSourceConfig{
		{Table: "all"},
		{Table: "all", Key: []string{"id"}},
		{Query: `SELECT * FROM "all"`, Key: []string{"id"}},
		{Query: `SELECT * FROM "all" ORDER BY id`},
	} {
		got := readRows(t, db, cfg)
		slices.SortFunc(got, func(a, b connect.Row) int { return cmp.Compare(a.Values[0].Int(), b.Values[0].Int()) })
		if len(got) != len(want) {
			t.Fatalf("%+v: read %d rows, want %d", cfg, len(got), len(want))
		}
		for i := range want {
			for j, c := range allCols {
				if g, w := got[i].Values[j], want[i].Values[j]; !reflect.DeepEqual(g, w) {
					t.Errorf("%+v: row %d column %s = %v (%v), want %v (%v)", cfg, i+1, c.Name, g, g.Type(), w, w.Type())
				}
			}
		}
	}
}

func TestRowSinkStoredForms(t *testing.T) {
	db := openAll(t)
	writeRows(t, db, sqlite.RowSinkConfig{Table: allTable}, edgeRows()[:1])
	// What other SQLite programs see: the documented storage class and text.
	for _, c := range []struct{ expr, want string }{
		{"typeof(ok) || ' ' || ok", "integer 1"},
		{"typeof(i32) || ' ' || i32", "integer 2147483647"},
		{"typeof(f)", "real"},
		{"typeof(num) || ' ' || num", "text 12.50"},
		{"typeof(day) || ' ' || day", "text 2024-02-29"},
		{"typeof(at) || ' ' || at", "text 2024-01-02 03:04:05.123456"},
		{"typeof(attz) || ' ' || attz", "text 2024-01-02 02:04:05.000001+00:00"},
		{"datetime(attz)", "2024-01-02 02:04:05"},
		{"date(day, '+1 day')", "2024-03-01"},
		{"typeof(doc) || ' ' || json_extract(doc, '$.a[1]')", "text 2.5"},
		{"typeof(bin) || ' ' || hex(bin)", "blob 0001FEFF"},
	} {
		var got string
		if err := db.QueryRow(`SELECT ` + c.expr + ` FROM "all"`).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestRowSinkConflicts(t *testing.T) {
	cols := []connect.Column{{Name: "id", Type: connect.TypeInt64}, {Name: "v", Type: connect.TypeText}}
	tbl := connect.Table{Name: "kv", Columns: []string{"id", "v"}, Key: []string{"id"}}
	kv := func(id int64, v string) connect.Row { return row(id, connect.Int64(id), connect.Text(v)) }
	for _, c := range []struct {
		on   connect.Conflict
		want []connect.Row // after loading {1 a, 2 b}, then {2 B, 3 c, 3 C}
		rows int64
		err  bool
	}{
		{connect.ConflictError, []connect.Row{kv(1, "a"), kv(2, "b")}, 2, true},
		{connect.ConflictIgnore, []connect.Row{kv(1, "a"), kv(2, "b"), kv(3, "c")}, 3, false},
		{connect.ConflictUpdate, []connect.Row{kv(1, "a"), kv(2, "B"), kv(3, "C")}, 5, false},
	} {
		t.Run(c.on.String(), func(t *testing.T) {
			db := openDB(t, "")
			if err := sqlite.CreateTable(t.Context(), db, "kv", cols, []string{"id"}); err != nil {
				t.Fatal(err)
			}
			sink := writeRows(t, db, sqlite.RowSinkConfig{Table: tbl, OnConflict: c.on}, []connect.Row{kv(1, "a"), kv(2, "b")})
			err := sink.Write(t.Context(), []connect.Row{kv(2, "B"), kv(3, "c"), kv(3, "C")})
			if (err != nil) != c.err {
				t.Fatalf("second Write = %v, want an error: %v", err, c.err)
			}
			if c.err && !strings.Contains(err.Error(), "UNIQUE constraint failed") {
				t.Errorf("error %q does not say which constraint", err)
			}
			got := readRows(t, db, sqlite.RowSourceConfig{Table: "kv"})
			if !reflect.DeepEqual(values(got), values(c.want)) {
				t.Errorf("table holds %v, want %v", values(got), values(c.want))
			}
			if sink.Rows() != c.rows {
				t.Errorf("Rows() = %d, want %d", sink.Rows(), c.rows)
			}
		})
	}
}

func values(rows []connect.Row) [][]connect.Value {
	out := make([][]connect.Value, len(rows))
	for i, r := range rows {
		out[i] = r.Values
	}
	return out
}

func TestRowSinkRejectsRow(t *testing.T) {
	tbl := connect.Table{Name: "m", Columns: []string{"id", "f"}}
	for _, c := range []struct {
		name string
		bad  connect.Row
		want string
	}{
		{"NaN, which SQLite stores as NULL", row(7, connect.Int64(2), connect.Float64(math.NaN())), `m: in.csv:7: column "f": NaN`},
		{"too few values", row(7, connect.Int64(2)), "m: in.csv:7: 1 values for 2 columns"},
		{"too many values", row(7, connect.Int64(2), connect.Null(), connect.Null()), "m: in.csv:7: 3 values for 2 columns"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t, "CREATE TABLE m (id INTEGER, f REAL)")
			sink := writeRows(t, db, sqlite.RowSinkConfig{Table: tbl})
			batch := []connect.Row{row(6, connect.Int64(1), connect.Float64(1)), c.bad, row(8, connect.Int64(3), connect.Null())}
			err := sink.Write(t.Context(), batch)
			var re *weir.RecordError
			if !errors.As(err, &re) || re.Index != 1 {
				t.Fatalf("Write = %v, want a *weir.RecordError for record 1", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Write = %q, want it to contain %q", err, c.want)
			}
			if n := queryInt(t, db, "SELECT count(*) FROM m"); n != 0 {
				t.Errorf("the failed batch left %d rows", n)
			}
		})
	}
}

func TestRowConfigValidate(t *testing.T) {
	keyless := connect.Table{Name: "t", Columns: []string{"a"}}
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "row sink: good", Config: sqlite.RowSinkConfig{Table: allTable, OnConflict: connect.ConflictUpdate}},
		{Name: "row sink: ConflictIgnore without Key", Config: sqlite.RowSinkConfig{Table: keyless, OnConflict: connect.ConflictIgnore}},
		{Name: "row sink: zero", Config: sqlite.RowSinkConfig{}, Want: []string{
			"sqlite: RowSinkConfig.Table.Name is required", "sqlite: RowSinkConfig.Table.Columns is required"}},
		{Name: "row sink: ConflictUpdate without Key", Config: sqlite.RowSinkConfig{Table: keyless, OnConflict: connect.ConflictUpdate},
			Want: []string{"sqlite: RowSinkConfig.Table.Key is required"}},
		{Name: "row sink: bad fields", Config: sqlite.RowSinkConfig{Table: connect.Table{Name: "t", Columns: []string{"a", "a"}}, OnConflict: 9, RowsPerStatement: -1},
			Want: []string{`sqlite: RowSinkConfig.Table.Columns lists "a" twice`, "sqlite: RowSinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(9)",
				"sqlite: RowSinkConfig.RowsPerStatement must be >= 0"}},

		{Name: "row source: table", Config: sqlite.RowSourceConfig{Table: "t", After: []any{int64(5)}}},
		{Name: "row source: query by key", Config: sqlite.RowSourceConfig{Query: "SELECT 1 AS a", Key: []string{"a"}, After: []any{1}, PageSize: 10}},
		{Name: "row source: query in one pass", Config: sqlite.RowSourceConfig{Query: "SELECT 1"}},
		{Name: "row source: zero", Config: sqlite.RowSourceConfig{}, Want: []string{"sqlite: RowSourceConfig needs Table or Query"}},
		{Name: "row source: both", Config: sqlite.RowSourceConfig{Table: "t", Query: "SELECT 1"}, Want: []string{"sqlite: RowSourceConfig has both Table and Query"}},
		{Name: "row source: bad key", Config: sqlite.RowSourceConfig{Table: "t", Key: []string{"a", "", "a"}, After: []any{1}, PageSize: -1},
			Want: []string{"sqlite: RowSourceConfig.Key has an empty name", `sqlite: RowSourceConfig.Key lists "a" twice`,
				"sqlite: RowSourceConfig.After has 1 values for a key of 3 columns", "sqlite: RowSourceConfig.PageSize must be >= 0"}},
		{Name: "row source: rowid is one value", Config: sqlite.RowSourceConfig{Table: "t", After: []any{1, 2}},
			Want: []string{"sqlite: RowSourceConfig.After has 2 values for a key of 1 columns"}},
		{Name: "row source: one-pass query", Config: sqlite.RowSourceConfig{Query: "SELECT 1;", After: []any{1}},
			Want: []string{"sqlite: RowSourceConfig.Query must not end with ';'", "sqlite: RowSourceConfig.After needs Key"}},
	})
	if _, err := sqlite.NewRowSink(nil, sqlite.RowSinkConfig{Table: allTable}); err == nil {
		t.Error("NewRowSink(nil db) = nil error")
	}
	if _, err := sqlite.NewRowSource(t.Context(), nil, sqlite.RowSourceConfig{Table: "t"}); err == nil {
		t.Error("NewRowSource(nil db) = nil error")
	}
}

func TestRowSinkClosed(t *testing.T) {
	db := openAll(t)
	sink := writeRows(t, db, sqlite.RowSinkConfig{Table: allTable})
	if err := sink.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(t.Context(), edgeRows()); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}
