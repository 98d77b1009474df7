package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// The text forms the sinks write dates and times in: SQLite's own
// (https://sqlite.org/lang_datefunc.html, ISO 8601 with a space for the T),
// so that date(), datetime() and strftime() read them, and so that text
// order is time order within a column. A timestamptz is written in UTC
// with an explicit +00:00, as the package writes a time.Time.
const (
	dateLayout        = "2006-01-02"
	timestampLayout   = "2006-01-02 15:04:05.999999"
	timestampTZLayout = "2006-01-02 15:04:05.999999-07:00"
)

// RowSinkConfig configures a [RowSink]. Table.Name and Table.Columns are
// required.
type RowSinkConfig struct {
	// Table names the destination and its columns, in the order of each
	// row's Values. Key is the columns of a primary key or unique index,
	// all in Columns, for ON CONFLICT: required with ConflictUpdate,
	// optional with ConflictIgnore (empty means any uniqueness
	// constraint), unused with ConflictError.
	Table connect.Table
	// OnConflict says what to do with a row whose key exists, as in
	// [SinkConfig]: [connect.ConflictError] (the zero value) fails the
	// batch, [connect.ConflictIgnore] skips the row, [connect.ConflictUpdate]
	// overwrites its other columns.
	OnConflict connect.Conflict
	// RowsPerStatement caps the rows in one INSERT. 0 means as many as fit
	// in MaxParams parameters (MaxParams / len(Columns)).
	RowsPerStatement int
}

// Validate reports every impossible value, each naming its field.
func (c RowSinkConfig) Validate() error {
	errs := []error{
		validateTable("RowSinkConfig.Table", c.Table, c.OnConflict == connect.ConflictUpdate),
		validateConflict("RowSinkConfig.OnConflict", c.OnConflict),
	}
	if c.RowsPerStatement < 0 {
		errs = append(errs, fmt.Errorf("sqlite: RowSinkConfig.RowsPerStatement must be >= 0 (0 means as many as fit), got %d", c.RowsPerStatement))
	}
	return errors.Join(errs...)
}

// RowSink loads generic rows ([connect.Row]) into one table, as [Sink]
// loads typed records: each Write inserts its batch in one transaction
// with multi-row INSERTs prepared once and reused, so a batch is loaded
// whole or not at all.
//
// Each value is bound by its own type, whatever the column's:
//
//	NULL                    NULL
//	text, numeric, json     TEXT (numeric as its exact text: a REAL would
//	                        round it; see [CreateTableSQL] for the column)
//	boolean                 INTEGER 0 or 1
//	integer, bigint         INTEGER
//	double                  REAL; NaN, which SQLite would store as NULL,
//	                        fails the row
//	date                    TEXT 'YYYY-MM-DD'
//	timestamp               TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]' (wall clock)
//	timestamptz             TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00' (UTC)
//	bytes                   BLOB
//
// Dates and times are in SQLite's form of ISO 8601 (a space for the T),
// which its date functions read and which sorts as time does. The
// column's affinity may then convert a value (text '12' into an INTEGER
// column becomes 12); the columns [CreateTable] makes keep each type as
// bound.
//
// Write is safe for concurrent use; calls are serialised (SQLite has one
// writer). Cost: one transaction per batch, one statement execution per
// MaxParams values, and about one allocation per value that is not NULL,
// a boolean or a small integer (the boxing database/sql needs; dates and
// times take two).
type RowSink struct {
	db   *sql.DB
	cfg  RowSinkConfig
	ins  *inserter
	rows atomic.Int64

	mu     sync.Mutex
	args   []any
	buf    []byte // formats dates and times
	closed bool
}

// NewRowSink returns a sink inserting rows into cfg.Table through db (best
// opened with [Open]). It does not touch the database until the first
// Write.
func NewRowSink(db *sql.DB, cfg RowSinkConfig) (*RowSink, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewRowSink: nil *sql.DB")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &RowSink{db: db, cfg: cfg, ins: newInserter(db, cfg.Table, cfg.OnConflict, cfg.RowsPerStatement)}, nil
}

// Write inserts batch in one transaction and blocks until it commits or
// fails; on failure nothing of the batch stays. A row with the wrong
// number of values, or a value SQLite cannot hold (a NaN), fails the Write
// with a [*weir.RecordError] naming the row, its column and its Pos.
func (s *RowSink) Write(ctx context.Context, batch []connect.Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	ncols := len(s.cfg.Table.Columns)
	args := s.args[:0]
	defer func() {
		clear(args) // keep no row's values alive between batches
		s.args = args[:0]
	}()
	for i := range batch {
		row := &batch[i]
		if len(row.Values) != ncols {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("sqlite: %s: %v: %d values for %d columns", s.cfg.Table.Name, row.Pos, len(row.Values), ncols)}
		}
		for j, v := range row.Values {
			a, err := bind(v, &s.buf)
			if err != nil {
				return &weir.RecordError{Index: i, Err: fmt.Errorf("sqlite: %s: %v: column %q: %w", s.cfg.Table.Name, row.Pos, s.cfg.Table.Columns[j], err)}
			}
			args = append(args, a)
		}
	}
	if err := s.ins.prepare(ctx, len(batch)); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	n, err := inTx(ctx, s.db, func(tx *sql.Tx) (int64, error) { return s.ins.insert(ctx, tx, args) })
	if err != nil {
		return fmt.Errorf("sqlite: insert into %s: %w", s.cfg.Table.Name, err)
	}
	s.rows.Add(n)
	return nil
}

// bind returns v as the driver binds it (see [RowSink]). Only the types
// the driver takes as they are are returned (int64, not int32), so that
// database/sql converts nothing.
func bind(v connect.Value, buf *[]byte) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	switch v.Type() {
	case connect.TypeBool:
		return v.Int() == 1, nil
	case connect.TypeInt32, connect.TypeInt64:
		return v.Int(), nil
	case connect.TypeFloat64:
		if math.IsNaN(v.Float()) {
			return nil, errors.New("NaN: SQLite would store it as NULL")
		}
		return v.Float(), nil
	case connect.TypeDate:
		return formatTime(v, dateLayout, buf), nil
	case connect.TypeTimestamp:
		return formatTime(v, timestampLayout, buf), nil
	case connect.TypeTimestampTZ:
		return formatTime(v, timestampTZLayout, buf), nil
	case connect.TypeBytes:
		return []byte(v.Str()), nil
	}
	return v.Str(), nil // text, numeric, JSON
}

// formatTime returns v's time in layout, formatted in *buf.
func formatTime(v connect.Value, layout string, buf *[]byte) string {
	*buf = v.Time().AppendFormat((*buf)[:0], layout)
	return string(*buf)
}

// Rows returns the number of rows inserted (or, with ConflictUpdate,
// updated) by committed Writes. Rows ConflictIgnore skipped are not
// counted. Safe for concurrent use.
func (s *RowSink) Rows() int64 { return s.rows.Load() }

// Close releases the prepared statements; it does not close the *sql.DB,
// which the caller owns. Later Writes return [ErrClosed]. Idempotent; it
// waits for a Write in progress.
func (s *RowSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.ins.close(); err != nil {
		return fmt.Errorf("sqlite: close row sink %s: %w", s.cfg.Table.Name, err)
	}
	return nil
}
