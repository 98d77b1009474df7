package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/internal/redact"
)

// keyRange is a partition of a table by its integer key, or of the users
// generator by id: the keys in [Lo, Hi]. A nil bound is open (the first
// partition of a table has no lower bound, the last no upper one, so that
// every key is in one partition).
type keyRange struct {
	Column string `json:"column,omitempty"`
	Lo     *int64 `json:"lo,omitempty"`
	Hi     *int64 `json:"hi,omitempty"`
}

// where is the range as a SQL condition on its column, quoted by quote;
// "" for the whole table. The bounds are integers: nothing to escape.
func (r keyRange) where(quote func(string) string) string {
	var conds []string
	if r.Lo != nil {
		conds = append(conds, quote(r.Column)+" >= "+strconv.FormatInt(*r.Lo, 10))
	}
	if r.Hi != nil {
		conds = append(conds, quote(r.Column)+" <= "+strconv.FormatInt(*r.Hi, 10))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// sqlTable is a table of a SQL source: how to query it and what it is.
type sqlTable struct {
	from  string // the table, quoted (schema.table)
	name  string // the table's name, for positions and messages
	query func(ctx context.Context, q string, row func(scan func(...any) error) error) error
	close func()
}

// openSQLTable opens the table of a postgres://…?table=T or
// sqlite:PATH?table=T source.
func openSQLTable(ctx context.Context, spec string) (*sqlTable, error) {
	if strings.HasPrefix(spec, "sqlite:") {
		path, p, err := sqlParams(strings.TrimPrefix(spec, "sqlite:"))
		if err != nil || p.Get("table") == "" || p.Has("query") {
			return nil, usagef("SOURCE %s: --nats splits a table by its key: name it with ?table=T", spec)
		}
		db, err := sqlite.Open(path)
		if err != nil {
			return nil, usagef("SOURCE %s: %w", spec, err)
		}
		return &sqlTable{from: quoteIdent(p.Get("table")), name: p.Get("table"), close: func() { db.Close() },
			query: func(ctx context.Context, q string, row func(scan func(...any) error) error) error {
				rows, err := db.QueryContext(ctx, q)
				if err != nil {
					return err
				}
				defer rows.Close()
				return scanRows(rows, row)
			}}, nil
	}
	name := redact.String(spec)
	base, p, err := sqlParams(spec)
	if err != nil || p.Get("table") == "" || p.Has("query") {
		return nil, usagef("SOURCE %s: --nats splits a table by its key: name it with ?table=T", name)
	}
	pool, err := dialPostgres(ctx, base, name, 2)
	if err != nil {
		return nil, err
	}
	table := qualified(p.Get("schema"), p.Get("table"))
	return &sqlTable{from: pgName(table), name: p.Get("table"), close: pool.Close,
		query: func(ctx context.Context, q string, row func(scan func(...any) error) error) error {
			rows, err := pool.Query(ctx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			return scanRows(rows, row)
		}}, nil
}

// rowScanner is a query's result, as database/sql and pgx both give it.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanRows calls row for each row of rows, with the row's Scan.
func scanRows(rows rowScanner, row func(scan func(...any) error) error) error {
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sourceKey is the column a table source is split by: --key, or the
// table's primary key; it must be one integer column.
func sourceKey(ctx context.Context, spec string, t *sqlTable, key []string, cols []connect.Column) (string, error) {
	if len(key) == 0 {
		q := `SELECT name FROM pragma_table_info('` + strings.ReplaceAll(t.name, `'`, `''`) + `') WHERE pk > 0 ORDER BY pk`
		if !strings.HasPrefix(spec, "sqlite:") {
			q = `SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
				WHERE i.indrelid = to_regclass('` + strings.ReplaceAll(t.from, `'`, `''`) + `') AND i.indisprimary`
		}
		if err := t.query(ctx, q, func(scan func(...any) error) error {
			var k string
			err := scan(&k)
			key = append(key, k)
			return err
		}); err != nil {
			return "", fmt.Errorf("the primary key of %s: %w", t.name, err)
		}
	}
	if len(key) != 1 {
		return "", usagef("SOURCE %s: --nats splits a table by one integer key column: %s has key %v; pass --key COLUMN", redact.String(spec), t.name, key)
	}
	i := slices.IndexFunc(cols, func(c connect.Column) bool { return c.Name == key[0] })
	if i < 0 || (cols[i].Type != connect.TypeInt32 && cols[i].Type != connect.TypeInt64) {
		return "", usagef("SOURCE %s: --nats splits a table by one integer key column; %q is not an integer column of %s", redact.String(spec), key[0], t.name)
	}
	return key[0], nil
}

// splitKeys splits table t by its integer column col into ranges of about
// rows records each, cut where the key's order puts them (ntile over the
// key: one pass over its index), and returns each range's record count.
// The first range has no lower bound and the last no upper one.
func splitKeys(ctx context.Context, t *sqlTable, col string, rows int64) ([]keyRange, []int64, error) {
	var total int64
	if err := t.query(ctx, "SELECT count(*) FROM "+t.from, func(scan func(...any) error) error { return scan(&total) }); err != nil {
		return nil, nil, fmt.Errorf("count %s: %w", t.name, err)
	}
	n := max((total+rows-1)/rows, 1)
	k := quoteIdent(col)
	q := fmt.Sprintf("SELECT min(%s), count(*) FROM (SELECT %s, ntile(%d) OVER (ORDER BY %s) AS b FROM %s) AS q GROUP BY b ORDER BY b", k, k, n, k, t.from)
	var los, counts []int64
	if err := t.query(ctx, q, func(scan func(...any) error) error {
		var lo, c int64
		err := scan(&lo, &c)
		los, counts = append(los, lo), append(counts, c)
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("split %s by %s: %w", t.name, col, err)
	}
	if len(los) == 0 { // an empty table: one partition, which reads nothing
		return []keyRange{{Column: col}}, []int64{0}, nil
	}
	ranges := make([]keyRange, len(los))
	for i := range los {
		ranges[i].Column = col
		if i > 0 {
			ranges[i].Lo = &los[i]
		}
		if i+1 < len(los) {
			hi := los[i+1] - 1
			ranges[i].Hi = &hi
		}
	}
	return ranges, counts, nil
}

// openKeyRange opens the records of a key range of the table of spec as a
// keyset read of its rows (a query, paged by the key, resumable from the
// last key: its checkpoint). A row's Pos is {table, its key}.
func openKeyRange(ctx context.Context, spec string, r keyRange) (*copySource, error) {
	var table string
	var src weir.Source[connect.Row]
	var cols []connect.Column
	var closeDB func()
	if strings.HasPrefix(spec, "sqlite:") {
		path, p, err := sqlParams(strings.TrimPrefix(spec, "sqlite:"))
		if err != nil {
			return nil, err
		}
		db, err := sqlite.Open(path)
		if err != nil {
			return nil, err
		}
		table = p.Get("table")
		rs, err := sqlite.NewRowSource(ctx, db, sqlite.RowSourceConfig{Query: "SELECT * FROM " + quoteIdent(table) + r.where(quoteIdent), Key: []string{r.Column}})
		if err != nil {
			db.Close()
			return nil, err
		}
		src, cols, closeDB = rs, rs.Columns(), func() { db.Close() }
	} else {
		base, p, err := sqlParams(spec)
		if err != nil {
			return nil, err
		}
		pool, err := dialPostgres(ctx, base, redact.String(spec), 2)
		if err != nil {
			return nil, err
		}
		table = p.Get("table")
		from := pgName(qualified(p.Get("schema"), table))
		rs, err := postgres.NewRowSource(ctx, pool, postgres.RowSourceConfig{Query: "SELECT * FROM " + from + r.where(quoteIdent), Key: []string{r.Column}})
		if err != nil {
			pool.Close()
			return nil, redact.Error(err, spec)
		}
		src, cols, closeDB = rs, rs.Columns(), pool.Close
	}
	at := slices.IndexFunc(cols, func(c connect.Column) bool { return c.Name == r.Column })
	return &copySource{
		src:   &keyedSource{src: src, pos: src.(weir.Positioner), table: table, key: at},
		names: columnNames(cols), types: cols, table: table,
		desc: redact.String(spec), close: closeDB,
	}, nil
}

// keyedSource is a keyset read whose rows are placed by their key: Pos
// {table, key}, the same in every run of a partition, so that a reject's
// position names its row and a redelivered partition's rejects are known
// again.
type keyedSource struct {
	src   weir.Source[connect.Row]
	pos   weir.Positioner
	table string
	key   int
}

func (s *keyedSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	n, err := s.src.Read(ctx, buf)
	for i := range buf[:n] {
		buf[i].Pos = connect.Pos{Name: s.table, Line: buf[i].Values[s.key].Int()}
	}
	return n, err
}

func (s *keyedSource) Position() ([]byte, error) { return s.pos.Position() }
func (s *keyedSource) Seek(pos []byte) error     { return s.pos.Seek(pos) }
