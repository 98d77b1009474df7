// Package sqlite connects weir pipelines to SQLite through the pure-Go
// driver modernc.org/sqlite (no cgo): weir's embedded default target.
//
// [Open] opens a database tuned for loading. [Sink] loads one table and
// [MultiSink] loads the several tables a [connect.Splitter] expands each
// record into; both insert each batch in one transaction with multi-row
// INSERT statements, and their OnConflict ([connect.Conflict]) fails,
// skips or updates a row whose key exists. [Source] reads a table or query with keyset
// pagination and can resume from a key: it implements weir.Positioner,
// and [CheckpointStore] keeps the checkpoints of weir's
// weir.WithCheckpoint in a table of the database. [Exec] runs schema
// scripts. The package follows the shape package connect describes.
//
// # One writer
//
// SQLite lets one connection write at a time. A pool of several connections
// that write at once gets SQLITE_BUSY errors (or waits out busy_timeout, or
// fails at once when a deferred transaction tries to upgrade its lock), so
// [Open] limits the pool to one connection: database/sql then queues
// callers instead, and a ":memory:" database is the same database for every
// caller. The sinks also serialise their own Writes with a mutex, so they
// stay correct on a *sql.DB opened some other way. Raising weir's
// LoadConcurrency above 1 for a SQLite sink buys nothing; the time goes to
// SQLite, not to waiting. To read while a long write runs, open a second
// *sql.DB with [Open]: in WAL mode readers do not block the writer.
//
// # Types
//
// Values go through database/sql and the driver unchanged: int64 and the
// other integers as INTEGER, float64 as REAL, string as TEXT, []byte as
// BLOB, nil (or a nil pointer, or an invalid sql.Null*) as NULL, bool as
// INTEGER 0 or 1 (it scans back into a bool). time.Time is stored as TEXT
// in UTC, "2006-01-02 15:04:05.999999999+00:00": SQLite's date functions
// read that form, it keeps nanoseconds, and because every value has the same
// offset, text order is time order. A column declared DATETIME, TIMESTAMP or
// DATE scans back into a time.Time (in UTC); for an INTEGER column, store
// t.UnixMilli() (or another unit) yourself.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DriverName is the database/sql driver name modernc.org/sqlite registers.
const DriverName = "sqlite"

// MaxParams is the most bound parameters in one statement: SQLite's
// SQLITE_MAX_VARIABLE_NUMBER since 3.32. The sinks size their multi-row
// INSERTs to stay within it.
const MaxParams = 32766

// BusyTimeoutMillis is how long a connection from [Open] waits for a lock
// held by another process before failing with SQLITE_BUSY.
const BusyTimeoutMillis = 10_000

// ErrClosed is returned by a Write or Read after Close.
var ErrClosed = errors.New("sqlite: closed")

// Open opens (creating it if needed) the SQLite database at path, set up
// for loading:
//
//   - journal_mode=WAL: readers and the writer do not block each other, and
//     a commit appends to the log instead of rewriting pages;
//   - synchronous=NORMAL: with WAL, a commit survives a crash of the process
//     and, except for the last transactions, of the machine, at a fraction of
//     FULL's fsyncs;
//   - foreign_keys=ON: SQLite's default is OFF;
//   - busy_timeout=BusyTimeoutMillis, and BEGIN IMMEDIATE for transactions,
//     so a writer waits for another process's lock instead of failing;
//   - time.Time written as UTC text (see the package documentation);
//   - one connection in the pool (see "One writer" above).
//
// path may be ":memory:" (journal mode is then "memory") or a "file:" URI;
// parameters already in it are kept. Open pings the database, so a path
// that cannot be opened fails here. The caller closes the *sql.DB.
func Open(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: Open: empty path")
	}
	sep := "?"
	if strings.Contains(path, "?") {
		if !strings.HasPrefix(path, "file:") {
			return nil, fmt.Errorf("sqlite: Open: path %q contains '?': use a file: URI to pass parameters", path)
		}
		sep = "&"
	}
	dsn := path + sep + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeoutMillis),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
		"_time_format=sqlite",
		"_timezone=UTC",
	}, "&")
	db, err := sql.Open(DriverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// Exec runs script, which may hold many statements separated by
// semicolons, in one transaction: either all of it applies or none does.
// It is meant for schema scripts (CREATE TABLE, CREATE INDEX, ...); the
// script must not hold its own BEGIN/COMMIT, nor statements SQLite refuses
// inside a transaction (VACUUM, PRAGMA journal_mode). Blocks until done or
// ctx is cancelled.
func Exec(ctx context.Context, db *sql.DB, script string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: exec script: begin: %w", err)
	}
	if _, err := tx.ExecContext(ctx, script); err != nil {
		return errors.Join(fmt.Errorf("sqlite: exec script: %w", err), rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: exec script: commit: %w", err)
	}
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// quoteIdent quotes a column name.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteTable quotes a table name; a dotted name is taken as schema.table
// and each part quoted.
func quoteTable(name string) string {
	if schema, table, ok := strings.Cut(name, "."); ok {
		return quoteIdent(schema) + "." + quoteIdent(table)
	}
	return quoteIdent(name)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
