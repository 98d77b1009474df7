package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/redact"
)

// jobSink is what every connector's MultiSink offers the reference job:
// Write, and the rows loaded per table.
type jobSink interface {
	weir.Sink[users.User]
	Rows() map[string]int64
}

// target is a database the reference job loads into. The connectors have
// one shape (Exec, NewMultiSink, NewCheckpointStore), so a target is the
// same code for every database, set up by openTarget with what differs.
type target struct {
	name     string // for messages, without secrets
	schema   string // creates the job's tables
	truncate string // empties them
	// exec runs a script in one transaction.
	exec func(ctx context.Context, script string) error
	// count returns the rows in table.
	count func(ctx context.Context, table string) (int64, error)
	// sink returns the multi-table sink.
	sink func(on connect.Conflict) (jobSink, error)
	// checkpoints returns a checkpoint store kept in the target itself.
	checkpoints func(ctx context.Context) (weir.CheckpointStore, error)
	// deferFKs drops what slows a bulk load down (foreign keys; with keys,
	// also primary keys, unique constraints and indexes) and returns the
	// function that puts it back; nil when there is nothing worth deferring.
	deferFKs func(ctx context.Context, keys bool) (restore func(context.Context) error, err error)
	// restoreDeferred adds back what an earlier run deferred and could
	// not restore (it was killed); nil when nothing is ever deferred.
	restoreDeferred func(ctx context.Context) error
	// retryable classifies load errors worth retrying (a dropped
	// connection, a server restart); nil means none are.
	retryable func(error) bool
	// maxLoaders is the most useful concurrent writers (1 for SQLite's
	// single writer, 0 for no limit).
	maxLoaders int
	close      func()
}

// connectTimeout bounds how long an unreachable database can keep the
// command waiting before it says so.
const connectTimeout = 10 * time.Second

// openTarget parses --to and connects. Every failure is a usage error:
// nothing has been written yet.
func openTarget(ctx context.Context, spec string, loadConcurrency int) (*target, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, usagef("--to sqlite: needs a path, as in sqlite:./weir.db")
		}
		if dir := filepath.Dir(path); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return nil, usagef("--to %s: directory %s does not exist", spec, dir)
			}
		}
		db, err := sqlite.Open(path)
		if err != nil {
			return nil, usagef("--to %s: %w", spec, err)
		}
		var empty strings.Builder
		names := users.TableNames()
		for i := len(names) - 1; i >= 0; i-- { // children first
			fmt.Fprintf(&empty, "DELETE FROM \"%s\";\n", names[i])
		}
		return &target{
			name:     "sqlite:" + path,
			schema:   users.SchemaSQLite,
			truncate: empty.String(),
			exec:     func(ctx context.Context, script string) error { return sqlite.Exec(ctx, db, script) },
			count: func(ctx context.Context, table string) (n int64, err error) {
				return n, db.QueryRowContext(ctx, countSQL(table)).Scan(&n)
			},
			sink: func(on connect.Conflict) (jobSink, error) {
				return sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[users.User]{Splitter: users.Splitter{}, OnConflict: on})
			},
			checkpoints: func(ctx context.Context) (weir.CheckpointStore, error) { return sqlite.NewCheckpointStore(ctx, db) },
			// SQLite's foreign-key checks are cheap next to its single
			// writer: nothing to defer.
			maxLoaders: 1,
			close:      func() { db.Close() },
		}, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		name := redact.String(spec)
		pool, err := dialPostgres(ctx, spec, name, max(loadConcurrency, 4)+1)
		if err != nil {
			return nil, err
		}
		quoted := make([]string, 0, users.NumTables)
		for _, n := range users.TableNames() {
			quoted = append(quoted, `"`+n+`"`)
		}
		return &target{
			name:     name,
			schema:   users.SchemaPostgres,
			truncate: "TRUNCATE " + strings.Join(quoted, ", "),
			exec:     func(ctx context.Context, script string) error { return postgres.Exec(ctx, pool, script) },
			count: func(ctx context.Context, table string) (n int64, err error) {
				return n, pool.QueryRow(ctx, countSQL(table)).Scan(&n)
			},
			sink: func(on connect.Conflict) (jobSink, error) {
				return postgres.NewMultiSink(pool, postgres.MultiSinkConfig[users.User]{Splitter: users.Splitter{}, OnConflict: on})
			},
			checkpoints: func(ctx context.Context) (weir.CheckpointStore, error) { return postgres.NewCheckpointStore(ctx, pool) },
			deferFKs: func(ctx context.Context, keys bool) (func(context.Context) error, error) {
				return deferConstraints(ctx, pool, name, users.TableNames(), keys)
			},
			restoreDeferred: func(ctx context.Context) error { return restorePendingConstraints(ctx, pool, name) },
			retryable:       postgres.Retryable,
			close:           pool.Close,
		}, nil
	}
	return nil, usagef("--to %q: want sqlite:PATH or postgres://USER@HOST:PORT/DB", redact.String(spec))
}

func countSQL(table string) string { return `SELECT count(*) FROM "` + table + `"` }

func (t *target) String() string { return t.name }

// CreateSchema creates the job's tables, if they do not exist, in one
// transaction.
func (t *target) CreateSchema(ctx context.Context) error {
	if err := t.exec(ctx, t.schema); err != nil {
		return fmt.Errorf("create schema in %s: %w", t, err)
	}
	return nil
}

// Count returns the rows in each of the job's tables.
func (t *target) Count(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, name := range users.TableNames() {
		n, err := t.count(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("count %s in %s: %w", name, t, err)
		}
		out[name] = n
	}
	return out, nil
}

// Truncate empties the job's tables.
func (t *target) Truncate(ctx context.Context) error {
	if err := t.exec(ctx, t.truncate); err != nil {
		return fmt.Errorf("empty the tables of %s: %w", t, err)
	}
	return nil
}

// Sink returns the multi-table sink. An idempotent sink skips rows whose
// key is already there (ConflictIgnore), so replaying records after a crash
// doubles nothing.
func (t *target) Sink(idempotent bool) (jobSink, error) {
	on := connect.ConflictError
	if idempotent {
		on = connect.ConflictIgnore
	}
	return t.sink(on)
}

// DeferConstraints drops what slows a bulk load down (PostgreSQL's foreign
// keys, checked by a trigger per row; with keys, also the primary keys,
// unique constraints and indexes, maintained row by row) and returns the
// function that puts it back; restoring checks every row loaded. Keys may
// only be deferred when nothing relies on them during the load: not for an
// idempotent (--resume) load, whose ON CONFLICT needs them.
func (t *target) DeferConstraints(ctx context.Context, keys bool) (restore func(context.Context) error, err error) {
	if t.deferFKs == nil {
		return func(context.Context) error { return nil }, nil
	}
	return t.deferFKs(ctx, keys)
}

// RestoreDeferred adds back the constraints an earlier run deferred and
// never restored (it was killed mid-load), checking every row; a run that
// does not defer them itself (--verify, --defer-constraints=false) calls
// it first, so that no path leaves them missing.
func (t *target) RestoreDeferred(ctx context.Context) error {
	if t.restoreDeferred == nil {
		return nil
	}
	return t.restoreDeferred(ctx)
}
