package postgres_test

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

// typesDDL has a column of every type RowSink encodes in binary.
const typesDDL = `CREATE EXTENSION IF NOT EXISTS citext;
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE types (id bigint PRIMARY KEY, b boolean, i2 smallint, i4 integer, i8 bigint,
	f4 real, f8 double precision, n numeric, nneg numeric(10, -2), t text, vc varchar(5), bp char(3),
	nm name, ci citext, d date, ts timestamp, tz timestamptz, j json, jb jsonb, by bytea, u uuid, dom posint)`

var typesColumns = []string{"id", "b", "i2", "i4", "i8", "f4", "f8", "n", "nneg", "t", "vc", "bp", "nm", "ci",
	"d", "ts", "tz", "j", "jb", "by", "u", "dom"}

// typeCase is one value written to one column, and what reading it back
// must give.
type typeCase struct {
	col  string
	in   connect.Value
	want connect.Value // zero: in itself, unless null is set
	null bool          // want NULL
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t
}

func typeCases() []typeCase {
	big := strings.Repeat("é日x\t\\\n", 1<<20/8)
	return []typeCase{
		{col: "b", in: connect.Bool(true)}, {col: "b", in: connect.Bool(false)},
		{col: "i2", in: connect.Int32(-32768)}, {col: "i2", in: connect.Int64(32767), want: connect.Int32(32767)},
		{col: "i4", in: connect.Int32(math.MinInt32)}, {col: "i4", in: connect.Int64(math.MaxInt32), want: connect.Int32(math.MaxInt32)},
		{col: "i8", in: connect.Int64(math.MinInt64)}, {col: "i8", in: connect.Int32(7), want: connect.Int64(7)},
		{col: "f4", in: connect.Float64(1.5)}, {col: "f4", in: connect.Int32(-3), want: connect.Float64(-3)},
		{col: "f8", in: connect.Float64(math.Pi)}, {col: "f8", in: connect.Float64(math.Inf(-1))},
		{col: "f8", in: connect.Float64(-0.0)}, {col: "f8", in: connect.Int64(1 << 53), want: connect.Float64(1 << 53)},
		{col: "n", in: connect.Numeric("-123456789012345678901234567890.123456789012345678901234567890")},
		{col: "n", in: connect.Numeric("0.000000015")}, {col: "n", in: connect.Numeric("12.50")},
		{col: "n", in: connect.Numeric("1e3"), want: connect.Numeric("1000")},
		{col: "n", in: connect.Numeric("1.5E-7"), want: connect.Numeric("0.00000015")},
		{col: "n", in: connect.Numeric("-0.00"), want: connect.Numeric("0.00")},
		{col: "n", in: connect.Numeric("100000000"), want: connect.Numeric("100000000")},
		{col: "n", in: connect.Numeric("NaN")}, {col: "n", in: connect.Numeric("-Infinity")},
		{col: "n", in: connect.Int64(math.MinInt64), want: connect.Numeric("-9223372036854775808")},
		{col: "n", in: connect.Float64(0.1), want: connect.Numeric("0.1")},
		{col: "n", in: connect.Float64(1e300), want: connect.Numeric("1" + strings.Repeat("0", 300))},
		{col: "nneg", in: connect.Numeric("123456"), want: connect.Numeric("123500")},
		{col: "t", in: connect.Text("")}, {col: "t", in: connect.Text("Grüße, 世界 🌍")}, {col: "t", in: connect.Text(big)},
		{col: "t", in: connect.Numeric("1.50"), want: connect.Text("1.50")}, {col: "t", in: connect.JSON(`{"a":1}`), want: connect.Text(`{"a":1}`)},
		{col: "vc", in: connect.Text("héllo")}, {col: "bp", in: connect.Text("ab"), want: connect.Text("ab ")},
		{col: "nm", in: connect.Text("a_name")}, {col: "ci", in: connect.Text("MiXeD")},
		{col: "d", in: connect.Date(at("1969-12-31 00:00:00"))}, {col: "d", in: connect.Date(at("0001-01-01 00:00:00").AddDate(-100, 0, 0))},
		{col: "d", in: connect.Date(at("9999-12-31 00:00:00").AddDate(100000, 0, 0))},
		{col: "ts", in: connect.Timestamp(at("1900-02-28 23:59:59.999999"))}, {col: "ts", in: connect.Timestamp(at("2000-01-01 00:00:00"))},
		{col: "ts", in: connect.Timestamp(at("9999-12-31 00:00:00").AddDate(200000, 0, 0))},
		{col: "ts", in: connect.Timestamp(at("0001-01-01 00:00:00").AddDate(-3000, 0, 0))},
		{col: "tz", in: connect.TimestampTZ(at("1969-07-20 20:17:40.000001"))}, {col: "tz", in: connect.TimestampTZ(at("2262-04-11 23:47:16.854775"))},
		{col: "j", in: connect.JSON(`{"b": [1, 2.50, "ü"], "a": null}`)}, {col: "jb", in: connect.JSON(`{"a": [1, "x"]}`)},
		{col: "by", in: connect.Bytes([]byte{0, 1, 0xff, '\\', '\n'})}, {col: "by", in: connect.Bytes(nil)},
		{col: "u", in: connect.Text("{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"), want: connect.Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
		{col: "u", in: connect.Text("a0eebc999c0b4ef8bb6d6bb9bd380a12"), want: connect.Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12")},
		{col: "dom", in: connect.Int32(5)},
		{col: "t", in: connect.Null(), null: true}, {col: "n", in: connect.Null(), null: true}, {col: "jb", in: connect.Null(), null: true},
	}
}

// caseRows makes one row per case: the id, the case's value in its
// column, NULL elsewhere.
func caseRows(t *testing.T, cols []string, cases []typeCase) []connect.Row {
	t.Helper()
	rows := make([]connect.Row, len(cases))
	for i, c := range cases {
		vals := make([]connect.Value, len(cols))
		vals[0] = connect.Int64(int64(i + 1))
		j := indexOf(cols, c.col)
		if j < 0 {
			t.Fatalf("case %d: no column %q", i, c.col)
		}
		vals[j] = c.in
		rows[i] = connect.Row{Values: vals, Pos: connect.Pos{Name: "cases", Line: int64(i + 1)}}
	}
	return rows
}

func indexOf(cols []string, c string) int {
	for i, n := range cols {
		if n == c {
			return i
		}
	}
	return -1
}

// sameValue reports whether a and b are the same value (NaN equal to NaN).
func sameValue(a, b connect.Value) bool {
	if a.Type() == connect.TypeFloat64 && b.Type() == connect.TypeFloat64 && math.IsNaN(a.Float()) && math.IsNaN(b.Float()) {
		return a.IsNull() == b.IsNull()
	}
	return a == b
}

// readRows reads src to the end in reads of n rows.
func readRows(t *testing.T, src *postgres.RowSource, n int) []connect.Row {
	t.Helper()
	var out []connect.Row
	buf := make([]connect.Row, n)
	for {
		k, err := src.Read(t.Context(), buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func readTable(t *testing.T, pool *pgxpool.Pool, table string) []connect.Row {
	t.Helper()
	src, err := postgres.NewRowSource(t.Context(), pool, postgres.RowSourceConfig{Table: table, PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return readRows(t, src, 5)
}

func TestRowsRoundTripEveryType(t *testing.T) {
	pool := newDB(t, typesDDL)
	cases := typeCases()
	sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: connect.Table{Name: "types", Columns: typesColumns}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(t.Context(), caseRows(t, typesColumns, cases)); err != nil {
		t.Fatal(err)
	}
	if sink.Rows() != int64(len(cases)) {
		t.Errorf("Rows() = %d, want %d", sink.Rows(), len(cases))
	}
	got := readTable(t, pool, "types")
	if len(got) != len(cases) {
		t.Fatalf("read %d rows, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		j := indexOf(typesColumns, c.col)
		want := c.want
		if want == (connect.Value{}) && !c.null {
			want = c.in
		}
		if v := got[i].Values[j]; !sameValue(v, want) {
			t.Errorf("case %d, column %s: wrote %.80v, read %.80v (%v), want %.80v (%v)", i, c.col, c.in, v, v.Type(), want, want.Type())
		}
		for k, v := range got[i].Values {
			if k != 0 && k != j && !v.IsNull() {
				t.Errorf("case %d: column %s = %v, want NULL", i, typesColumns[k], v)
			}
		}
		if got[i].Pos != (connect.Pos{Name: "types", Line: int64(i + 1)}) {
			t.Errorf("row %d: Pos = %v, want types:%d", i, got[i].Pos, i+1)
		}
	}
	// The server's own reading of what the sink wrote, for values whose
	// text the source could get wrong the same way as the sink.
	for _, q := range []struct{ sql, want string }{
		{`SELECT n::text FROM types WHERE n < -1e20`, "-123456789012345678901234567890.123456789012345678901234567890"},
		{`SELECT d::text FROM types WHERE d < '0001-01-01'`, "0100-01-01 BC"},
		{`SELECT ts::text FROM types WHERE ts BETWEEN '1900-01-01' AND '1901-01-01'`, "1900-02-28 23:59:59.999999"},
		{`SELECT by::text FROM types WHERE length(by) = 5`, `\x0001ff5c0a`},
		{`SELECT count(*)::text FROM types WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'`, "1"},
	} {
		var s string
		if err := pool.QueryRow(t.Context(), q.sql).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		if s != q.want {
			t.Errorf("%s = %q, want %q", q.sql, s, q.want)
		}
	}
}

func TestRowSourceColumnsAreTyped(t *testing.T) {
	pool := newDB(t, typesDDL)
	src, err := postgres.NewRowSource(t.Context(), pool, postgres.RowSourceConfig{Table: "types"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]connect.Type{"id": connect.TypeInt64, "b": connect.TypeBool, "i2": connect.TypeInt32, "i4": connect.TypeInt32,
		"f4": connect.TypeFloat64, "n": connect.TypeNumeric, "vc": connect.TypeText, "d": connect.TypeDate, "ts": connect.TypeTimestamp,
		"tz": connect.TypeTimestampTZ, "j": connect.TypeJSON, "jb": connect.TypeJSON, "by": connect.TypeBytes, "u": connect.TypeText}
	cols := src.Columns()
	if len(cols) != len(typesColumns) {
		t.Fatalf("Columns() = %v, want %d columns", cols, len(typesColumns))
	}
	for i, c := range cols {
		if c.Name != typesColumns[i] {
			t.Errorf("column %d is %q, want %q", i, c.Name, typesColumns[i])
		}
		if w, ok := want[c.Name]; ok && c.Type != w {
			t.Errorf("column %s has type %v, want %v", c.Name, c.Type, w)
		}
	}
}

// TestRowSinkRefusesMisfits checks that a value of the wrong type, or out
// of its column's range, fails the batch naming the row's position and
// the column, and loads nothing of it.
func TestRowSinkRefusesMisfits(t *testing.T) {
	pool := newDB(t, typesDDL)
	sink, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: connect.Table{Name: "types", Columns: typesColumns}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		c     typeCase
		wants []string
	}{
		{"text into integer", typeCase{col: "i4", in: connect.Text("12")}, []string{`column "i4" (integer)`, `text value does not fit: "12"`}},
		{"bigint past smallint", typeCase{col: "i2", in: connect.Int64(40000)}, []string{`column "i2" (smallint)`, "40000 is out of range for smallint"}},
		{"double into integer", typeCase{col: "i8", in: connect.Float64(1)}, []string{`column "i8"`, "double value does not fit"}},
		{"inexact integer into real", typeCase{col: "f4", in: connect.Int64(1<<24 + 1)}, []string{`column "f4" (real)`, "no exact floating-point"}},
		{"text into date", typeCase{col: "d", in: connect.Text("2024-01-01")}, []string{`column "d" (date)`}},
		{"timestamptz into timestamp", typeCase{col: "ts", in: connect.TimestampTZ(at("2024-01-01 00:00:00"))}, []string{`column "ts"`}},
		{"bad numeric", typeCase{col: "n", in: connect.Numeric("12a4")}, []string{`column "n" (numeric)`, `"12a4" is not a number`}},
		{"bad uuid", typeCase{col: "u", in: connect.Text("a0eebc99-9c0b")}, []string{`column "u" (uuid)`, "is not a UUID"}},
		{"invalid UTF-8", typeCase{col: "t", in: connect.Text("a\xffb")}, []string{`column "t" (text)`, "not valid UTF-8"}},
		{"NUL byte", typeCase{col: "t", in: connect.Text("a\x00b")}, []string{`column "t" (text)`, "NUL byte"}},
		// The server refuses these: its COPY line names the row.
		{"too long for varchar", typeCase{col: "vc", in: connect.Text("abcdef")}, []string{"22001", "cases:3"}},
		{"out of numeric's precision", typeCase{col: "nneg", in: connect.Numeric("1e20")}, []string{"22003", "cases:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := caseRows(t, typesColumns, []typeCase{{col: "b", in: connect.Bool(true)}, {col: "b", in: connect.Bool(true)}, tc.c, {col: "b", in: connect.Bool(true)}})
			err := sink.Write(t.Context(), rows)
			var re *weir.RecordError
			if !errors.As(err, &re) || re.Index != 2 {
				t.Fatalf("Write = %v, want a *weir.RecordError for record 2", err)
			}
			for _, w := range append(tc.wants, "cases:3", "types") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if n := count(t, pool, `SELECT count(*) FROM types`); n != 0 {
				t.Errorf("%d rows loaded from a failed batch", n)
			}
		})
	}
	t.Run("a row of the wrong width", func(t *testing.T) {
		err := sink.Write(t.Context(), []connect.Row{{Values: []connect.Value{connect.Int64(1)}, Pos: connect.Pos{Name: "f.csv", Line: 9}}})
		if err == nil || !strings.Contains(err.Error(), "f.csv:9") || !strings.Contains(err.Error(), "1 values for 22 columns") {
			t.Errorf("Write = %v, want an error naming f.csv:9 and the widths", err)
		}
	})
	t.Run("a missing column", func(t *testing.T) {
		s, err := postgres.NewRowSink(pool, postgres.RowSinkConfig{Table: connect.Table{Name: "types", Columns: []string{"id", "nope"}}})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Write(t.Context(), []connect.Row{{Values: []connect.Value{connect.Int64(1), connect.Null()}}})
		if err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
			t.Errorf("Write = %v, want an error naming column nope", err)
		}
	})
}
