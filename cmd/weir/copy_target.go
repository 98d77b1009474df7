package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/internal/redact"
)

// rowSink is a generic-row sink that counts what it committed.
type rowSink interface {
	weir.Sink[connect.Row]
	Rows() int64
}

// copyTarget is where `weir copy` and `weir run` load: tables of a
// database, or a file. Like the reference job's target, it is one struct
// for every kind, filled in by openCopyTarget with what differs. The
// functions that take a table name work on any table of the database;
// table is the one `weir copy` loads.
type copyTarget struct {
	db    string // the database, for messages, without secrets
	desc  string // the table (or file), for messages, without secrets
	table string // the table's name; "" for a file
	// columns returns a table's columns, or exists=false.
	columns func(ctx context.Context, table string) (cols []connect.Column, exists bool, err error)
	count   func(ctx context.Context, table string) (int64, error)
	create  func(ctx context.Context, table string, cols []connect.Column, key []string) error
	ddl     func(table string, cols []connect.Column, key []string) string
	empty   func(ctx context.Context, table string) error // TRUNCATE
	drop    func(ctx context.Context, table string) error
	// compact returns the database's file to a fresh state (SQLite:
	// VACUUM, WAL emptied), so that weir tune's trials each start alike;
	// nil where nothing needs it.
	compact func(ctx context.Context) error
	sink    func(table string, cols []connect.Column, key []string, on connect.Conflict) (rowSink, error)
	// multi loads the tables of a splitter (weir run); nil for a file.
	multi func(sp connect.Splitter[connect.Row], on connect.Conflict) (multiSink, error)
	// checkpoints returns a store kept in the target; nil for files.
	checkpoints func(ctx context.Context) (weir.CheckpointStore, error)
	retryable   func(error) bool
	maxLoaders  int  // 1 for a single writer, 0 for no limit
	isFile      bool // a file target: no table, no resume
	close       func()
}

func (t *copyTarget) String() string { return t.desc }

// openCopyTarget parses the TARGET argument and connects. table is the
// name to use when TARGET names none.
func openCopyTarget(ctx context.Context, spec, table string, loaders int) (*copyTarget, error) {
	switch {
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openPostgresTarget(ctx, spec, table, loaders)
	case strings.HasPrefix(spec, "sqlite:"):
		return openSQLiteTarget(ctx, spec, table)
	case isParquet(spec):
		return openParquetTarget(spec)
	case strings.Contains(spec, "://"):
		return nil, usagef("TARGET %s: unknown scheme; want postgres://…[?table=T], sqlite:PATH[?table=T], or a .csv, .jsonl or .parquet path", redact.String(spec))
	}
	return openFileTarget(spec)
}

func openPostgresTarget(ctx context.Context, spec, table string, loaders int) (*copyTarget, error) {
	name := redact.String(spec)
	base, p, err := sqlParams(spec)
	if err != nil {
		return nil, usagef("TARGET %s: %w", name, err)
	}
	if p.Has("query") {
		return nil, usagef("TARGET %s: a query is not a place to load into; name a table with ?table=T", name)
	}
	if t := p.Get("table"); t != "" {
		table = t
	}
	table = qualified(p.Get("schema"), table)
	pool, err := dialPostgres(ctx, base, name, max(loaders, 4)+1)
	if err != nil {
		return nil, err
	}
	return &copyTarget{
		db:    name,
		desc:  fmt.Sprintf("%s table %s", name, table),
		table: table,
		columns: func(ctx context.Context, table string) ([]connect.Column, bool, error) {
			return postgres.TableColumns(ctx, pool, table)
		},
		count: func(ctx context.Context, table string) (n int64, err error) {
			return n, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgName(table)).Scan(&n)
		},
		create: func(ctx context.Context, table string, cols []connect.Column, key []string) error {
			return postgres.CreateTable(ctx, pool, table, cols, key)
		},
		ddl: postgres.CreateTableSQL,
		empty: func(ctx context.Context, table string) error {
			return postgres.Exec(ctx, pool, "TRUNCATE "+pgName(table))
		},
		drop: func(ctx context.Context, table string) error {
			return postgres.Exec(ctx, pool, "DROP TABLE "+pgName(table))
		},
		sink: func(table string, cols []connect.Column, key []string, on connect.Conflict) (rowSink, error) {
			return postgres.NewRowSink(pool, postgres.RowSinkConfig{
				Table: connect.Table{Name: table, Columns: columnNames(cols), Key: key}, OnConflict: on})
		},
		multi:       pgMulti(pool),
		checkpoints: func(ctx context.Context) (weir.CheckpointStore, error) { return postgres.NewCheckpointStore(ctx, pool) },
		retryable:   postgres.Retryable,
		close:       pool.Close,
	}, nil
}

// pgName quotes a "schema.table" or "table" name for PostgreSQL.
func pgName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(parts, ".")
}

func sqliteName(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func openSQLiteTarget(ctx context.Context, spec, table string) (*copyTarget, error) {
	path, p, err := sqlParams(strings.TrimPrefix(spec, "sqlite:"))
	if err != nil {
		return nil, usagef("TARGET %s: %w", spec, err)
	}
	if path == "" {
		return nil, usagef("TARGET %s: needs a path, as in sqlite:./out.db", spec)
	}
	if p.Has("query") || p.Has("schema") {
		return nil, usagef("TARGET %s: takes ?table=T only", spec)
	}
	if t := p.Get("table"); t != "" {
		table = t
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, usagef("TARGET %s: directory %s does not exist", spec, dir)
		}
	}
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, usagef("TARGET %s: %w", spec, err)
	}
	return &copyTarget{
		db:    "sqlite:" + path,
		desc:  fmt.Sprintf("sqlite:%s table %s", path, table),
		table: table,
		columns: func(ctx context.Context, table string) ([]connect.Column, bool, error) {
			return sqlite.TableColumns(ctx, db, table)
		},
		count: func(ctx context.Context, table string) (n int64, err error) {
			return n, db.QueryRowContext(ctx, "SELECT count(*) FROM "+sqliteName(table)).Scan(&n)
		},
		create: func(ctx context.Context, table string, cols []connect.Column, key []string) error {
			return sqlite.CreateTable(ctx, db, table, cols, key)
		},
		ddl: sqlite.CreateTableSQL,
		empty: func(ctx context.Context, table string) error {
			return sqlite.Exec(ctx, db, "DELETE FROM "+sqliteName(table))
		},
		compact: func(ctx context.Context) error {
			if _, err := db.ExecContext(ctx, "VACUUM"); err != nil { // not in a transaction
				return fmt.Errorf("vacuum %s: %w", path, err)
			}
			_, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
			return err
		},
		drop: func(ctx context.Context, table string) error {
			return sqlite.Exec(ctx, db, "DROP TABLE "+sqliteName(table))
		},
		sink: func(table string, cols []connect.Column, key []string, on connect.Conflict) (rowSink, error) {
			return sqlite.NewRowSink(db, sqlite.RowSinkConfig{
				Table: connect.Table{Name: table, Columns: columnNames(cols), Key: key}, OnConflict: on})
		},
		multi:       sqliteMulti(db),
		checkpoints: func(ctx context.Context) (weir.CheckpointStore, error) { return sqlite.NewCheckpointStore(ctx, db) },
		maxLoaders:  1,
		close:       func() { db.Close() },
	}, nil
}

// openFileTarget is a .csv, .tsv or .jsonl path: a file is not a table,
// so --if-exists applies to the file itself.
func openFileTarget(path string) (*copyTarget, error) {
	var format file.Format
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		format = file.FormatCSV
	case ".tsv":
		format = file.FormatTSV
	case ".jsonl", ".ndjson":
		format = file.FormatJSONL
	default:
		return nil, usagef("TARGET %s: want a .csv, .tsv, .jsonl or .parquet path, postgres://… or sqlite:PATH", redact.String(path))
	}
	return fileTarget(path, func(cols []connect.Column) (rowSink, error) {
		s, err := file.CreateRows(path, file.RowSinkConfig{Format: format, Columns: cols})
		if err != nil {
			return nil, err
		}
		return &fileRowSink{RowSink: s}, nil
	})
}

// fileTarget is a target file at path: no table, one writer, --if-exists
// about the file; sink makes the writer for the columns when the run
// starts (and may truncate or replace the file then).
func fileTarget(path string, sink func(cols []connect.Column) (rowSink, error)) (*copyTarget, error) {
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, usagef("TARGET %s: directory %s does not exist", path, dir)
		}
	}
	return &copyTarget{
		db:     path,
		desc:   path,
		isFile: true,
		columns: func(context.Context, string) ([]connect.Column, bool, error) {
			_, err := os.Stat(path)
			if errors.Is(err, os.ErrNotExist) {
				return nil, false, nil
			}
			return nil, err == nil, err
		},
		count:  func(context.Context, string) (int64, error) { return 0, nil },
		create: func(context.Context, string, []connect.Column, []string) error { return nil },
		ddl:    func(string, []connect.Column, []string) string { return "" },
		empty:  func(context.Context, string) error { return nil }, // the sink truncates or replaces
		drop:   func(context.Context, string) error { return nil },
		sink: func(_ string, cols []connect.Column, _ []string, _ connect.Conflict) (rowSink, error) {
			return sink(cols)
		},
		maxLoaders: 1,
		close:      func() {},
	}, nil
}

// fileRowSink counts the rows a file sink wrote.
type fileRowSink struct {
	*file.RowSink
	n atomic.Int64
}

func (s *fileRowSink) Write(ctx context.Context, batch []connect.Row) error {
	if err := s.RowSink.Write(ctx, batch); err != nil {
		return err
	}
	s.n.Add(int64(len(batch)))
	return nil
}

func (s *fileRowSink) Rows() int64 { return s.n.Load() }
