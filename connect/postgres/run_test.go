package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

// TestRunTableToTable runs a whole job with weir's engine: a keyset source
// over one table, a transform, and concurrent COPY loads into another.
func TestRunTableToTable(t *testing.T) {
	pool := newDB(t, allTypesDDL+`; CREATE TABLE copy_of (LIKE all_types INCLUDING ALL)`)
	recs := trickyRecords(3000)
	seed, err := postgres.NewSink(pool, postgres.SinkConfig[allTypes]{Table: allTypesTable, Values: allTypesValues})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Write(t.Context(), recs); err != nil {
		t.Fatal(err)
	}

	src, err := postgres.NewSource(pool, postgres.SourceConfig[allTypes]{
		Table: "all_types", Key: "id", PageSize: 250, Scan: pgx.RowToStructByName[allTypes],
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := allTypesTable
	dst.Name = "copy_of"
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[allTypes]{Table: dst, Values: allTypesValues})
	if err != nil {
		t.Fatal(err)
	}
	upper := weir.InPlace(func(_ context.Context, r *allTypes) error {
		if r.Name != nil {
			r.Name = ptr(*r.Name + "!")
		}
		return nil
	})
	p, err := weir.New(src, upper, sink, weir.Config{BatchSize: 100, Workers: 2, LoadConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Load.Records != 3000 || sink.Rows() != 3000 {
		t.Errorf("loaded %d records, sink counted %d, want 3000", st.Load.Records, sink.Rows())
	}
	// Every row arrived once, with every column as the source had it
	// except the transformed name.
	if n := count(t, pool, `SELECT count(*) FROM (
		SELECT id, name || '!', at, doc, score, ok FROM all_types
		EXCEPT ALL
		SELECT id, name, at, doc, score, ok FROM copy_of) AS missing`); n != 0 {
		t.Errorf("%d source rows missing or different in the copy", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM copy_of`); n != 3000 {
		t.Errorf("copy has %d rows, want 3000", n)
	}
	if pos := src.LastKey(); len(pos) != 1 || pos[0] != recs[len(recs)-1].ID {
		t.Errorf("source LastKey() = %v, want the largest id %d", pos, recs[len(recs)-1].ID)
	}
}

// TestRunUpsertRerun runs the same job twice into a Sink with ConflictUpdate: the
// second run changes nothing and adds nothing.
func TestRunUpsertRerun(t *testing.T) {
	pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, val text NOT NULL)`)
	table := connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: []string{"id"}}
	for run := range 2 {
		sink, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{Table: table, Values: kvValues, OnConflict: connect.ConflictUpdate})
		if err != nil {
			t.Fatal(err)
		}
		p, err := weir.New(weir.FromSlice(kvRange(1, 5000, "v")), weir.Identity[kv](), sink,
			weir.Config{BatchSize: 500, LoadConcurrency: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(t.Context()); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if n := count(t, pool, `SELECT count(*) FROM kv`); n != 5000 {
			t.Fatalf("run %d: count = %d, want 5000", run, n)
		}
	}
}
