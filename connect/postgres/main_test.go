package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newDB returns a pool on a fresh database holding the tables of ddl.
func newDB(t *testing.T, ddl string) *pgxpool.Pool {
	t.Helper()
	db := pgtest.New(t)
	pool := db.Pool(t)
	if err := postgres.Exec(t.Context(), pool, ddl); err != nil {
		t.Fatal(err)
	}
	return pool
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// recordingDB is a real pool that also records the SQL of every query, so a
// test can check what the source sends.
type recordingDB struct {
	*pgxpool.Pool
	mu      sync.Mutex
	queries []string
}

func (r *recordingDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.mu.Lock()
	r.queries = append(r.queries, sql)
	r.mu.Unlock()
	return r.Pool.Query(ctx, sql, args...)
}

var _ postgres.DB = (*recordingDB)(nil)

func TestExecIsAllOrNothing(t *testing.T) {
	pool := newDB(t, `CREATE TABLE first (x int)`)
	err := postgres.Exec(t.Context(), pool, `CREATE TABLE second (x int); CREATE TABLE first (x int)`)
	if err == nil || !strings.Contains(err.Error(), "postgres: exec script") {
		t.Fatalf("err = %v, want an exec script error", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM pg_tables WHERE tablename = 'second'`); n != 0 {
		t.Errorf("table second exists after the DDL failed: the statements did not run as one transaction")
	}
}
