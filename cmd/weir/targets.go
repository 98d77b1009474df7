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

func (t *pgTarget) Retryable() func(error) bool { return postgres.Retryable }

func (t *pgTarget) MaxLoadConcurrency() int { return 0 }

func (t *pgTarget) Close() { t.pool.Close() }
