package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

const typesSchema = `CREATE TABLE types (
	id    INTEGER PRIMARY KEY,
	big   INTEGER,
	txt   TEXT,
	f     REAL,
	ok    BOOLEAN,
	maybe TEXT,
	at    DATETIME,
	at_ms INTEGER,
	blob  BLOB
)`

type typed struct {
	ID    int64
	Big   int64
	Txt   string
	F     float64
	OK    bool
	Maybe *string
	At    time.Time // stored as text in a DATETIME column
	AtMs  time.Time // stored as integer milliseconds
	Blob  []byte
}

var typesTable = connect.Table{
	Name:    "types",
	Columns: []string{"id", "big", "txt", "f", "ok", "maybe", "at", "at_ms", "blob"},
	Key:     []string{"id"},
}

func typedValues(r typed, row []any) []any {
	return append(row, r.ID, r.Big, r.Txt, r.F, r.OK, r.Maybe, r.At, r.AtMs.UnixMilli(), r.Blob)
}

func scanTyped(rows *sql.Rows) (typed, error) {
	var r typed
	var ms int64
	err := rows.Scan(&r.ID, &r.Big, &r.Txt, &r.F, &r.OK, &r.Maybe, &r.At, &ms, &r.Blob)
	r.AtMs = time.UnixMilli(ms).UTC()
	return r, err
}

func ptr[T any](v T) *T { return &v }

// typesRecords hold extreme and awkward values of every column type.
var typesRecords = []typed{
	{ID: 1, Big: math.MaxInt64, Txt: "plain", F: 1.5, OK: true, Maybe: ptr("here"),
		At: time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("UTC+5:30", 5*3600+1800)), AtMs: time.UnixMilli(1700000000123).UTC(), Blob: []byte{0, 1, 2, 255}},
	{ID: 2, Big: math.MinInt64, Txt: "Zoë Ünïcødé ✓ 日本語 🎉", F: -0.25, OK: false, Maybe: nil,
		At: time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), AtMs: time.UnixMilli(-1000).UTC(), Blob: []byte{}},
	{ID: 3, Big: 0, Txt: "it's \"quoted\"; DROP TABLE types; --\nline two\r\nline three\ttab", F: math.MaxFloat64,
		Maybe: ptr(""), At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), AtMs: time.UnixMilli(0).UTC()},
	{ID: 4, Txt: "", F: math.SmallestNonzeroFloat64, OK: true,
		At: time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), AtMs: time.UnixMilli(253402300799999).UTC(), Blob: nil},
}

// TestSinkTypesStorage checks how values are stored: the storage classes,
// times as text in UTC that sorts in time order. conntest_test.go checks
// that they read back.
func TestSinkTypesStorage(t *testing.T) {
	db := openDB(t, typesSchema)
	sink, err := sqlite.NewSink(db, sqlite.SinkConfig[typed]{Table: typesTable, Values: typedValues})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sink.Write(ctx, typesRecords); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The documented storage classes and time format.
	var typ, text string
	if err := db.QueryRow("SELECT typeof(at), CAST(at AS TEXT) FROM types WHERE id = 1").Scan(&typ, &text); err != nil {
		t.Fatal(err)
	}
	if typ != "text" || text != "2024-01-01 21:34:05.123456789+00:00" {
		t.Fatalf("time stored as %s %q, want text in UTC", typ, text)
	}
	for col, want := range map[string]string{"ok": "integer", "at_ms": "integer", "f": "real", "big": "integer"} {
		var got string
		if err := db.QueryRow("SELECT typeof(" + col + ") FROM types WHERE id = 1").Scan(&got); err != nil || got != want {
			t.Errorf("typeof(%s) = %q (%v), want %q", col, got, err, want)
		}
	}
	// Text order is time order, and times read back in UTC.
	var order []int64
	rows, err := db.Query("SELECT id, at FROM types ORDER BY at")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		if at.Location() != time.UTC {
			t.Errorf("row %d: at = %v, want it in UTC", id, at)
		}
		order = append(order, id)
	}
	rows.Close()
	if want := []int64{2, 4, 1, 3}; !reflect.DeepEqual(order, want) {
		t.Errorf("ORDER BY at: %v, want %v", order, want)
	}
}

type five struct{ A, B, C, D, E int64 }

func fiveValues(r five, row []any) []any { return append(row, r.A, r.B, r.C, r.D, r.E) }

var fiveTable = connect.Table{Name: "five", Columns: []string{"a", "b", "c", "d", "e"}, Key: []string{"a"}}

const fiveSchema = `CREATE TABLE five (a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, d INTEGER, e TEXT)`

func fiveBatch(first, n int) []five {
	out := make([]five, n)
	for i := range out {
		v := int64(first + i)
		out[i] = five{v, v * 2, v * 3, -v, v % 7}
	}
	return out
}

// TestSinkChunksAcrossParamLimit loads 10,000 rows × 5 columns (50,000
// parameters) in one batch: more than one statement can bind.
func TestSinkChunksAcrossParamLimit(t *testing.T) {
	for _, per := range []int{0, 7, 1} {
		t.Run(fmt.Sprintf("RowsPerStatement=%d", per), func(t *testing.T) {
			db := openDB(t, fiveSchema)
			sink, err := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, RowsPerStatement: per})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close(context.Background())
			const n = 10_000
			if n*5 <= sqlite.MaxParams {
				t.Fatal("the batch must exceed the parameter limit")
			}
			if err := sink.Write(context.Background(), fiveBatch(1, n)); err != nil {
				t.Fatal(err)
			}
			// A second batch of another size exercises a second partial chunk.
			if err := sink.Write(context.Background(), fiveBatch(n+1, 1234)); err != nil {
				t.Fatal(err)
			}
			const total = n + 1234
			if got := queryInt(t, db, "SELECT count(*) FROM five"); got != total {
				t.Fatalf("%d rows, want %d", got, total)
			}
			sum := int64(total) * (total + 1) / 2
			if got := queryInt(t, db, "SELECT sum(a) + sum(b) + sum(c) + sum(d) FROM five"); got != 5*sum {
				t.Fatalf("column sums %d, want %d: values landed in the wrong rows or columns", got, 5*sum)
			}
			if got := queryInt(t, db, "SELECT count(*) FROM five WHERE b != 2*a OR c != 3*a OR d != -a OR e != a % 7"); got != 0 {
				t.Fatalf("%d rows with shifted values", got)
			}
			if sink.Rows() != total {
				t.Fatalf("Rows() = %d, want %d", sink.Rows(), total)
			}
		})
	}
}

func TestSinkOnConflict(t *testing.T) {
	ctx := context.Background()
	t.Run("ConflictIgnore skips the old rows of a batch", func(t *testing.T) {
		db := openDB(t, fiveSchema)
		sink, err := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, OnConflict: connect.ConflictIgnore})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(ctx, fiveBatch(1, 1000)); err != nil {
			t.Fatal(err)
		}
		// Overlapping: 500 old, 500 new.
		if err := sink.Write(ctx, fiveBatch(501, 1000)); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, db, "SELECT count(*) FROM five"); got != 1500 {
			t.Fatalf("%d rows, want 1500", got)
		}
		if sink.Rows() != 1500 {
			t.Fatalf("Rows() = %d, want 1500 (skipped rows do not count)", sink.Rows())
		}
	})
	t.Run("ConflictError: a re-run fails on the key", func(t *testing.T) {
		db := openDB(t, fiveSchema)
		sink, _ := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues})
		if err := sink.Write(ctx, fiveBatch(1, 10)); err != nil {
			t.Fatal(err)
		}
		err := sink.Write(ctx, fiveBatch(5, 10)) // rows 11..14 are new, 5..10 clash
		if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			t.Fatalf("error %v, want a UNIQUE constraint failure", err)
		}
	})
	t.Run("ConflictUpdate overwrites every non-key column", func(t *testing.T) {
		db := openDB(t, fiveSchema)
		sink, err := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues, OnConflict: connect.ConflictUpdate,
			RowsPerStatement: 7}) // several statements per batch
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(ctx, fiveBatch(1, 100)); err != nil {
			t.Fatal(err)
		}
		// Rows 51..150 again, with new values: 51..100 are updated,
		// 101..150 inserted.
		second := fiveBatch(51, 100)
		for i := range second {
			second[i].B, second[i].C, second[i].D, second[i].E = -1, -2, -3, 99
		}
		if err := sink.Write(ctx, second); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, db, "SELECT count(*) FROM five"); got != 150 {
			t.Fatalf("%d rows, want 150 (no duplicates)", got)
		}
		if got := queryInt(t, db, "SELECT count(*) FROM five WHERE a <= 50 AND b = 2*a AND c = 3*a AND d = -a AND e = a % 7"); got != 50 {
			t.Fatalf("%d of rows 1-50 kept their first values, want 50", got)
		}
		if got := queryInt(t, db, "SELECT count(*) FROM five WHERE a > 50 AND b = -1 AND c = -2 AND d = -3 AND e = 99"); got != 100 {
			t.Fatalf("%d of rows 51-150 hold every new value, want 100", got)
		}
		if sink.Rows() != 200 {
			t.Fatalf("Rows() = %d, want 200 (100 inserted, then 50 updated + 50 inserted)", sink.Rows())
		}
		// The same key twice in one batch, in one statement and across
		// two: the later record wins.
		dup := []five{{A: 7, E: 1}, {A: 1000, E: 10}, {A: 7, E: 2}}
		dup = append(dup, fiveBatch(2000, 6)...)
		dup = append(dup, five{A: 1000, E: 20})
		if err := sink.Write(ctx, dup); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, db, "SELECT count(*) FROM five WHERE (a = 7 AND e = 2) OR (a = 1000 AND e = 20)"); got != 2 {
			t.Fatalf("%d of 2 rows hold the later record's value", got)
		}
	})
	t.Run("ConflictIgnore without a Key skips any unique violation", func(t *testing.T) {
		db := openDB(t, `CREATE TABLE five (a INTEGER, b INTEGER, c INTEGER, d INTEGER, e TEXT, UNIQUE (b))`)
		sink, err := sqlite.NewSink(db, sqlite.SinkConfig[five]{Values: fiveValues, OnConflict: connect.ConflictIgnore,
			Table: connect.Table{Name: "five", Columns: fiveTable.Columns}})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := sink.Write(ctx, fiveBatch(1, 10)); err != nil {
				t.Fatal(err)
			}
		}
		if got := queryInt(t, db, "SELECT count(*) FROM five"); got != 10 || sink.Rows() != 10 {
			t.Fatalf("%d rows, Rows() %d; want 10 and 10", got, sink.Rows())
		}
	})
}

func TestSinkValuesErrorsAndClose(t *testing.T) {
	db := openDB(t, fiveSchema)
	ctx := context.Background()
	sink, _ := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: func(r five, row []any) []any {
		if r.A == 3 {
			return append(row, r.A) // too few
		}
		return fiveValues(r, row)
	}})
	err := sink.Write(ctx, fiveBatch(1, 5))
	var ie *weir.RecordError
	if !errors.As(err, &ie) || ie.Index != 2 {
		t.Fatalf("error %v, want a RecordError for record 2", err)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM five"); got != 0 {
		t.Fatalf("%d rows after a failed batch", got)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(ctx, fiveBatch(1, 1)); !errors.Is(err, sqlite.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestSinkCancelledWriteInsertsNothing(t *testing.T) {
	db := openDB(t, fiveSchema)
	sink, _ := sqlite.NewSink(db, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sink.Write(ctx, fiveBatch(1, 100)); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM five"); got != 0 {
		t.Fatalf("%d rows", got)
	}
}

func TestSinkConfigValidation(t *testing.T) {
	_, err := sqlite.NewSink(openDB(t, ""), sqlite.SinkConfig[five]{
		Table:            connect.Table{Columns: []string{"a", "a", ""}},
		RowsPerStatement: -1,
		OnConflict:       connect.ConflictUpdate + 1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Table.Name", `lists "a" twice`, "empty name", "Values", "RowsPerStatement", "OnConflict"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := sqlite.NewSink[five](nil, sqlite.SinkConfig[five]{Table: fiveTable, Values: fiveValues}); err == nil {
		t.Error("nil *sql.DB accepted")
	}
}
