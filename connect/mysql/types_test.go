package mysql_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/mysql"
	"github.com/weir-etl/weir/internal/mariatest"
)

// TestTypes reads mariatest's all_types table and checks every column's
// PostgreSQL type and every value exactly: minimums, maximums, NULLs, zero
// dates and oddities.
func TestTypes(t *testing.T) {
	src, _ := shop(t, mariatest.GenOptions{Rows: 100, AllTypes: true}, mysql.Config{})
	tb := table(t, src, "all_types")
	rows := readAll(t, src, tb, catalog.Range{})
	if len(rows) != 5 {
		t.Fatalf("read %d rows, want 5", len(rows))
	}
	null := connect.Null()
	date := func(y, m, d int) connect.Value {
		return connect.Date(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC))
	}
	ts := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	i32, i64, num, txt := connect.Int32, connect.Int64, connect.Numeric, connect.Text
	f32 := func(f float32) connect.Value { return connect.Float64(float64(f)) }
	bs := func(b ...byte) connect.Value { return connect.Bytes(b) }
	// column: PostgreSQL type, then the values of rows 1, 2, 4 and 5 (row 3 is all NULL).
	want := map[string]struct {
		pg   string
		vals [4]connect.Value
	}{
		"id":  {"integer", [4]connect.Value{i32(1), i32(2), i32(4), i32(5)}},
		"ti":  {"smallint", [4]connect.Value{i32(-128), i32(127), i32(1), null}},
		"tiu": {"smallint", [4]connect.Value{i32(0), i32(255), i32(1), null}},
		"si":  {"smallint", [4]connect.Value{i32(-32768), i32(32767), i32(1), null}},
		"siu": {"integer", [4]connect.Value{i32(0), i32(65535), i32(1), null}},
		"mi":  {"integer", [4]connect.Value{i32(-8388608), i32(8388607), i32(1), null}},
		"miu": {"integer", [4]connect.Value{i32(0), i32(16777215), i32(1), null}},
		"i":   {"integer", [4]connect.Value{i32(math.MinInt32), i32(math.MaxInt32), i32(1), null}},
		"iu":  {"bigint", [4]connect.Value{i64(0), i64(math.MaxUint32), i64(1), null}},
		"bi":  {"bigint", [4]connect.Value{i64(math.MinInt64), i64(math.MaxInt64), i64(1), null}},
		"biu": {"numeric(20,0)", [4]connect.Value{num("0"), num("18446744073709551615"), num("1"), null}},
		"b":   {"boolean", [4]connect.Value{connect.Bool(false), connect.Bool(true), connect.Bool(true), connect.Bool(true)}},
		"d":   {"numeric(30,10)", [4]connect.Value{num("-99999999999999999999.9999999999"), num("99999999999999999999.9999999999"), num("0.5000000000"), null}},
		"f":   {"real", [4]connect.Value{f32(-3.5), f32(3.4e38), f32(1), null}},
		"db":  {"double precision", [4]connect.Value{connect.Float64(-math.MaxFloat64), connect.Float64(math.MaxFloat64), connect.Float64(1), null}},
		"c":   {"varchar(10)", [4]connect.Value{txt(""), txt("zehn zeich"), txt("a"), null}},
		"vc":  {"varchar(100)", [4]connect.Value{txt(""), txt("Grüße 🦫 ok"), txt("a"), null}},
		"tx":  {"text", [4]connect.Value{txt(""), txt("long 😀 text"), txt("a"), null}},
		"lt":  {"text", [4]connect.Value{txt(""), txt(strings.Repeat("x", 70000)), txt("a"), null}},
		"bin": {"bytea", [4]connect.Value{bs(0, 0, 0, 0), bs(0xde, 0xad, 0xbe, 0xef), bs(1, 0, 0, 0), null}},
		"vb":  {"bytea", [4]connect.Value{bs(), bs(1, 2), bs(1), null}},
		"bl":  {"bytea", [4]connect.Value{bs(), bs(0xff, 0, 0xff), bs(1), null}},
		"dt":  {"date", [4]connect.Value{date(1000, 1, 1), date(9999, 12, 31), null, null}},
		"dtm": {"timestamp(6)", [4]connect.Value{connect.Timestamp(ts("1000-01-01 00:00:00")), connect.Timestamp(ts("9999-12-31 23:59:59.999999")), null, null}},
		"ts":  {"timestamptz(6)", [4]connect.Value{connect.TimestampTZ(time.Unix(1, 0)), connect.TimestampTZ(ts("2038-01-19 03:14:07.999999")), null, null}},
		"tm":  {"interval", [4]connect.Value{txt("-838:59:59.000000"), txt("838:59:59.000000"), txt("00:00:00.000000"), null}},
		"y":   {"smallint", [4]connect.Value{i32(1901), i32(2155), i32(0), null}},
		"bt":  {"bit(10)", [4]connect.Value{txt("0000000000"), txt("1111111111"), txt("0000000001"), null}},
		"e":   {"text", [4]connect.Value{txt("small"), txt("large"), txt("medium"), null}},
		"st":  {"text", [4]connect.Value{txt(""), txt("a,b,c"), txt("b"), null}},
		"js":  {"jsonb", [4]connect.Value{connect.JSON("[]"), connect.JSON(`{"k": [1, 2.5, "s", null, true], "n": {"x": "ü"}}`), connect.JSON("1"), null}},
		"gen": {"integer", [4]connect.Value{i32(-65536), i32(65534), i32(2), null}},
	}
	if len(tb.Columns) != len(want) {
		t.Errorf("%d columns, want %d", len(tb.Columns), len(want))
	}
	for j, c := range tb.Columns {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected column %s", c.Name)
			continue
		}
		if c.PGType != w.pg {
			t.Errorf("%s (%s): PGType %q, want %q", c.Name, c.SourceType, c.PGType, w.pg)
		}
		for i, r := range []int{0, 1, 3, 4} {
			got := rows[r].Values[j]
			if !reflect.DeepEqual(got, w.vals[i]) {
				t.Errorf("%s row %d: %v (%v), want %v (%v)", c.Name, r+1, got, got.Type(), w.vals[i], w.vals[i].Type())
			}
			if !got.IsNull() && got.Type() != c.Type {
				t.Errorf("%s row %d: value of type %v, column says %v", c.Name, r+1, got.Type(), c.Type)
			}
		}
		if c.Name != "id" && !rows[2].Values[j].IsNull() {
			t.Errorf("%s row 3: %v, want NULL", c.Name, rows[2].Values[j])
		}
	}
	if e := tb.Columns[columnIndex(tb, "e")]; e.Check != `"e" IN ('small', 'medium', 'large')` {
		t.Errorf("ENUM check = %q", e.Check)
	}
	wantNotes := []catalog.Note{
		{Table: "all_types", Column: "b", What: "TINYINT(1) value other than 0 and 1 read as true", Count: 1},
		{Table: "all_types", Column: "dt", What: "date with a zero month or day read as NULL", Count: 1},
		{Table: "all_types", Column: "dt", What: "zero date read as NULL", Count: 1},
		{Table: "all_types", Column: "dtm", What: "date with a zero month or day read as NULL", Count: 1},
		{Table: "all_types", Column: "dtm", What: "zero date read as NULL", Count: 1},
		{Table: "all_types", Column: "e", What: "invalid ENUM value '' read as NULL", Count: 1},
		{Table: "all_types", Column: "ts", What: "zero date read as NULL", Count: 1},
	}
	if got := src.Notes(); !reflect.DeepEqual(got, wantNotes) {
		t.Errorf("Notes() =\n%v\nwant\n%v", got, wantNotes)
	}
}

func columnIndex(tb catalog.Table, name string) int {
	for i, c := range tb.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}
