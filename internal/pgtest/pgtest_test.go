package pgtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestSelectOne(t *testing.T) {
	db := pgtest.New(t)
	var one int
	if err := db.Pool(t).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if one != 1 {
		t.Fatalf("SELECT 1 returned %d", one)
	}
}

func TestServerSettings(t *testing.T) {
	db := pgtest.New(t)
	pool := db.Pool(t)
	for setting, want := range map[string]string{
		"fsync":              "off",
		"synchronous_commit": "off",
		"full_page_writes":   "off",
		"server_encoding":    "UTF8",
	} {
		var got string
		if err := pool.QueryRow(context.Background(), "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	var name string
	if err := pool.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != db.Name() {
		t.Errorf("connected to %q, want %q", name, db.Name())
	}
}

func TestDatabasesAreIsolated(t *testing.T) {
	a, b := pgtest.New(t), pgtest.New(t)
	if a.Name() == b.Name() {
		t.Fatalf("two databases share the name %q", a.Name())
	}
	if a.Server() != b.Server() {
		t.Fatal("two databases of one test binary are on different servers")
	}
	a.Exec(t, `CREATE TABLE only_in_a (x int); INSERT INTO only_in_a VALUES (1)`)
	ctx := context.Background()
	var n int
	if err := a.Pool(t).QueryRow(ctx, "SELECT count(*) FROM only_in_a").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count in a = %d, %v; want 1, nil", n, err)
	}
	_, err := b.Pool(t).Exec(ctx, "SELECT * FROM only_in_a")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table
		t.Fatalf("table of database a seen from b: err = %v, want undefined_table", err)
	}
}

func TestURLConnectsOverTCP(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var addr *string
	var name string
	if err := conn.QueryRow(ctx, "SELECT inet_server_addr()::text, current_database()").Scan(&addr, &name); err != nil {
		t.Fatal(err)
	}
	if addr == nil || *addr != "127.0.0.1/32" {
		t.Errorf("server address = %v, want 127.0.0.1/32 (a TCP connection)", addr)
	}
	if name != db.Name() {
		t.Errorf("connected to %q, want %q", name, db.Name())
	}
}

func TestDatabaseDroppedAfterTest(t *testing.T) {
	var name string
	var srv *pgtest.Server
	t.Run("inner", func(t *testing.T) {
		db := pgtest.New(t)
		name, srv = db.Name(), db.Server()
	})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestRestart(t *testing.T) {
	db := pgtest.New(t)
	db.Exec(t, `CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)`)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pidBefore, pidAfter int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pidBefore); err != nil {
		t.Fatal(err)
	}

	db.Server().Restart(t)

	if err := conn.QueryRow(ctx, "SELECT 1").Scan(new(int)); err == nil {
		t.Fatal("a connection opened before the restart still works")
	}
	pool := db.Pool(t)
	var x int
	if err := pool.QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after restart: x = %d, %v; want 42, nil (committed data survives a fast shutdown)", x, err)
	}
	if err := pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pidAfter); err != nil {
		t.Fatal(err)
	}
	if pidAfter == pidBefore {
		t.Errorf("backend pid %d unchanged: the server did not restart", pidAfter)
	}
}
