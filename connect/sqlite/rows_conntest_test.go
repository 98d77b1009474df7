package sqlite_test

import (
	"database/sql"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/sqlite"
)

// manyRows returns n rows for allTable, ids 1 to n, with values of every
// type and a NULL here and there.
func manyRows(n int) []connect.Row {
	out := make([]connect.Row, n)
	for i := range out {
		id := int64(i + 1)
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * 7919 * time.Second).Add(time.Duration(id) * time.Microsecond)
		v := []connect.Value{connect.Int64(id), connect.Text(fmt.Sprintf("row %d ✓", id)), connect.Bool(id%2 == 0),
			connect.Int32(int32(-id * 1000)), connect.Float64(float64(id) / 3), connect.Numeric(fmt.Sprintf("%d.%02d", id, id%100)),
			connect.Date(at), connect.Timestamp(at), connect.TimestampTZ(at), connect.JSON(fmt.Sprintf(`{"id":%d}`, id)),
			connect.Bytes([]byte{byte(id), 0, 0xff})}
		v[1+i%10] = connect.Null()
		out[i] = connect.Row{Values: v, Pos: connect.Pos{Name: "gen", Line: id}}
	}
	return out
}

// seedAll returns a database whose table "all" holds rows, loaded by a
// RowSink.
func seedAll(t *testing.T, rows []connect.Row) *sql.DB {
	db := openAll(t)
	writeRows(t, db, sqlite.RowSinkConfig{Table: allTable}, rows)
	return db
}

func rowOpener(db *sql.DB, cfg sqlite.RowSourceConfig) func(*testing.T) weir.Source[connect.Row] {
	return func(t *testing.T) weir.Source[connect.Row] {
		src, err := sqlite.NewRowSource(t.Context(), db, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

func TestRowSourceConformance(t *testing.T) {
	want := manyRows(60)
	db := seedAll(t, want)
	// In bad, the row of rowid 10 holds text in its INTEGER column.
	bad := seedAll(t, want)
	if _, err := bad.Exec(`UPDATE "all" SET i32 = 'ten' WHERE id = 10`); err != nil {
		t.Fatal(err)
	}
	badPositions := [][]byte{[]byte(``), []byte(`{}`), []byte(`{"key":[]}`), []byte(`{"key":[1,2]}`), []byte(`{"key":[1]} x`)}
	for _, c := range []struct {
		name string
		cfg  sqlite.RowSourceConfig
	}{
		{"table by rowid", sqlite.RowSourceConfig{Table: "all"}},
		{"table by key, PageSize 4", sqlite.RowSourceConfig{Table: "all", Key: []string{"id"}, PageSize: 4}},
		{"query by key", sqlite.RowSourceConfig{Query: `SELECT * FROM "all" WHERE id > 0`, Key: []string{"id"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			badCfg := c.cfg
			conntest.Source(t, conntest.SourceCase[connect.Row]{
				Open:         rowOpener(db, c.cfg),
				Want:         want,
				Equal:        sameRow,
				Malformed:    &conntest.MalformedCase[connect.Row]{Open: rowOpener(bad, badCfg), Before: want[:9], ErrContains: `10: column "i32": TEXT "ten" is not a integer`},
				BadPositions: badPositions,
			})
		})
	}

	t.Run("composite key of text and date", func(t *testing.T) {
		db := openDB(t, "")
		cols := []connect.Column{{Name: "k", Type: connect.TypeText}, {Name: "d", Type: connect.TypeDate}, {Name: "n", Type: connect.TypeInt64}}
		if err := sqlite.CreateTable(t.Context(), db, "c", cols, []string{"k", "d"}); err != nil {
			t.Fatal(err)
		}
		var want []connect.Row
		for _, k := range []string{"a", "b", "é"} {
			for d := range 8 {
				want = append(want, connect.Row{Values: []connect.Value{connect.Text(k),
					connect.Date(time.Date(2024, 1, 1+d, 0, 0, 0, 0, time.UTC)), connect.Int64(int64(len(want)))}})
			}
		}
		writeRows(t, db, sqlite.RowSinkConfig{Table: connect.Table{Name: "c", Columns: colNames(cols)}}, want)
		conntest.Source(t, conntest.SourceCase[connect.Row]{
			Open:  rowOpener(db, sqlite.RowSourceConfig{Table: "c", Key: []string{"k", "d"}, PageSize: 5}),
			Want:  want,
			Equal: sameRow,
		})
	})
}

func TestRowSinkConformance(t *testing.T) {
	recs := manyRows(120)
	for _, c := range []struct {
		on  connect.Conflict
		per int // RowsPerStatement
	}{{connect.ConflictError, 0}, {connect.ConflictError, 1}, {connect.ConflictIgnore, 0}, {connect.ConflictUpdate, 7}} {
		t.Run(fmt.Sprintf("%v, RowsPerStatement %d", c.on, c.per), func(t *testing.T) {
			extra := manyRows(1003)[1000:]
			failing := append(extra[:2:2], recs[0]) // the third row's key exists
			if c.on != connect.ConflictError {
				failing[2] = extra[2]
				failing[2].Values[4] = connect.Float64(math.NaN())
			}
			conntest.Sink(t, conntest.SinkCase[connect.Row]{
				Open: func(t *testing.T) (weir.Sink[connect.Row], func() []connect.Row) {
					db := openAll(t)
					sink, err := sqlite.NewRowSink(db, sqlite.RowSinkConfig{Table: allTable, OnConflict: c.on, RowsPerStatement: c.per})
					if err != nil {
						t.Fatal(err)
					}
					return sink, func() []connect.Row { return readRows(t, db, sqlite.RowSourceConfig{Table: "all"}) }
				},
				Records:    recs,
				Equal:      sameRow,
				Failing:    failing,
				Idempotent: c.on != connect.ConflictError,
				Concurrent: true,
			})
		})
	}
}
