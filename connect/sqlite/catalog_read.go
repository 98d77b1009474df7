package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/catalog"
)

// minRangeRows is the fewest rows (by rowid span) worth a range of its
// own: below it, a reader's start-up costs more than the parallelism buys.
var minRangeRows int64 = 50_000

var _ catalog.Counter = (*Catalog)(nil)

// Count returns the rows of t by SELECT count(*), rows whose values do not
// fit their columns too: for weir copy --verify. It blocks for one query.
func (c *Catalog) Count(ctx context.Context, t catalog.Table) (int64, error) {
	var n int64
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(t.Name, `"`, `""`)+`"`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", t.Name, err)
	}
	return n, nil
}

// Ranges splits a table with a rowid into at most n ranges of equal rowid
// span (equal rows when rowids have no big gaps), each at least
// minRangeRows wide; the first and last are open, so together they cover
// every row. A WITHOUT ROWID table, or a small one, is one zero Range.
// Range bounds are rowids (int64), which for an INTEGER PRIMARY KEY are
// the key. Blocks for one query.
func (c *Catalog) Ranges(ctx context.Context, t catalog.Table, n int) ([]catalog.Range, error) {
	if n <= 1 || t.Rows < 2*minRangeRows || !c.hasRowid(ctx, t.Name) {
		return []catalog.Range{{}}, nil
	}
	var lo, hi sql.NullInt64
	if err := c.db.QueryRowContext(ctx, `SELECT min(rowid), max(rowid) FROM `+quoteIdent(t.Name)).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("sqlite: ranges of %s: %w", t.Name, err)
	}
	if !lo.Valid {
		return []catalog.Range{{}}, nil
	}
	span := hi.Int64 - lo.Int64 + 1
	k := min(int64(n), span/minRangeRows)
	if k <= 1 {
		return []catalog.Range{{}}, nil
	}
	out := make([]catalog.Range, k)
	for i := range k {
		if i > 0 {
			out[i].From = lo.Int64 + span*i/k
		}
		if i < k-1 {
			out[i].To = lo.Int64 + span*(i+1)/k
		}
	}
	return out, nil
}

// Open returns a reader of the rows of t within r, in rowid order (a
// WITHOUT ROWID table in primary-key order). Each row's Pos is {Name: the
// table, Line: the rowid}, or the row's number in this read for a WITHOUT
// ROWID table. It does not query the database; the first Read does.
func (c *Catalog) Open(ctx context.Context, t catalog.Table, r catalog.Range) (catalog.RowReader, error) {
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("sqlite: read %s: no columns", t.Name)
	}
	cols := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = quoteIdent(col.Name)
	}
	rd := &tableReader{db: c.db, t: t, rowid: c.hasRowid(ctx, t.Name)}
	q := "SELECT " + strings.Join(cols, ", ")
	var where []string
	switch {
	case rd.rowid:
		q += ", rowid FROM " + quoteIdent(t.Name)
		if r.From != nil {
			where, rd.args = append(where, "rowid >= ?"), append(rd.args, r.From)
		}
		if r.To != nil {
			where, rd.args = append(where, "rowid < ?"), append(rd.args, r.To)
		}
	case r.From != nil || r.To != nil:
		return nil, fmt.Errorf("sqlite: read %s: a WITHOUT ROWID table is read whole, not by range", t.Name)
	default:
		q += " FROM " + quoteIdent(t.Name)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if rd.rowid {
		q += " ORDER BY rowid"
	} else if len(t.PrimaryKey) > 0 {
		q += " ORDER BY " + quoteList(t.PrimaryKey)
	}
	rd.query = q
	n := len(cols)
	if rd.rowid {
		n++
	}
	rd.raw, rd.dest = make([]any, n), make([]any, n)
	for i := range rd.raw {
		rd.dest[i] = &rd.raw[i]
	}
	return rd, nil
}

// tableReader reads one range of one table through one cursor, opened by
// the first Read and held to the end or Close.
type tableReader struct {
	db    *sql.DB
	t     catalog.Table
	rowid bool
	query string
	args  []any

	rows      *sql.Rows
	stop      context.CancelFunc
	raw, dest []any
	line      int64 // rows read, bad ones included
	done      bool
	closed    bool
}

// Read fills buf with the next rows. A row with a value that does not fit
// its column ends the Read with the rows before it and a
// *weir.BadRecordError; the next Read goes on after that row.
func (r *tableReader) Read(ctx context.Context, buf []connect.Row) (int, error) {
	switch {
	case r.closed:
		return 0, ErrClosed
	case r.done:
		return 0, io.EOF
	case len(buf) == 0:
		return 0, nil
	}
	if r.rows == nil {
		// The cursor outlives this Read's ctx (the next Read goes on with
		// it), so ctx interrupts it only while a Read runs.
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		rows, err := r.db.QueryContext(cctx, r.query, r.args...)
		if err != nil {
			cancel()
			return 0, fmt.Errorf("sqlite: read %s: %w", r.t.Name, err)
		}
		r.rows, r.stop = rows, cancel
	}
	defer context.AfterFunc(ctx, r.stop)()
	nc := len(r.t.Columns)
	vals := make([]connect.Value, len(buf)*nc)
	n := 0
	for n < len(buf) && r.rows.Next() {
		if err := r.rows.Scan(r.dest...); err != nil {
			return n, fmt.Errorf("sqlite: read %s: %w", r.t.Name, err)
		}
		r.line++
		line := r.line
		if r.rowid {
			line, _ = r.raw[nc].(int64)
		}
		row := vals[n*nc : (n+1)*nc : (n+1)*nc]
		for j, col := range r.t.Columns {
			v, err := decode(col.Type, r.raw[j])
			if err != nil {
				return n, r.bad(line, col, err)
			}
			row[j] = v
		}
		buf[n] = connect.Row{Values: row, Pos: connect.Pos{Name: r.t.Name, Line: line}}
		n++
	}
	if n == len(buf) {
		return n, nil
	}
	err := r.rows.Err()
	r.end()
	if err != nil {
		return n, fmt.Errorf("sqlite: read %s: %w", r.t.Name, err)
	}
	return n, io.EOF
}

// bad returns the error of the row just scanned, whose column col did not
// fit: where it is, why, and the row's values as JSON.
func (r *tableReader) bad(line int64, col catalog.Column, err error) error {
	where := fmt.Sprintf("row %d", line)
	if r.rowid {
		where = fmt.Sprintf("rowid %d", line)
	}
	var raw strings.Builder
	raw.WriteByte('{')
	for j, c := range r.t.Columns {
		if j > 0 {
			raw.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		v := r.raw[j]
		if t, ok := v.(time.Time); ok {
			v = t.Format("2006-01-02 15:04:05.999999999-07:00")
		}
		b, _ := json.Marshal(v)
		raw.Write(k)
		raw.WriteByte(':')
		raw.Write(b)
	}
	raw.WriteByte('}')
	return &weir.BadRecordError{
		Pos: connect.Pos{Name: r.t.Name, Line: line}.String(),
		Raw: []byte(raw.String()),
		Err: fmt.Errorf("table %s %s: column %q declared %q: %w", r.t.Name, where, col.Name, col.SourceType, err),
	}
}

// end closes the cursor.
func (r *tableReader) end() {
	if r.rows != nil {
		r.rows.Close()
		r.stop()
		r.rows = nil
	}
	r.done = true
}

// Close releases the cursor; later Reads return [ErrClosed]. Idempotent.
func (r *tableReader) Close(context.Context) error {
	r.end()
	r.closed = true
	return nil
}
