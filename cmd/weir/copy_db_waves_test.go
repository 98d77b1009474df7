package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/pgtest"
)

// countingSource is a real catalog that counts its Opens and Counts.
type countingSource struct {
	catalog.Source
	opens, counts *atomic.Int64
}

func (s countingSource) Open(ctx context.Context, t catalog.Table, r catalog.Range) (catalog.RowReader, error) {
	s.opens.Add(1)
	return s.Source.Open(ctx, t, r)
}

func (s countingSource) Count(ctx context.Context, t catalog.Table) (int64, error) {
	s.counts.Add(1)
	return s.Source.(closing).Source.(catalog.Counter).Count(ctx, t)
}

// TestVerifyCountsWithCounter: --verify asks a source that can count
// (catalog.Counter) for each table's count and reads no table again.
func TestVerifyCountsWithCounter(t *testing.T) {
	src := makeShop(t, 10)
	pg := pgtest.New(t)
	var opens, counts atomic.Int64
	databaseSources["countsqlite"] = func(ctx context.Context, url string) (catalog.Source, error) {
		s, err := openSQLiteCatalog(ctx, "sqlite:"+strings.TrimPrefix(url, "countsqlite:"))
		if err != nil {
			return nil, err
		}
		return countingSource{s, &opens, &counts}, nil
	}
	t.Cleanup(func() { delete(databaseSources, "countsqlite") })
	out := mustCopy(t, "countsqlite:"+src, pg.URL()+"&schema=v", "--verify", "--on-error", "skip", "--reject", filepath.Join(t.TempDir(), "r.jsonl"))
	if !strings.Contains(out, "verified:") {
		t.Fatalf("output:\n%s", out)
	}
	if counts.Load() != 5 || opens.Load() != 5 {
		t.Errorf("--verify over 5 one-range tables: %d Counts and %d Opens, want 5 and 5 (no table read twice)", counts.Load(), opens.Load())
	}
}

// TestLoadWavesFollowTheTarget: the waves come from the target's foreign
// keys — a chain, a table referencing itself, and two tables referencing
// each other, whose cycle is broken in the catalog's order.
func TestLoadWavesFollowTheTarget(t *testing.T) {
	pg := pgtest.New(t)
	pool := pg.Pool(t)
	if err := postgres.Exec(t.Context(), pool, `CREATE SCHEMA w;
		CREATE TABLE w.a (id int PRIMARY KEY, up int REFERENCES w.a);
		CREATE TABLE w.b (id int PRIMARY KEY, a int REFERENCES w.a);
		CREATE TABLE w.c (id int PRIMARY KEY, b int REFERENCES w.b, a int REFERENCES w.a);
		CREATE TABLE w.x (id int PRIMARY KEY, y int);
		CREATE TABLE w.y (id int PRIMARY KEY, x int REFERENCES w.x);
		ALTER TABLE w.x ADD FOREIGN KEY (y) REFERENCES w.y`); err != nil {
		t.Fatal(err)
	}
	c := &dbCopy{pool: pool, schema: "w"}
	// The catalog's order puts c first: the waves must not follow it.
	for _, n := range []string{"c", "b", "a", "y", "x"} {
		c.tables = append(c.tables, &dbTable{Table: catalog.Table{Name: n}})
	}
	parents, selfRef, err := c.loadWaves(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range parents {
		got[k] = strings.Join(v, ",")
	}
	want := map[string]string{"b": "a", "c": "b,a", "x": "y"}
	if len(got) != len(want) || got["b"] != want["b"] || !sameSet(got["c"], want["c"]) || got["x"] != want["x"] {
		t.Errorf("parents = %v, want %v (y first: the cycle x ↔ y broken at the first of the catalog's order that is left)", got, want)
	}
	if !selfRef["a"] || len(selfRef) != 1 {
		t.Errorf("selfRef = %v, want a", selfRef)
	}
}

func sameSet(a, b string) bool {
	x, y := strings.Split(a, ","), strings.Split(b, ",")
	if len(x) != len(y) {
		return false
	}
	for _, s := range x {
		if !strings.Contains(","+b+",", ","+s+",") {
			return false
		}
	}
	return true
}

// TestCopyDatabaseDataOnlyIntoForeignKeys loads a whole database with
// --data-only into tables whose foreign keys exist: parents load first, so
// no batch meets a missing parent, with small batches and many loaders.
func TestCopyDatabaseDataOnlyIntoForeignKeys(t *testing.T) {
	src := makeShop(t, 10)
	pg := pgtest.New(t)
	pool := pg.Pool(t)
	mustCopy(t, "sqlite:"+src, pg.URL()+"&schema=d", "--schema-only")
	out := mustCopy(t, "sqlite:"+src, pg.URL()+"&schema=d", "--data-only", "--batch", "2", "--workers", "4", "--on-error", "skip", "--reject", filepath.Join(t.TempDir(), "r.jsonl"), "--verify")
	if !strings.Contains(out, "verified:") {
		t.Errorf("output:\n%s", out)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM d.lines`) + pgInt(t, pool, `SELECT count(*) FROM d.orders`); n != 120 {
		t.Errorf("orders and lines hold %d rows, want 120", n)
	}
	// Again over the loaded tables, emptying them first: the tables
	// reference each other, so they must be emptied together.
	mustCopy(t, "sqlite:"+src, pg.URL()+"&schema=d", "--data-only", "--if-exists", "truncate", "--on-error", "skip", "--reject", filepath.Join(t.TempDir(), "r2.jsonl"))
	if n := pgInt(t, pool, `SELECT count(*) FROM d.lines`) + pgInt(t, pool, `SELECT count(*) FROM d.orders`); n != 120 {
		t.Errorf("after --if-exists truncate, orders and lines hold %d rows, want 120", n)
	}
}
