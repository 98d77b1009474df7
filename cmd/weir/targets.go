package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/examples/users"
)

// target is a database the reference job loads into.
type target interface {
	// String names the target for messages, without secrets.
	String() string
	CreateSchema(ctx context.Context) error
	// Count returns the rows in each of the job's tables.
	Count(ctx context.Context) (map[string]int64, error)
	// Truncate empties the job's tables.
	Truncate(ctx context.Context) error
	// Sink returns the multi-table sink and a func reporting the rows it
	// has loaded per table so far. An idempotent sink skips rows whose key
	// is already there, so replaying records after a crash doubles nothing.
	Sink(idempotent bool) (weir.Sink[users.User], func() map[string]int64, error)
	// Checkpoints returns a checkpoint store kept in the target itself.
	Checkpoints(ctx context.Context) (weir.CheckpointStore, error)
	// DeferConstraints drops what slows a bulk load down (PostgreSQL's
	// foreign keys, checked by a trigger per row) and returns the function
	// that puts it back; restoring checks every row loaded.
	DeferConstraints(ctx context.Context) (restore func(context.Context) error, err error)
	// Retryable classifies load errors worth retrying (a dropped
	// connection, a server restart); nil means none are.
	Retryable() func(error) bool
	// MaxLoadConcurrency is the most useful concurrent writers (1 for
	// SQLite's single writer, 0 for no limit).
	MaxLoadConcurrency() int
	Close()
}

// connectTimeout bounds how long an unreachable database can keep the
// command waiting before it says so.
const connectTimeout = 10 * time.Second

// openTarget parses --to and connects. Every failure is a usage error:
// nothing has been written yet.
func openTarget(ctx context.Context, spec string, loadConcurrency int) (target, error) {
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
		return &sqliteTarget{db: db, path: path}, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		cfg, err := pgxpool.ParseConfig(spec)
		if err != nil {
			return nil, usagef("--to: not a valid PostgreSQL URL: %w", err)
		}
		cfg.MaxConns = int32(max(loadConcurrency, 4) + 1)
		cctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		pool, err := pgxpool.NewWithConfig(cctx, cfg)
		if err == nil {
			err = pool.Ping(cctx)
		}
		name := redact(spec)
		if err != nil {
			if pool != nil {
				pool.Close()
			}
			return nil, usagef("cannot reach PostgreSQL at %s: %w", name, err)
		}
		return &pgTarget{pool: pool, name: name}, nil
	}
	return nil, usagef("--to %q: want sqlite:PATH or postgres://USER@HOST:PORT/DB", spec)
}

// redact drops the password from a URL for messages.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "(unparseable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

type sqliteTarget struct {
	db   *sql.DB
	path string
}

func (t *sqliteTarget) String() string { return "sqlite:" + t.path }

func (t *sqliteTarget) CreateSchema(ctx context.Context) error {
	if err := sqlite.Exec(ctx, t.db, users.SchemaSQLite); err != nil {
		return fmt.Errorf("create schema in %s: %w", t, err)
	}
	return nil
}

func (t *sqliteTarget) Count(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, name := range users.TableNames() {
		var n int64
		if err := t.db.QueryRowContext(ctx, `SELECT count(*) FROM "`+name+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s in %s: %w", name, t, err)
		}
		out[name] = n
	}
	return out, nil
}

func (t *sqliteTarget) Truncate(ctx context.Context) error {
	names := users.TableNames()
	var script strings.Builder
	for i := len(names) - 1; i >= 0; i-- { // children first
		fmt.Fprintf(&script, "DELETE FROM \"%s\";\n", names[i])
	}
	if err := sqlite.Exec(ctx, t.db, script.String()); err != nil {
		return fmt.Errorf("empty the tables of %s: %w", t, err)
	}
	return nil
}

func (t *sqliteTarget) Sink(idempotent bool) (weir.Sink[users.User], func() map[string]int64, error) {
	s, err := sqlite.NewMultiSink[users.User](t.db, sqlite.MultiSinkConfig[users.User]{Splitter: users.Splitter{}, IgnoreConflicts: idempotent})
	if err != nil {
		return nil, nil, err
	}
	names := users.TableNames()
	rows := func() map[string]int64 {
		out := make(map[string]int64, len(names))
		for i, n := range s.Rows() {
			out[names[i]] = n
		}
		return out
	}
	return s, rows, nil
}

func (t *sqliteTarget) Checkpoints(ctx context.Context) (weir.CheckpointStore, error) {
	return sqlite.NewCheckpointStore(ctx, t.db)
}

// DeferConstraints does nothing for SQLite: its foreign-key checks are
// cheap next to its single writer.
func (t *sqliteTarget) DeferConstraints(context.Context) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}

func (t *sqliteTarget) Retryable() func(error) bool { return nil }

func (t *sqliteTarget) MaxLoadConcurrency() int { return 1 }

func (t *sqliteTarget) Close() { t.db.Close() }

type pgTarget struct {
	pool *pgxpool.Pool
	name string
}

func (t *pgTarget) String() string { return t.name }

func (t *pgTarget) CreateSchema(ctx context.Context) error {
	if err := postgres.CreateSchema(ctx, t.pool, users.SchemaPostgres); err != nil {
		return fmt.Errorf("create schema in %s: %w", t, err)
	}
	return nil
}

func (t *pgTarget) Count(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, name := range users.TableNames() {
		var n int64
		if err := t.pool.QueryRow(ctx, `SELECT count(*) FROM "`+name+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s in %s: %w", name, t, err)
		}
		out[name] = n
	}
	return out, nil
}

func (t *pgTarget) Truncate(ctx context.Context) error {
	var quoted []string
	for _, n := range users.TableNames() {
		quoted = append(quoted, `"`+n+`"`)
	}
	if _, err := t.pool.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
		return fmt.Errorf("empty the tables of %s: %w", t, err)
	}
	return nil
}

func (t *pgTarget) Sink(idempotent bool) (weir.Sink[users.User], func() map[string]int64, error) {
	s, err := postgres.NewMultiSink[users.User](t.pool, postgres.MultiConfig[users.User]{Splitter: users.Splitter{}, Upsert: idempotent})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Rows, nil
}

func (t *pgTarget) Checkpoints(ctx context.Context) (weir.CheckpointStore, error) {
	return postgres.NewCheckpointStore(ctx, t.pool)
}

// deferredFKs records the foreign keys dropped for a load, in the target
// itself: a process killed mid-load leaves the definitions behind, and the
// next run puts them back.
const deferredFKs = "weir_deferred_fks"

// DeferConstraints saves the definitions of the job's foreign keys and drops
// them, in one transaction. On this machine the server spent about half its
// CPU in the per-row foreign-key triggers during the migration; adding the
// keys after the load checks every row once, in bulk (docs/bench-postgres.md).
func (t *pgTarget) DeferConstraints(ctx context.Context) (func(context.Context) error, error) {
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+deferredFKs+` (tbl text NOT NULL, name text NOT NULL, def text NOT NULL, PRIMARY KEY (tbl, name))`); err != nil {
		return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+deferredFKs+` (tbl, name, def)
		SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)
		ON CONFLICT DO NOTHING`, users.TableNames()); err != nil {
		return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
	}
	rows, err := tx.Query(ctx, `SELECT k.conname, c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)`, users.TableNames())
	if err != nil {
		return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
	}
	var drops []string
	for rows.Next() {
		var name, tbl string
		if err := rows.Scan(&name, &tbl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
		}
		drops = append(drops, fmt.Sprintf(`ALTER TABLE %q DROP CONSTRAINT %q`, tbl, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
	}
	for _, d := range drops {
		if _, err := tx.Exec(ctx, d); err != nil {
			return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("defer foreign keys in %s: %w", t, err)
	}
	return t.restoreConstraints, nil
}

// restoreConstraints adds back every deferred foreign key, checking the
// rows loaded, in one transaction.
func (t *pgTarget) restoreConstraints(ctx context.Context) error {
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("restore foreign keys in %s: %w", t, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, `SELECT tbl, name, def FROM `+deferredFKs)
	if err != nil {
		return fmt.Errorf("restore foreign keys in %s: %w", t, err)
	}
	var adds []string
	for rows.Next() {
		var tbl, name, def string
		if err := rows.Scan(&tbl, &name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("restore foreign keys in %s: %w", t, err)
		}
		adds = append(adds, fmt.Sprintf(`ALTER TABLE %q ADD CONSTRAINT %q %s`, tbl, name, def))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("restore foreign keys in %s: %w", t, err)
	}
	for _, a := range adds {
		if _, err := tx.Exec(ctx, a); err != nil {
			return fmt.Errorf("restore foreign keys in %s (%s): %w", t, a, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM `+deferredFKs); err != nil {
		return fmt.Errorf("restore foreign keys in %s: %w", t, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("restore foreign keys in %s: %w", t, err)
	}
	return nil
}

func (t *pgTarget) Retryable() func(error) bool { return postgres.Retryable }

func (t *pgTarget) MaxLoadConcurrency() int { return 0 }

func (t *pgTarget) Close() { t.pool.Close() }
