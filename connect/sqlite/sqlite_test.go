package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect/sqlite"
)

// openDB opens a fresh database file in a temporary directory, applies
// schema, and closes it when the test ends.
func openDB(t testing.TB, schema string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if schema != "" {
		if err := sqlite.Exec(context.Background(), db, schema); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func queryInt(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenSettings(t *testing.T) {
	db := openDB(t, "")
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
}

func TestOpenPaths(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// One connection: the table created here is seen by the next query.
		if _, err := db.Exec("CREATE TABLE m (x)"); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, db, "SELECT count(*) FROM m"); n != 0 {
			t.Fatal(n)
		}
	})
	t.Run("file URI with parameters", func(t *testing.T) {
		db, err := sqlite.Open("file:" + filepath.Join(t.TempDir(), "u.db") + "?mode=rwc")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var mode string
		if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode %q, %v", mode, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, p := range []string{"", "plain?x=1", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")} {
			if db, err := sqlite.Open(p); err == nil {
				db.Close()
				t.Errorf("Open(%q) succeeded", p)
			}
		}
	})
}

func TestExec(t *testing.T) {
	db := openDB(t, "")
	ctx := context.Background()
	err := sqlite.Exec(ctx, db, `
		CREATE TABLE a (id INTEGER PRIMARY KEY);
		-- a comment between statements
		CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
		INSERT INTO a VALUES (1), (2);
	`)
	if err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM a"); n != 2 {
		t.Fatalf("a has %d rows, want 2", n)
	}
	// A failing statement rolls back the ones before it.
	err = sqlite.Exec(ctx, db, `CREATE TABLE c (x); INSERT INTO a VALUES (3); INSERT INTO nope VALUES (1);`)
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("error %v, want one naming the missing table", err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = 'c'"); n != 0 {
		t.Fatal("table c survived the failed script")
	}
	if n := queryInt(t, db, "SELECT count(*) FROM a"); n != 2 {
		t.Fatalf("a has %d rows after the failed script, want 2", n)
	}
}

// TestMaxParams checks that the bundled SQLite's parameter limit is the one
// the sinks size their statements by.
func TestMaxParams(t *testing.T) {
	db := openDB(t, "")
	stmt := func(n int) (string, []any) {
		args := make([]any, n)
		for i := range args {
			args[i] = i
		}
		return "SELECT count(*) WHERE 0 IN (" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")", args
	}
	q, args := stmt(sqlite.MaxParams)
	if n := queryInt(t, db, q, args...); n != 1 {
		t.Fatalf("query with MaxParams parameters returned %d", n)
	}
	q, args = stmt(sqlite.MaxParams + 1)
	if _, err := db.Exec(q, args...); err == nil || !strings.Contains(err.Error(), "too many SQL variables") {
		t.Fatalf("MaxParams+1 parameters: %v, want 'too many SQL variables'", err)
	}
}
