package postgres_test

import (
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

const upsertDDL = `CREATE TABLE kv (
	id   bigint PRIMARY KEY,
	val  text NOT NULL,
	note text DEFAULT 'untouched'
)`

func TestSinkConflictUpdate(t *testing.T) {
	pool := newDB(t, upsertDDL)
	table := connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: []string{"id"}}
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Table: table, Values: kvValues, OnConflict: connect.ConflictUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(t.Context(), kvRange(1, 100, "v1")); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(t.Context(), kvRange(51, 150, "v2")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM kv WHERE id <= 50 AND val = 'v1-' || id`); n != 50 {
		t.Errorf("%d of rows 1-50 kept their first value, want 50", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM kv WHERE id > 50 AND val = 'v2-' || id`); n != 100 {
		t.Errorf("%d of rows 51-150 hold the second value, want 100", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM kv WHERE note = 'untouched'`); n != 150 {
		t.Errorf("%d rows have the column default, want 150 (INCLUDING DEFAULTS, columns outside Columns untouched)", n)
	}
	if got := sink.Rows(); got != 200 {
		t.Errorf("Rows() = %d, want 200 (100 inserted, then 50 updated + 50 inserted)", got)
	}

	t.Run("same key twice in a batch: the later wins", func(t *testing.T) {
		batch := []kv{{ID: 7, Val: ptr("first")}, {ID: 1000, Val: ptr("a")}, {ID: 7, Val: ptr("second")}, {ID: 1000, Val: ptr("b")}}
		if err := sink.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		if n := count(t, pool, `SELECT count(*) FROM kv WHERE (id, val) IN ((7, 'second'), (1000, 'b'))`); n != 2 {
			t.Errorf("%d of 2 rows hold the later value", n)
		}
	})

	t.Run("ConflictIgnore keeps existing rows", func(t *testing.T) {
		keep, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Table: table, Values: kvValues, OnConflict: connect.ConflictIgnore})
		if err != nil {
			t.Fatal(err)
		}
		if err := keep.Write(t.Context(), kvRange(141, 160, "v3")); err != nil {
			t.Fatal(err)
		}
		if keep.Rows() != 10 {
			t.Errorf("Rows() = %d, want 10 (only 151-160 are new)", keep.Rows())
		}
		if n := count(t, pool, `SELECT count(*) FROM kv WHERE val LIKE 'v3-%'`); n != 10 {
			t.Errorf("%d rows hold v3 values, want 10", n)
		}
		if err := keep.Write(t.Context(), []kv{{ID: 2000, Val: ptr("first")}, {ID: 2000, Val: ptr("second")}}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, pool, `SELECT count(*) FROM kv WHERE id = 2000 AND val = 'first'`); n != 1 {
			t.Error("with the same key twice in a batch, the earlier record did not win")
		}
	})
}

func TestSinkConflictUpdateCompositeKeyAndSchema(t *testing.T) {
	pool := newDB(t, `CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."Line Items" (
		"Order" bigint, line int, qty int NOT NULL, PRIMARY KEY ("Order", line))`)
	type li struct{ order, line, qty int64 }
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[li]{
		Table:      connect.Table{Name: "Sales.Line Items", Columns: []string{"Order", "line", "qty"}, Key: []string{"Order", "line"}},
		Values:     func(r li, row []any) []any { return append(row, r.order, r.line, r.qty) },
		OnConflict: connect.ConflictUpdate,
	})
	if err != nil {
		t.Fatal(err)
	}
	for round := range int64(3) {
		var batch []li
		for o := range int64(10) {
			for l := range int64(3) {
				batch = append(batch, li{o, l, round})
			}
		}
		if err := sink.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM "Sales"."Line Items" WHERE qty = 2`); n != 30 {
		t.Errorf("%d rows after three rounds with the last value, want 30", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM "Sales"."Line Items"`); n != 30 {
		t.Errorf("count = %d, want 30", n)
	}
}
