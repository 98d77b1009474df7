package main

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/internal/redact"
)

// copySource is what `weir copy` reads: generic rows, and what it knows of
// them before the first row moves.
type copySource struct {
	src weir.Source[connect.Row]
	// names are the columns of every row, in the rows' order.
	names []string
	// types are the columns' types when the source declares them (a SQL
	// table); nil for files, whose types are inferred from sample.
	types  []connect.Column
	sample []connect.Row
	// table is the target table's default name: the file's base name
	// without extensions, or the source table's name.
	table string
	desc  string // for messages, without secrets
	// count counts the source's records again, for --verify; nil when
	// that would mean reading a stream twice.
	count func(ctx context.Context) (int64, error)
	close func()
}

// openCopySource parses the SOURCE argument and opens it. Every failure is
// a usage error: nothing has been written yet.
func openCopySource(ctx context.Context, spec string, f copyFlags) (*copySource, error) {
	switch {
	case spec == "-":
		if f.format == "" {
			return nil, usagef("SOURCE -: reading standard input needs --format csv, tsv, jsonl or json")
		}
		return openFileSource(ctx, spec, f)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openPostgresSource(ctx, spec, f)
	case strings.HasPrefix(spec, "sqlite:"):
		return openSQLiteSource(ctx, spec, f)
	case strings.HasPrefix(spec, "mongodb://"), strings.HasPrefix(spec, "mongodb+srv://"):
		return openMongoRowSource(ctx, spec, f)
	case isParquet(spec):
		return openParquetSource(ctx, spec)
	case strings.HasPrefix(spec, "mysql://"), strings.HasPrefix(spec, "mariadb://"):
		return nil, usagef("SOURCE %s: a MySQL/MariaDB database copies into postgres:// only: the whole database, or ?table=T into a target without ?table= and without --key, --resume or --schema", redact.String(spec))
	case strings.Contains(spec, "://"):
		return nil, usagef("SOURCE %s: unknown scheme; want a file path, postgres://…?table=T, sqlite:PATH?table=T or -", redact.String(spec))
	}
	return openFileSource(ctx, spec, f)
}

func fileFormat(name string) (file.Format, error) {
	switch name {
	case "":
		return file.FormatAuto, nil
	case "csv":
		return file.FormatCSV, nil
	case "tsv":
		return file.FormatTSV, nil
	case "jsonl", "ndjson":
		return file.FormatJSONL, nil
	case "json":
		return file.FormatJSON, nil
	}
	return 0, usagef("--format %q: want csv, tsv, jsonl (or ndjson) or json", name)
}

func openFileSource(ctx context.Context, spec string, f copyFlags) (*copySource, error) {
	format, err := fileFormat(f.format)
	if err != nil {
		return nil, err
	}
	cfg := file.RowSourceConfig{Format: format, Null: f.null, SampleSize: f.sample}
	var src *file.RowSource
	if spec == "-" {
		cfg.Name = "stdin"
		src, err = file.NewRowSource(os.Stdin, cfg)
	} else {
		src, err = file.OpenRows(spec, cfg)
	}
	if err != nil {
		return nil, usagef("SOURCE %s: %w", spec, err)
	}
	cs := &copySource{
		src:    src,
		names:  src.Columns(),
		sample: src.Sample(),
		table:  baseTable(spec),
		desc:   spec,
		close:  func() { src.Close(context.WithoutCancel(ctx)) },
	}
	if spec != "-" {
		cs.count = func(ctx context.Context) (int64, error) {
			again, err := file.OpenRows(spec, cfg)
			if err != nil {
				return 0, err
			}
			defer again.Close(ctx)
			return countAll(ctx, again)
		}
	}
	return cs, nil
}

// countAll reads src to its end and counts its records.
func countAll(ctx context.Context, src weir.Source[connect.Row]) (int64, error) {
	buf := make([]connect.Row, 1024)
	var n int64
	for {
		k, err := src.Read(ctx, buf)
		n += int64(k)
		switch {
		case errors.Is(err, io.EOF):
			return n, nil
		case err != nil:
			return n, err
		}
	}
}

// baseTable turns a path into a table name: "data/zip codes.csv.gz" → "zip
// codes"; "-" → "stdin".
func baseTable(path string) string {
	if path == "-" {
		return "stdin"
	}
	name := filepath.Base(path)
	for _, ext := range []string{".gz", ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet"} {
		name = strings.TrimSuffix(name, ext)
	}
	if strings.ContainsAny(name, "*?[") { // a glob names no table
		name = filepath.Base(filepath.Dir(path))
	}
	return name
}

// sqlParams splits the weir parameters (table, query, schema) off a
// database URL's query string, so that the driver never sees them.
func sqlParams(spec string) (base string, p url.Values, err error) {
	i := strings.IndexByte(spec, '?')
	if i < 0 {
		return spec, url.Values{}, nil
	}
	all, err := url.ParseQuery(spec[i+1:])
	if err != nil {
		return "", nil, err
	}
	p = url.Values{}
	for _, k := range []string{"table", "query", "schema"} {
		if v, ok := all[k]; ok {
			p[k] = v
			delete(all, k)
		}
	}
	base = spec[:i]
	if len(all) > 0 {
		base += "?" + all.Encode()
	}
	return base, p, nil
}

func openPostgresSource(ctx context.Context, spec string, f copyFlags) (*copySource, error) {
	name := redact.String(spec)
	base, p, err := sqlParams(spec)
	if err != nil {
		return nil, usagef("SOURCE %s: %w", name, err)
	}
	table, query := qualified(p.Get("schema"), p.Get("table")), p.Get("query")
	if (table == "") == (query == "") {
		return nil, usagef("SOURCE %s: name a table (?table=T) or a query (?query=SELECT…), one of them", name)
	}
	pool, err := dialPostgres(ctx, base, name, 2)
	if err != nil {
		return nil, err
	}
	src, err := postgres.NewRowSource(ctx, pool, postgres.RowSourceConfig{Table: table, Query: query})
	if err != nil {
		pool.Close()
		return nil, usagef("SOURCE %s: %w", name, redact.Error(err, spec))
	}
	cs := &copySource{src: src, types: src.Columns(), table: p.Get("table"), desc: name, close: pool.Close}
	if table != "" {
		cs.count = func(ctx context.Context) (n int64, err error) {
			return n, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgName(table)).Scan(&n)
		}
	} else {
		cs.table = "query"
	}
	cs.names = columnNames(cs.types)
	return cs, nil
}

func openSQLiteSource(ctx context.Context, spec string, f copyFlags) (*copySource, error) {
	path, p, err := sqlParams(strings.TrimPrefix(spec, "sqlite:"))
	if err != nil {
		return nil, usagef("SOURCE %s: %w", spec, err)
	}
	table, query := p.Get("table"), p.Get("query")
	if (table == "") == (query == "") {
		return nil, usagef("SOURCE %s: name a table (?table=T) or a query (?query=SELECT…), one of them", spec)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, usagef("SOURCE %s: %w", spec, err)
	}
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, usagef("SOURCE %s: %w", spec, err)
	}
	src, err := sqlite.NewRowSource(ctx, db, sqlite.RowSourceConfig{Table: table, Query: query})
	if err != nil {
		db.Close()
		return nil, usagef("SOURCE %s: %w", spec, err)
	}
	cs := &copySource{src: src, types: src.Columns(), table: table, desc: spec, close: func() { db.Close() }}
	if table != "" {
		cs.count = func(ctx context.Context) (n int64, err error) {
			return n, db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`).Scan(&n)
		}
	} else {
		cs.table = "query"
	}
	cs.names = columnNames(cs.types)
	return cs, nil
}

func columnNames(cols []connect.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// qualified joins a schema and a table name as "schema.table" (either may
// be empty).
func qualified(schema, table string) string {
	if schema == "" || table == "" {
		return table
	}
	return schema + "." + table
}

// dialPostgres connects a pool of up to conns connections and checks that
// the server answers; a failure is a usage error naming the server without
// its password.
func dialPostgres(ctx context.Context, dsn, name string, conns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, usagef("%s: not a valid PostgreSQL URL: %w", name, redact.Error(err, dsn))
	}
	cfg.MaxConns = int32(conns)
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(cctx, cfg)
	if err == nil {
		err = pool.Ping(cctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		// A server that answered with an error was reached: say what it
		// said, without the attempts before it (pgx lists a refused TLS
		// attempt first under sslmode=prefer).
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000" || pe.Code == "3D000") {
			return nil, usagef("PostgreSQL at %s refused the connection: %s (SQLSTATE %s)", name, redact.Error(errors.New(pe.Message), dsn), pe.Code)
		}
		return nil, usagef("cannot reach PostgreSQL at %s: %w", name, redact.Error(err, dsn))
	}
	return pool, nil
}
