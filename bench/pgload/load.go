package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/connect/postgres"
)

// loadOpts are the settings of one weir load.
type loadOpts struct {
	url   string
	table string
	cfg   weir.Config
}

// createTable (re)creates the benchmark table.
func createTable(ctx context.Context, url, table string, pk bool) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, tableDDL(table, pk)); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// truncate empties table, so that every run loads into the same state.
func truncate(ctx context.Context, db postgres.DB, table string) error {
	if _, err := db.Exec(ctx, "TRUNCATE "+quoteIdent(table)); err != nil {
		return fmt.Errorf("truncate %s: %w", table, err)
	}
	return nil
}

func count(ctx context.Context, db postgres.DB, table string) (int64, error) {
	rows, err := db.Query(ctx, "SELECT count(*) FROM "+quoteIdent(table))
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	n, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// checkCount fails unless table holds want rows.
func checkCount(ctx context.Context, db postgres.DB, table string, want int64) error {
	n, err := count(ctx, db, table)
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%s holds %d rows after the load, want %d", table, n, want)
	}
	return nil
}

// buildRows returns rows 1..n as pgx wants them, boxed, before any clock
// starts: the bare loop's input.
func buildRows(n int64) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = rowValues(rowAt(int64(i)+1), make([]any, 0, len(columns)))
	}
	return rows
}

// bareCopy loads rows with pgx alone on conns connections, opened before
// the clock starts as weir's pool opens its own: connection i runs the
// CopyFroms of batches i, i+conns, i+2×conns, ... of batch rows each (with
// batch 0, each connection one COPY of its share). So it compares with a
// weir load on as many connections (see loaders), not with one. It
// truncates the table first and returns the time the COPYs took and how
// many connections ran one.
func bareCopy(ctx context.Context, url, table string, rows [][]any, batch, conns int) (time.Duration, int, error) {
	if conns < 1 {
		return 0, 0, fmt.Errorf("bare copy: conns must be >= 1, got %d", conns)
	}
	cs := make([]*pgx.Conn, 0, conns)
	defer func() {
		for _, c := range cs {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	for range conns {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, 0, fmt.Errorf("connect: %w", err)
		}
		cs = append(cs, c)
	}
	if err := truncate(ctx, cs[0], table); err != nil {
		return 0, 0, err
	}
	if batch <= 0 {
		batch = max(1, (len(rows)+conns-1)/conns)
	}
	ident := pgx.Identifier{table}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var used atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range cs {
		wg.Go(func() {
			did := false
			for lo := i * batch; lo < len(rows); lo += conns * batch {
				hi := min(lo+batch, len(rows))
				n, err := c.CopyFrom(ctx, ident, columns, pgx.CopyFromRows(rows[lo:hi]))
				if err == nil && n != int64(hi-lo) {
					err = fmt.Errorf("server loaded %d", n)
				}
				if err != nil {
					cancel(fmt.Errorf("copy rows %d..%d: %w", lo, hi, err))
					return
				}
				did = true
			}
			if did {
				used.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return 0, 0, err
	}
	return took, int(used.Load()), checkCount(ctx, cs[0], table, int64(len(rows)))
}

// loaders is how many connections a weir load with cfg writes on at once:
// its Sink.Writes in flight.
func loaders(cfg weir.Config) int {
	c := cfg.WithDefaults()
	if c.LoadConcurrency > 0 {
		return c.LoadConcurrency
	}
	return c.Workers
}

// openPool returns a pool with a connection open for every loader, so
// that connecting is not part of the measured time, as it is not for the
// bare loop.
func openPool(ctx context.Context, o loadOpts) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(o.url)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	loaders := loaders(o.cfg)
	pcfg.MaxConns = int32(loaders + 1)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	conns := make([]*pgxpool.Conn, 0, loaders)
	for range loaders {
		c, err := pool.Acquire(ctx)
		if err != nil {
			for _, c := range conns {
				c.Release()
			}
			pool.Close()
			return nil, fmt.Errorf("connect: %w", err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
	return pool, nil
}

func newSink(pool *pgxpool.Pool, table string) (*postgres.Sink[Row], error) {
	return postgres.NewSink(pool, postgres.SinkConfig[Row]{
		Table:  connect.Table{Name: table, Columns: columns},
		Values: rowValues,
	})
}

// weirCopy loads rows 1..n generated by a weir source through a weir
// pipeline into a postgres.Sink (COPY). It truncates the table first and
// returns the time Run took.
func weirCopy(ctx context.Context, o loadOpts, n int64) (time.Duration, error) {
	pool, err := openPool(ctx, o)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if err := truncate(ctx, pool, o.table); err != nil {
		return 0, err
	}
	sink, err := newSink(pool, o.table)
	if err != nil {
		return 0, err
	}
	p, err := weir.New[Row, Row](&genSource{next: 1, last: n}, weir.Identity[Row](), sink, o.cfg)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := p.Run(ctx); err != nil {
		return 0, fmt.Errorf("weir run: %w", err)
	}
	took := time.Since(start)
	if sink.Rows() != n {
		return 0, fmt.Errorf("sink loaded %d rows, want %d", sink.Rows(), n)
	}
	return took, checkCount(ctx, pool, o.table, n)
}

// weirCSV loads the CSV file at path through connect/file's CSV source and
// a postgres.Sink (COPY). It does not truncate (the caller does, as for the
// other loaders) and returns the rows loaded and the time Run took.
func weirCSV(ctx context.Context, o loadOpts, path string) (int64, time.Duration, error) {
	pool, err := openPool(ctx, o)
	if err != nil {
		return 0, 0, err
	}
	defer pool.Close()
	sink, err := newSink(pool, o.table)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	src, err := file.OpenCSV(path, file.CSVSourceConfig[Row]{Decode: decodeRow, Columns: columns})
	if err != nil {
		return 0, 0, err
	}
	p, err := weir.New[Row, Row](src, weir.Identity[Row](), sink, o.cfg)
	if err != nil {
		src.Close(ctx)
		return 0, 0, err
	}
	if err := p.Run(ctx); err != nil { // Run closes src
		return 0, 0, fmt.Errorf("weir run: %w", err)
	}
	took := time.Since(start)
	if got := p.Stats().Extract.Records; got != sink.Rows() {
		return 0, 0, fmt.Errorf("read %d records but loaded %d", got, sink.Rows())
	}
	return sink.Rows(), took, nil
}
