// Package pgtest starts a throwaway PostgreSQL server for tests, so that
// `go test ./...` needs no set-up.
//
// One server is shared by every test of a test binary: starting a cluster
// takes seconds, creating a database takes milliseconds. Each test gets its
// own fresh database from [New], dropped when the test ends, so tests may
// run in parallel without seeing each other's tables.
//
// Wire it up once per package:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		db := pgtest.New(t)        // fresh database on the shared server
//		pool := db.Pool(t)         // *pgxpool.Pool, closed when t ends
//		db.Exec(t, `CREATE TABLE users (id bigint PRIMARY KEY, name text)`)
//		...
//	}
//
// # Binaries
//
// initdb and postgres are looked up on PATH, else in the newest
// /usr/lib/postgresql/*/bin (Debian's layout); postgres is taken from the
// directory of the resolved initdb, as initdb itself requires. Without them
// the test is skipped with a message naming the missing binary, except when
// the environment variable CI is non-empty: then it fails, so that a CI
// machine missing PostgreSQL cannot pass by skipping every database test.
//
// # The server
//
// The cluster lives in a temporary directory (weir-pgtest-* under
// [os.TempDir]) with trust authentication, UTF8 encoding and the C locale.
// It listens on a Unix socket in that directory and on a free TCP port of
// 127.0.0.1, with fsync, synchronous_commit and full_page_writes off: a
// crash loses the data, which a test server does not mind. The superuser is
// "postgres". PostgreSQL refuses to run as root, so when the test runs as
// root, initdb and postgres run as the "postgres" system user, or as
// "nobody" when that user does not exist; the temporary directory is made
// theirs. [os.TempDir] must then be reachable by that user.
//
// The postmaster is a child of the test binary, started directly rather than
// through pg_ctl (which detaches it), and on Linux it is asked to receive
// SIGQUIT (immediate shutdown) when the test binary dies. So the server does
// not outlive a test that panics, a test binary killed by `go test -timeout`,
// or one interrupted with Ctrl-C. Only the temporary directory is left behind
// then; the next [New] in any test binary removes such directories whose
// owning process is gone.
package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir/internal/testserver"
)

// server is the test binary's shared PostgreSQL server.
var server = &testserver.Shared[*Server]{Name: "pgtest", Start: start, Stop: (*Server).shutdown}

// Main runs the tests of m, then stops the shared server (if a test started
// it) and removes its directory, and exits the process with the tests'
// status. Call it from TestMain; it does not return.
//
// A panic in a test crashes the test binary from the test's goroutine, where
// no deferred call of Main can run; the server then dies with the binary
// (see the package doc) and its directory is swept by a later run. If
// stopping the server fails, Main reports it on standard error (there is no
// one to return it to) and exits non-zero.
func Main(m *testing.M) { os.Exit(server.Run(m)) }

// Run is [Main] without the exit, to share the test binary with another
// throwaway server:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(mariatest.Wrap(m))) }
func Run(m testserver.Tests) int { return server.Run(m) }

// Wrap returns tests that [Run] m when run.
func Wrap(m testserver.Tests) testserver.Tests { return server.Wrap(m) }

// Shared returns the test binary's server, starting it on first use; later
// calls return at once. It skips or fails t as described in the package doc
// when the binaries are missing, and fails t if the server cannot start or
// if TestMain does not call [Main] (the server would be left running until
// the binary exits, and its directory never removed). Safe for concurrent
// use.
func Shared(t testing.TB) *Server {
	t.Helper()
	return server.Get(t)
}

// New creates a fresh, empty database on the shared server (starting the
// server on first use, see [Shared]) and drops it when t and its subtests
// end. It blocks for the CREATE DATABASE, typically tens of milliseconds.
// Safe for concurrent use by parallel tests.
func New(t testing.TB) *DB {
	t.Helper()
	return Shared(t).NewDB(t)
}

// DB is one test's database on a [Server]. Its methods are safe for
// concurrent use.
type DB struct {
	srv  *Server
	name string
}

// NewDB creates a fresh database on s, dropped (WITH (FORCE), so open
// connections do not block it) when t ends. Its name is derived from the
// test's name and made unique.
func (s *Server) NewDB(t testing.TB) *DB {
	t.Helper()
	name := testserver.DBName(t.Name(), s.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.adminExec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return &DB{srv: s, name: name}
}

// Name returns the database's name.
func (d *DB) Name() string { return d.name }

// Server returns the server holding the database, for [Server.Restart].
func (d *DB) Server() *Server { return d.srv }

// ConnString returns a keyword/value connection string for the database
// over the server's Unix socket, the fastest way in, accepted by
// [pgx.ParseConfig], [pgxpool.ParseConfig] and libpq.
func (d *DB) ConnString() string { return d.srv.ConnString(d.name) }

// URL returns a postgres:// URL for the database over TCP on 127.0.0.1, for
// code that wants a host and port.
func (d *DB) URL() string { return d.srv.URL(d.name) }

// Pool returns a new connection pool to the database, closed when t ends.
// It does not block: the pool connects on first use.
func (d *DB) Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), d.ConnString())
	if err != nil {
		t.Fatalf("pgtest: pool for %s: %v", d.name, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Exec runs sql (one or more statements; with no args it uses the simple
// protocol, which allows several) on a new connection and fails t on error.
// It blocks until the statements finish.
func (d *DB) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.ConnString())
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", d.name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: exec on %s: %v", d.name, err)
	}
}
