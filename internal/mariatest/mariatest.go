// Package mariatest starts a throwaway MariaDB server for tests, so that
// `go test ./...` needs no set-up, as internal/pgtest does for PostgreSQL.
//
// One server is shared by every test of a test binary; each test gets its
// own fresh database from [New], dropped when the test ends.
//
//	func TestMain(m *testing.M) { mariatest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		db := mariatest.New(t)   // fresh database on the shared server
//		sqlDB := db.Open(t)      // *sql.DB, closed when t ends
//		db.Exec(t, `CREATE TABLE users (id bigint PRIMARY KEY)`)
//		u := db.URL()            // mysql://root@127.0.0.1:PORT/NAME
//	}
//
// # Binaries
//
// mariadbd (or mysqld) and mariadb-install-db (or mysql_install_db) are
// looked up on PATH, then in /usr/sbin and /usr/bin. Without them the test
// is skipped with a message naming the missing binary, except when the
// environment variable CI is non-empty: then it fails, so that a CI machine
// missing MariaDB cannot pass by skipping every database test.
//
// # The server
//
// The data directory, socket, log and pid file live in a temporary
// directory (weir-mariatest-* under [os.TempDir]). The server listens on a
// free TCP port of 127.0.0.1 and on a Unix socket there, with utf8mb4 as the
// server's character set, no binary log and InnoDB's log flushed once a
// second (a crash loses the data, which a test server does not mind). The
// user root has no password and may connect from 127.0.0.1. When the test
// runs as root, the server runs as root (--user=root), which MariaDB
// allows when asked. It runs as a child of the test binary and, on Linux,
// is killed when the binary dies; [Main] stops it and removes its
// directory after the tests.
package mariatest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/weir-etl/weir/internal/testserver"
)

// server is the test binary's shared MariaDB server.
var server = &testserver.Shared[*Server]{Name: "mariatest", Start: Start, Stop: (*Server).Stop}

// Main runs the tests of m, then stops the shared server (if a test started
// it) and removes its directory, and exits with the tests' status. Call it
// from TestMain; it does not return.
func Main(m *testing.M) { os.Exit(server.Run(m)) }

// Run is [Main] without the exit, to share the test binary with another
// throwaway server:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(mariatest.Wrap(m))) }
func Run(m testserver.Tests) int { return server.Run(m) }

// Wrap returns tests that [Run] m when run.
func Wrap(m testserver.Tests) testserver.Tests { return server.Wrap(m) }

// Shared returns the test binary's server, starting it on first use (a few
// seconds); later calls return at once. It skips or fails t as the package
// doc says when the binaries are missing, and fails t if the server cannot
// start or if TestMain does not call [Main]. Safe for concurrent use.
func Shared(t testing.TB) *Server {
	t.Helper()
	return server.Get(t)
}

// New creates a fresh, empty database on the shared server (starting the
// server on first use, see [Shared]) and drops it when t ends. Safe for
// concurrent use by parallel tests.
func New(t testing.TB) *DB {
	t.Helper()
	return Shared(t).NewDB(t)
}

// DB is one test's database on a [Server].
type DB struct {
	srv  *Server
	name string
}

// NewDB creates a fresh database on s (utf8mb4), dropped when t ends. Its
// name is derived from the test's name and made unique.
func (s *Server) NewDB(t testing.TB) *DB {
	t.Helper()
	name := testserver.DBName(t.Name(), s.seq.Add(1))
	if err := s.AdminExec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("mariatest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := s.AdminExec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("mariatest: drop database %s: %v", name, err)
		}
	})
	return &DB{srv: s, name: name}
}

// Name returns the database's name.
func (d *DB) Name() string { return d.name }

// Server returns the server holding the database.
func (d *DB) Server() *Server { return d.srv }

// URL returns a mysql://root@127.0.0.1:PORT/NAME URL for the database.
func (d *DB) URL() string { return d.srv.URL(d.name) }

// Config returns a go-sql-driver config for the database over TCP, with
// multiple statements allowed and the session time zone set to UTC.
func (d *DB) Config() *mysql.Config { return d.srv.config(d.name) }

// Open returns a *sql.DB on the database, closed when t ends. It does not
// block: the pool connects on first use.
func (d *DB) Open(t testing.TB) *sql.DB {
	t.Helper()
	c, err := mysql.NewConnector(d.Config())
	if err != nil {
		t.Fatalf("mariatest: connector for %s: %v", d.name, err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// Exec runs query (one or more statements separated by semicolons) on a new
// connection to the database and fails t on error.
func (d *DB) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if err := d.srv.exec(d.name, query, args...); err != nil {
		t.Fatalf("mariatest: exec on %s: %v", d.name, err)
	}
}

// config returns a driver config for dbname as root over TCP.
func (s *Server) config(dbname string) *mysql.Config {
	c := mysql.NewConfig()
	c.User = "root"
	c.Net = "tcp"
	c.Addr = fmt.Sprintf("127.0.0.1:%d", s.port)
	c.DBName = dbname
	c.MultiStatements = true
	c.Params = map[string]string{"time_zone": "'+00:00'"}
	return c
}

// exec runs sql on a new connection to dbname ("" for none).
func (s *Server) exec(dbname, query string, args ...any) error {
	c, err := mysql.NewConnector(s.config(dbname))
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err = db.ExecContext(ctx, query, args...)
	return err
}

// AdminExec runs one statement as root outside any database.
func (s *Server) AdminExec(query string) error { return s.exec("", query) }
