package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// DB is what the sinks and the source need from a database handle.
// *pgxpool.Pool satisfies it and is what they are made for: every call takes
// a connection of its own, so concurrent Writes run in parallel. A *pgx.Conn
// or a pgx.Tx satisfies it too, to load inside a transaction of your own
// (a sink's transaction then becomes a savepoint); neither is safe for
// concurrent use, so run such a sink with one Write in flight.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Exec runs script, one or more SQL statements separated by semicolons, as
// a single implicit transaction (PostgreSQL's simple query protocol): either
// every statement takes effect or none does. It blocks until the server is
// done. Use it to create a job's tables before a run; the script must not
// hold its own BEGIN/COMMIT.
func Exec(ctx context.Context, db DB, script string) error {
	if db == nil {
		return errors.New("postgres: Exec: nil DB")
	}
	// Exec without arguments uses the simple protocol, which is what
	// allows several statements in one string.
	if _, err := db.Exec(ctx, script); err != nil {
		return fmt.Errorf("postgres: exec script: %w", detailed(err))
	}
	return nil
}

// table is a validated connect.Table with its SQL prepared once.
type table struct {
	name  string // as configured, for errors and Rows
	ident pgx.Identifier
	cols  []string // unquoted; pgx quotes them for COPY
	key   []string
	// describe selects no row of the columns, for their types.
	describe string

	// With ConflictIgnore or ConflictUpdate only: a temporary table like
	// the target, the statement moving its rows into the target, and
	// dropping it.
	tmp     pgx.Identifier
	stage   string
	merge   string
	unstage string
}

// validateTable checks t; field names the config field in errors
// ("SinkConfig.Table"). needKey makes Key mandatory, for ConflictUpdate.
func validateTable(field string, t connect.Table, needKey bool) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("postgres: "+field+"."+format, args...))
	}
	switch {
	case t.Name == "":
		bad("Name is empty")
	case slices.Contains(strings.Split(t.Name, "."), ""):
		bad("Name %q has an empty part (write schema.table)", t.Name)
	}
	if len(t.Columns) == 0 {
		bad("Columns is empty")
	}
	seen := map[string]bool{}
	for i, c := range t.Columns {
		switch {
		case c == "":
			bad("Columns[%d] is empty", i)
		case seen[c]:
			bad("Columns lists %q twice", c)
		}
		seen[c] = true
	}
	if needKey && len(t.Key) == 0 {
		bad("Key is empty: OnConflict %v needs the columns of a unique key for ON CONFLICT", connect.ConflictUpdate)
	}
	keySeen := map[string]bool{}
	for _, k := range t.Key {
		switch {
		case !seen[k]:
			bad("Key column %q is not in Columns", k)
		case keySeen[k]:
			bad("Key lists %q twice", k)
		}
		keySeen[k] = true
	}
	return errors.Join(errs...)
}

// validateConflict checks a config's OnConflict; field names it.
func validateConflict(field string, on connect.Conflict) error {
	if on > connect.ConflictUpdate {
		return fmt.Errorf("postgres: %s must be ConflictError, ConflictIgnore or ConflictUpdate, got %v", field, on)
	}
	return nil
}

// newTable prepares t, which validateTable accepted, for loading; with a
// conflict other than ConflictError, through a staging table.
func newTable(t connect.Table, on connect.Conflict) *table {
	tb := &table{
		name:  t.Name,
		ident: pgx.Identifier(strings.Split(t.Name, ".")),
		cols:  slices.Clone(t.Columns),
		key:   slices.Clone(t.Key),
	}
	tb.describe = "SELECT " + quoteList(tb.cols) + " FROM " + tb.ident.Sanitize() + " LIMIT 0"
	if on != connect.ConflictError {
		tb.prepareUpsert(on)
	}
	return tb
}

// prepareUpsert builds the staging SQL for t. With ConflictIgnore and no
// Key, any unique violation is skipped.
func (t *table) prepareUpsert(on connect.Conflict) {
	target := t.ident.Sanitize()
	h := fnv.New32a()
	h.Write([]byte(target))
	// The name is derived from the target so that pgx's cached description
	// of "select cols from <tmp>" never belongs to another table's columns.
	short := t.ident[len(t.ident)-1]
	if len(short) > 30 {
		short = short[:30]
	}
	t.tmp = pgx.Identifier{"pg_temp", fmt.Sprintf("weir_stage_%s_%08x", short, h.Sum32())}
	tmp := t.tmp.Sanitize()
	t.stage = "CREATE TEMP TABLE " + t.tmp[1:].Sanitize() + " (LIKE " + target + " INCLUDING DEFAULTS) ON COMMIT DROP"
	t.unstage = "DROP TABLE " + tmp

	cols := quoteList(t.cols)
	key := quoteList(t.key)
	var b strings.Builder
	b.WriteString("INSERT INTO " + target + " (" + cols + ") SELECT ")
	var update []string
	for _, c := range t.cols {
		if !slices.Contains(t.key, c) {
			q := pgx.Identifier{c}.Sanitize()
			update = append(update, q+" = EXCLUDED."+q)
		}
	}
	if on == connect.ConflictUpdate && len(update) > 0 {
		// ON CONFLICT DO UPDATE fails if one statement proposes the same
		// key twice. Keep the last occurrence: rows COPYed into a fresh
		// table lie in insertion order, so ctid orders them.
		b.WriteString("DISTINCT ON (" + key + ") " + cols + " FROM " + tmp + " ORDER BY " + key + ", ctid DESC")
		b.WriteString(" ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(update, ", "))
	} else {
		b.WriteString(cols + " FROM " + tmp + " ORDER BY ctid ON CONFLICT")
		if len(t.key) > 0 {
			b.WriteString(" (" + key + ")")
		}
		b.WriteString(" DO NOTHING")
	}
	t.merge = b.String()
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// wrap adds the operation and table to err, and what the server said
// besides its message (see [serverError]): for COPY, the line, which is the
// row's position.
func (t *table) wrap(op string, err error) error {
	return fmt.Errorf("%s %s: %w", op, t.name, detailed(err))
}

// staged is one table's rows to load inside a transaction.
type staged struct {
	t   *table
	idx int // the table's index in its sink
	src copySource
	n   int64 // rows loaded, set by loadTx
}

// loadTx loads every item in order inside tx. Plain mode COPYs straight
// into each table. Upsert mode creates every staging table with one round
// trip, COPYs each, then merges and drops them all in one pipelined batch,
// in the same order, so parents are merged before their children.
func loadTx(ctx context.Context, tx txDB, items []staged, upsert bool) error {
	if !upsert {
		for i := range items {
			it := &items[i]
			n, err := tx.CopyFrom(ctx, it.t.ident, it.t.cols, it.src)
			if err != nil {
				return it.t.copyErr(it.src, err)
			}
			it.n = n
		}
		return nil
	}
	var create strings.Builder
	for _, it := range items {
		create.WriteString(it.t.stage)
		create.WriteString(";\n")
	}
	if _, err := tx.Exec(ctx, create.String()); err != nil {
		return fmt.Errorf("create staging tables: %w", detailed(err))
	}
	for i := range items {
		it := &items[i]
		if _, err := tx.CopyFrom(ctx, it.t.tmp, it.t.cols, it.src); err != nil {
			return it.t.copyErr(it.src, err)
		}
	}
	var b pgx.Batch
	for i := range items {
		b.Queue(items[i].t.merge)
		b.Queue(items[i].t.unstage)
	}
	br := tx.SendBatch(ctx, &b)
	for i := range items {
		it := &items[i]
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return it.t.wrap("merge into", err)
		}
		it.n = tag.RowsAffected()
		if _, err := br.Exec(); err != nil {
			br.Close()
			return it.t.wrap("drop staging table of", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("merge: %w", detailed(err))
	}
	return nil
}

// recordRows is a pgx.CopyFromSource over a batch of records, building one
// row at a time into a reused slice: pgx encodes a row before asking for
// the next, so no [][]any is ever built for the batch.
type recordRows[T any] struct {
	batch  []T
	next   int
	values func(T, []any) []any
	ncols  int
	row    []any
	err    error
}

func (r *recordRows[T]) reset(batch []T) {
	r.batch, r.next, r.err = batch, 0, nil
}

// release drops references to the batch and the last row's values.
func (r *recordRows[T]) release() {
	clear(r.row[:cap(r.row)])
	r.batch, r.row = nil, r.row[:0]
}

// Next builds the next row. pgx calls it on a goroutine of its own, where a
// panic would crash the program rather than fail the run: recover it into a
// [*weir.PanicError], which aborts the COPY.
func (r *recordRows[T]) Next() (ok bool) {
	if r.err != nil || r.next >= len(r.batch) {
		return false
	}
	i := r.next
	r.next++
	defer func() {
		if v := recover(); v != nil {
			r.err = fmt.Errorf("record %d: Values: %w", i, &weir.PanicError{Value: v, Stack: debug.Stack()})
			ok = false
		}
	}()
	r.row = r.values(r.batch[i], r.row[:0])
	if len(r.row) != r.ncols {
		r.err = fmt.Errorf("record %d: Values returned %d values for %d columns", i, len(r.row), r.ncols)
		return false
	}
	return true
}

func (r *recordRows[T]) Values() ([]any, error) { return r.row, nil }

func (r *recordRows[T]) Err() error { return r.err }

func (r *recordRows[T]) taken() int { return r.next }

// rowAt returns row i, record i of the batch: the current row as built,
// an earlier one built again.
func (r *recordRows[T]) rowAt(i int) ([]any, int, error) {
	if i == r.next-1 {
		return r.row, i, nil
	}
	vals, err := valuesAgain(r.values, r.batch[i])
	return vals, i, err
}
