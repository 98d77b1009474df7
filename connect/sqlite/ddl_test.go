package sqlite_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

func TestCreateTableSQL(t *testing.T) {
	got := sqlite.CreateTableSQL("main.my \"t\"", []connect.Column{
		{Name: "id", Type: connect.TypeInt64}, {Name: "price €", Type: connect.TypeNumeric}, {Name: "at", Type: connect.TypeTimestampTZ},
	}, []string{"id", "at"})
	want := `CREATE TABLE "main"."my ""t""" ("id" INTEGER NOT NULL, "price €" NUMERIC_TEXT, "at" TIMESTAMPTZ NOT NULL, PRIMARY KEY ("id", "at"))`
	if got != want {
		t.Errorf("CreateTableSQL =\n%s\nwant\n%s", got, want)
	}
}

func TestCreateTableReadsBackItsTypes(t *testing.T) {
	db := openAll(t)
	cols, ok, err := sqlite.TableColumns(t.Context(), db, "all")
	if err != nil || !ok {
		t.Fatalf("TableColumns = %v, %v", ok, err)
	}
	if !reflect.DeepEqual(cols, allCols) {
		t.Errorf("TableColumns = %v, want %v", cols, allCols)
	}
	// The key is NOT NULL, and a single INTEGER key is the rowid.
	if _, err := db.Exec(`INSERT INTO "all" (id) VALUES (NULL)`); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM "all" WHERE id = rowid AND id IS NOT NULL`); n != 1 {
		t.Errorf("id is not the rowid")
	}
	if err := sqlite.CreateTable(t.Context(), db, "k2", []connect.Column{{Name: "a", Type: connect.TypeText}, {Name: "b", Type: connect.TypeInt64}},
		[]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO k2 VALUES (NULL, 1)`); err == nil || !strings.Contains(err.Error(), "NOT NULL") {
		t.Errorf("a NULL key column = %v, want a NOT NULL error", err)
	}
}

func TestCreateTableErrors(t *testing.T) {
	db := openAll(t)
	for _, c := range []struct {
		name string
		cols []connect.Column
		key  []string
		want []string
	}{
		{"", nil, nil, []string{"empty table name", "no columns"}},
		{"t", []connect.Column{{Name: "a"}, {Name: "a"}, {Name: ""}, {Name: "b", Type: 99}}, []string{"c"},
			[]string{`column "a" appears twice`, "column 2 has an empty name", `column "b" has no such type Type(99)`, `key column "c" is not a column`}},
		{"all", allCols, nil, []string{"sqlite: create table all: ", `table "all" already exists`}},
	} {
		err := sqlite.CreateTable(t.Context(), db, c.name, c.cols, c.key)
		if err == nil {
			t.Errorf("CreateTable(%q) = nil error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CreateTable(%q) = %q, want it to contain %q", c.name, err, w)
			}
		}
	}
}

func TestTableColumns(t *testing.T) {
	db := openDB(t, `CREATE TABLE t (a INTEGER, "b c" TEXT); CREATE VIEW v AS SELECT a FROM t`)
	if _, err := db.Exec(`CREATE TEMP TABLE tmp (x REAL)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		want   []connect.Column
		exists bool
	}{
		{"t", []connect.Column{{Name: "a", Type: connect.TypeInt64}, {Name: "b c", Type: connect.TypeText}}, true},
		{"main.t", []connect.Column{{Name: "a", Type: connect.TypeInt64}, {Name: "b c", Type: connect.TypeText}}, true},
		{"v", []connect.Column{{Name: "a", Type: connect.TypeInt64}}, true},
		{"tmp", []connect.Column{{Name: "x", Type: connect.TypeFloat64}}, true},
		{"temp.tmp", []connect.Column{{Name: "x", Type: connect.TypeFloat64}}, true},
		{"main.tmp", nil, false},
		{"missing", nil, false},
		{"x'); DROP TABLE t; --", nil, false},
	} {
		cols, exists, err := sqlite.TableColumns(t.Context(), db, c.name)
		if err != nil || exists != c.exists || !reflect.DeepEqual(cols, c.want) {
			t.Errorf("TableColumns(%q) = %v, %v, %v; want %v, %v, nil", c.name, cols, exists, err, c.want, c.exists)
		}
	}
	if n := queryInt(t, db, "SELECT count(*) FROM t"); n != 0 {
		t.Fatal(n)
	}
}
