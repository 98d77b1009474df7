package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/pgtest"
)

// keysLeft counts the foreign and primary keys of the job's tables.
const keysLeft = `SELECT count(*) FROM pg_constraint WHERE contype IN ('f', 'p')
	AND connamespace = current_schema()::regnamespace AND conrelid::regclass::text NOT LIKE 'weir_%'`

// TestDeferredForeignKeysComeBackOnEveryPath: foreign and primary keys that
// a killed run dropped (saved in weir_deferred_fks) come back, validated, on the
// paths that do not defer them again (--verify, --defer-constraints=false);
// a row that violates one makes the command fail loudly and keeps the
// definitions for a later run.
func TestDeferredForeignKeysComeBackOnEveryPath(t *testing.T) {
	pg := pgtest.New(t)
	ctx := context.Background()
	if code, out, errOut := weirCmd(t, "migrate", "--users", "100", "--to", pg.URL(), "--progress", "off"); code != exitOK {
		t.Fatalf("load: exit %d\n%s%s", code, out, errOut)
	}
	pool := pg.Pool(t)
	want := strings.Count(users.SchemaPostgres, "FOREIGN KEY")
	killedMidLoad := func() {
		t.Helper()
		// What a run killed during its load leaves: the keys dropped,
		// their definitions saved.
		if _, err := deferConstraints(ctx, pool, "test", users.TableNames(), true); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, pool, keysLeft); n != 0 {
			t.Fatalf("%d foreign and primary keys left after deferring, want 0", n)
		}
	}
	validated := func(path string) {
		t.Helper()
		if n := queryInt(t, pool, `SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated`); n != want {
			t.Errorf("%s: %d validated foreign keys, want %d", path, n, want)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM pg_constraint k JOIN pg_index x ON x.indexrelid = k.conindid
			WHERE k.contype = 'p' AND x.indisvalid AND k.connamespace = current_schema()::regnamespace AND k.conrelid::regclass::text NOT LIKE 'weir_%'`); n != users.NumTables {
			t.Errorf("%s: %d valid primary keys, want %d", path, n, users.NumTables)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM weir_deferred_fks`); n != 0 {
			t.Errorf("%s: %d definitions still saved, want 0", path, n)
		}
	}

	killedMidLoad()
	if code, out, errOut := weirCmd(t, "migrate", "--users", "100", "--to", pg.URL(), "--verify"); code != exitOK {
		t.Fatalf("--verify: exit %d\n%s%s", code, out, errOut)
	}
	validated("--verify")

	killedMidLoad()
	if code, out, errOut := weirCmd(t, "migrate", "--users", "100", "--to", pg.URL(), "--resume", "--defer-constraints=false", "--progress", "off"); code != exitOK {
		t.Fatalf("--defer-constraints=false: exit %d\n%s%s", code, out, errOut)
	}
	validated("--defer-constraints=false")

	killedMidLoad()
	if _, err := pool.Exec(ctx, `DELETE FROM users WHERE id = 1`); err != nil { // its rows in 14 tables now point nowhere
		t.Fatal(err)
	}
	code, out, errOut := weirCmd(t, "migrate", "--users", "100", "--to", pg.URL(), "--verify")
	if code == exitOK || !strings.Contains(errOut, "could not be added back") || !strings.Contains(errOut, "weir_deferred_fks") {
		t.Fatalf("a violating row: exit %d, want a failure saying the keys stay saved\n%s%s", code, out, errOut)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM weir_deferred_fks`); n != want+users.NumTables {
		t.Errorf("after the failed restore, %d definitions saved, want all %d kept", n, want+users.NumTables)
	}
	if n := queryInt(t, pool, keysLeft); n != 0 {
		t.Errorf("after the failed restore, %d keys exist, want none (all or nothing)", n)
	}
}

func queryInt(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, query string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
