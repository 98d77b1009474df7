package mysql

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"github.com/weir-etl/weir/connect/catalog"
)

// Ranges splits t by the value of its primary key's first column when that
// is an integer (the whole key, or the first of a composite key such as
// order_items' (order_id, line)): [min, max] in n spans of equal width
// (not of equal rows: a key with gaps gives uneven ranges), the first and
// last open-ended so that together they cover every row. n is lowered so
// each range holds about Config.MinRangeRows rows or more by the table's
// estimate. Any other table is one zero Range. It runs one MIN/MAX query
// (an index lookup).
func (s *Source) Ranges(ctx context.Context, t catalog.Table, n int) ([]catalog.Range, error) {
	whole := []catalog.Range{{}}
	if len(t.PrimaryKey) == 0 || n <= 1 {
		return whole, nil
	}
	pk := columnIndex(t, t.PrimaryKey[0])
	if pk < 0 {
		return nil, fmt.Errorf("mysql: ranges of %s: primary key column %q is not among its columns", t.Name, t.PrimaryKey[0])
	}
	if k := kindOf(t.Columns[pk]); k != kInt32 && k != kInt64 {
		return whole, nil
	}
	if t.Rows >= 0 {
		n = int(min(int64(n), t.Rows/s.minRange))
	}
	if n <= 1 {
		return whole, nil
	}
	var lo, hi *int64
	q := fmt.Sprintf("SELECT MIN(%[1]s), MAX(%[1]s) FROM %[2]s", quoteIdent(t.PrimaryKey[0]), quoteIdent(t.Name))
	if err := s.db.QueryRowContext(ctx, q).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("mysql: ranges of %s: %w", t.Name, err)
	}
	if lo == nil {
		return whole, nil
	}
	span := uint64(*hi-*lo) + 1 // wraps correctly: max-min fits in uint64
	if span != 0 && span < uint64(n) {
		n = int(span)
	}
	step := span / uint64(n)
	if span == 0 { // the whole int64 range
		step = 1 << 64 / 2 / uint64(n) * 2
	}
	out := make([]catalog.Range, n)
	for i := 1; i < n; i++ {
		b := int64(uint64(*lo) + uint64(i)*step)
		out[i-1].To, out[i].From = b, b
	}
	return out, nil
}

var _ catalog.Counter = (*Source)(nil)

// Count returns the rows of t by SELECT COUNT(*), which InnoDB answers by
// scanning the smallest index: for weir copy --verify. It blocks until the
// server answers.
func (s *Source) Count(ctx context.Context, t catalog.Table) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(t.Name)).Scan(&n); err != nil {
		return 0, fmt.Errorf("mysql: count %s: %w", t.Name, err)
	}
	return n, nil
}

func columnIndex(t catalog.Table, name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Open starts reading the rows of t within r: one SELECT in primary key
// order (no order for a table without one), streamed on a connection of
// its own, so a range is read in one pass however big. It blocks until the
// server starts answering. Cancelling ctx aborts the read and breaks the
// connection, which then is not reused. Each Row's Pos names the table; its
// Line is the key for a single-column integer key, else the row's number in
// the read, and for another key Name also holds the key ("order_items
// (order_id=7, line=2)").
//
// The reads of different ranges are not one snapshot: copy a database that
// is not being written to, as with any tool that reads it in parallel.
func (s *Source) Open(ctx context.Context, t catalog.Table, r catalog.Range) (catalog.RowReader, error) {
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("mysql: open %s: no columns", t.Name)
	}
	rd := &reader{src: s, table: t, kinds: make([]kind, len(t.Columns)), widths: make([]int, len(t.Columns)), pos: -1}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
		rd.kinds[i] = kindOf(c)
		if rd.kinds[i] == kBit {
			fmt.Sscanf(c.PGType, "bit(%d)", &rd.widths[i])
		}
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.Name)
	var where []string
	if r.From != nil || r.To != nil {
		if len(t.PrimaryKey) == 0 {
			return nil, fmt.Errorf("mysql: open %s: a bounded range needs a primary key", t.Name)
		}
		for _, b := range []struct {
			v  any
			op string
		}{{r.From, ">="}, {r.To, "<"}} {
			if b.v == nil {
				continue
			}
			bound, err := intBound(b.v)
			if err != nil {
				return nil, fmt.Errorf("mysql: open %s: range bound: %w", t.Name, err)
			}
			where = append(where, quoteIdent(t.PrimaryKey[0])+" "+b.op+" "+bound)
		}
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if len(t.PrimaryKey) > 0 {
		key := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			key[i] = quoteIdent(k)
			j := columnIndex(t, k)
			if j < 0 {
				return nil, fmt.Errorf("mysql: open %s: primary key column %q is not among its columns", t.Name, k)
			}
			rd.key = append(rd.key, j)
		}
		q += " ORDER BY " + strings.Join(key, ", ")
		if len(rd.key) == 1 && (rd.kinds[rd.key[0]] == kInt32 || rd.kinds[rd.key[0]] == kInt64) {
			rd.pos = rd.key[0]
		}
	}
	conn, err := s.connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: open %s: %w", t.Name, err)
	}
	rows, err := conn.(driver.QueryerContext).QueryContext(ctx, q, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mysql: open %s: %w", t.Name, err)
	}
	rd.conn, rd.rows, rd.dest = conn, rows, make([]driver.Value, len(t.Columns))
	return rd, nil
}

// intBound formats a range bound, which Ranges makes an int64.
func intBound(v any) (string, error) {
	switch b := v.(type) {
	case int64:
		return strconv.FormatInt(b, 10), nil
	case int:
		return strconv.Itoa(b), nil
	case int32:
		return strconv.FormatInt(int64(b), 10), nil
	case uint64:
		return strconv.FormatUint(b, 10), nil
	}
	return "", fmt.Errorf("%v is %T, want an integer", v, v)
}

// reader is a [catalog.RowReader] over one SELECT.
type reader struct {
	src    *Source
	table  catalog.Table
	kinds  []kind
	key    []int // primary key columns, in key order
	pos    int   // the column whose value is a Row's Pos.Line; -1: the row number
	conn   driver.Conn
	rows   driver.Rows
	dest   []driver.Value
	line   int64
	notes  []noteCount
	keyBuf []byte
	widths []int // BIT(n) columns' n
	done   bool
	closed bool
}

// noteCount counts one kind of changed value in one column.
type noteCount struct {
	col  int
	what string
	n    int64
}

// Notes' texts.
const (
	noteZeroDate   = "zero date read as NULL"
	noteZeroPart   = "date with a zero month or day read as NULL"
	noteEnumEmpty  = "invalid ENUM value '' read as NULL"
	noteBoolNot01  = "TINYINT(1) value other than 0 and 1 read as true"
	checkCtxEveryN = 256
)

func (r *reader) note(col int, what string) {
	for i := range r.notes {
		if r.notes[i].col == col && r.notes[i].what == what {
			r.notes[i].n++
			return
		}
	}
	r.notes = append(r.notes, noteCount{col, what, 1})
}

// flushNotes hands the counts to the Source, for Notes.
func (r *reader) flushNotes() {
	if len(r.notes) > 0 {
		r.src.addNotes(r.table.Name, r.table.Columns, r.notes)
		r.notes = r.notes[:0]
	}
}
