package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// RowSinkConfig configures a [RowSink].
type RowSinkConfig struct {
	// Table is the destination, as in [SinkConfig.Table]: Name (optionally
	// schema.table; each part is quoted, so names are case-sensitive),
	// Columns in the order of a row's values, and Key for ON CONFLICT:
	// required with ConflictUpdate, optional with ConflictIgnore.
	Table connect.Table
	// OnConflict chooses how a batch is loaded, as [SinkConfig.OnConflict]
	// does: COPY straight into the table ([connect.ConflictError], the
	// zero value), or COPY into a staging table and INSERT ... ON CONFLICT
	// from there.
	OnConflict connect.Conflict
	// InDoubtTimeout bounds how long a Write whose COMMIT went unanswered
	// keeps asking the server whether it committed, as
	// [SinkConfig.InDoubtTimeout]: 0 means [DefaultInDoubtTimeout] (one
	// minute); negative is invalid.
	InDoubtTimeout time.Duration
}

// Validate reports every impossible value, each error naming its field. It
// does not contact the database.
func (c RowSinkConfig) Validate() error {
	return errors.Join(
		validateTable("RowSinkConfig.Table", c.Table, c.OnConflict == connect.ConflictUpdate),
		validateConflict("RowSinkConfig.OnConflict", c.OnConflict),
		validateInDoubt("RowSinkConfig.InDoubtTimeout", c.InDoubtTimeout),
	)
}

// RowSink loads generic rows ([connect.Row]) into one table, the way
// [Sink] loads records, but encodes each value itself, straight from the
// [connect.Value] into the COPY's binary format, without pgx's boxing of
// every value in an interface: about an eighth of the client CPU per row
// of [Sink] on 8 typed columns (BenchmarkRowSink against
// BenchmarkRowsBoxed; docs/BENCHMARKS.md §9).
//
// At its first Write it reads the columns' types from the catalog (one
// query) and keeps them; each column's type picks the value's encoder.
// Values convert only exactly: a value of a type that does not fit its
// column (text into an integer column, a double into a date) or out of the
// column's range (an int64 past smallint's) fails the Write with a
// [*weir.RecordError] naming the row's [connect.Pos], the table and the
// column, before anything of the batch is committed. Allowed: an integer
// into a float column (when exact) or a numeric, a double into a numeric
// (its shortest decimal), numeric and JSON text into a text column.
//
// Columns of types with a binary encoder: boolean, smallint, integer,
// bigint, real, double precision, numeric, text, varchar, char, name,
// citext, date, timestamp, timestamptz, json, jsonb, bytea and uuid (from
// text), interval and bit and bit varying (from text), and domains over
// them. A table with any other column type (inet, an enum, an array, ...)
// is loaded with COPY's text format instead: every value is written as its
// text, which the server parses as the column's type. That costs more
// server CPU; the results are the same. An interval or bit value is parsed
// by weir only in the forms PostgreSQL writes them ("1 day -02:00:00",
// "838:59:59.5", "0101"): a batch holding another form ("1.5 hours",
// "x1F") or a value that is not text goes in the text format, as it would
// have.
//
// Each Write runs in one transaction, so a batch lands whole or not at
// all (a COMMIT whose answer is lost is resolved as [Sink] resolves it:
// see [InDoubtError]); with ConflictIgnore or ConflictUpdate through a staging table, as
// [Sink] describes. Write is safe for concurrent use, each call on a
// connection of its own. The sink holds nothing between Writes but the
// column types, so it has no Close.
type RowSink struct {
	db     DB
	t      *table
	upsert bool
	wait   time.Duration // InDoubtTimeout
	rows   atomic.Int64
	cols   atomic.Pointer[rowSinkColumns]
	// readers are reused *copyReader, each with its encoding buffer.
	readers sync.Pool
}

// rowSinkColumns is what the catalog said of the sink's columns.
type rowSinkColumns struct {
	cols   []column
	binary bool   // every column has a binary encoder
	parsed []int  // the columns whose binary encoder parses text (interval, bit)
	copy   string // COPY into the table
	stage  string // COPY into the staging table
	// copyText and stageText are the same in COPY's text format, for a
	// batch whose parsed columns hold a value their encoder does not take.
	copyText, stageText string
}

// format returns whether batch goes in COPY's binary format, and the COPY
// statements into the table and into the staging table for it.
func (c *rowSinkColumns) format(batch []connect.Row) (binary bool, copy, stage string) {
	if c.binary && (len(c.parsed) == 0 || batchBinary(c.cols, c.parsed, batch)) {
		return true, c.copy, c.stage
	}
	return false, c.copyText, c.stageText
}

// NewRowSink returns a sink loading rows into cfg.Table through db. It
// checks cfg with [RowSinkConfig.Validate] and returns an error naming
// every bad field; it does not contact the database, so a missing table
// shows up at the first Write.
func NewRowSink(db DB, cfg RowSinkConfig) (*RowSink, error) {
	errs := []error{cfg.Validate()}
	if db == nil {
		errs = append(errs, errors.New("postgres: NewRowSink: nil DB"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &RowSink{db: db, t: newTable(cfg.Table, cfg.OnConflict), upsert: cfg.OnConflict != connect.ConflictError,
		wait: inDoubtWait(cfg.InDoubtTimeout)}
	s.readers.New = func() any { return &copyReader{buf: make([]byte, 0, 64<<10)} }
	return s, nil
}

// Write loads batch in one transaction on a connection of its own and
// blocks until the server has committed it. Each row holds one value per
// column of Table.Columns, in that order.
//
// On error nothing of the batch is loaded. A row whose values do not fit
// the columns fails it with a [*weir.RecordError] (Index is the row's
// index in batch; the message names its Pos, the table and the column),
// and so does a value the server refuses (out of a varchar's length, a
// numeric's precision): the server names the COPY line, which is the row.
// Other errors name the table and carry the server's DETAIL, as [Sink]'s
// do. Cost: the encoding of the values into a reused buffer; no
// allocation per value.
func (s *RowSink) Write(ctx context.Context, batch []connect.Row) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, batch, nil)
}

// WriteCheckpoint implements weir.CheckpointSink for weir.WithExactlyOnce:
// it loads batch (which may be empty) and saves pos as job's position in
// the same transaction, so both commit or neither does. The checkpoint
// table must exist: create it with [NewCheckpointStore], which is also the
// store to pass to WithExactlyOnce.
func (s *RowSink) WriteCheckpoint(ctx context.Context, batch []connect.Row, job string, pos []byte) error {
	if job == "" || len(pos) == 0 {
		return errors.New("postgres: WriteCheckpoint needs a job name and a position")
	}
	return s.write(ctx, batch, func(tx txDB) error { return saveCheckpoint(ctx, tx, job, pos) })
}

// write loads batch in one transaction, running also (when set) inside it
// after the rows.
func (s *RowSink) write(ctx context.Context, batch []connect.Row, also func(txDB) error) error {
	var n int64
	err := inTx(ctx, s.db, "", s.wait, func(tx txDB) (err error) {
		if len(batch) > 0 {
			if n, err = s.writeTx(ctx, tx, batch); err != nil {
				return err
			}
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.rows.Add(n)
	return nil
}

// writeTx loads batch inside tx and returns the rows loaded; it does not
// count them in Rows. MultiSink loads each of its tables with it.
func (s *RowSink) writeTx(ctx context.Context, tx txDB, batch []connect.Row) (int64, error) {
	r := s.readers.Get().(*copyReader)
	ok := false
	defer func() {
		// After a failed COPY, pgconn may still be reading r on a goroutine
		// of its own (it does not always wait for it when the connection
		// breaks): r is not reused then, lest that read scramble the next
		// batch's stream.
		if ok {
			r.release()
			s.readers.Put(r)
		} else {
			r.abandon()
		}
	}()
	cols, err := s.columns(ctx, tx)
	if err != nil {
		return 0, err
	}
	binary, copySQL, stageSQL := cols.format(batch)
	r.reset(s.t.name, cols.cols, binary, batch)
	if s.upsert {
		n, err := s.stageAndMerge(ctx, tx, r, stageSQL, batch)
		ok = err == nil
		return n, err
	}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, r, copySQL)
	if err != nil {
		return 0, s.copyErr(r, batch, err)
	}
	ok = true
	if n := tag.RowsAffected(); n != int64(len(batch)) {
		return 0, fmt.Errorf("copy %s: server loaded %d rows of a batch of %d", s.t.name, n, len(batch))
	}
	return int64(len(batch)), nil
}

// stageAndMerge COPYs the batch into a staging table and merges it into
// the target, as loadTx does for [Sink]: create, COPY, then the merge and
// the drop in one pipelined round trip. It returns the rows merged.
func (s *RowSink) stageAndMerge(ctx context.Context, tx txDB, r *copyReader, stageSQL string, batch []connect.Row) (int64, error) {
	if _, err := tx.Exec(ctx, s.t.stage); err != nil {
		return 0, fmt.Errorf("create staging table of %s: %w", s.t.name, detailed(err))
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, r, stageSQL); err != nil {
		return 0, s.copyErr(r, batch, err)
	}
	var b pgx.Batch
	b.Queue(s.t.merge)
	b.Queue(s.t.unstage)
	br := tx.SendBatch(ctx, &b)
	tag, err := br.Exec()
	if err != nil {
		br.Close()
		return 0, s.t.wrap("merge into", err)
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return 0, s.t.wrap("drop staging table of", err)
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("merge into %s: %w", s.t.name, detailed(err))
	}
	return tag.RowsAffected(), nil
}

// columns returns the column types, reading them from the catalog through
// tx the first time. Concurrent first Writes may each read them; they read
// the same.
func (s *RowSink) columns(ctx context.Context, tx txDB) (*rowSinkColumns, error) {
	if c := s.cols.Load(); c != nil {
		return c, nil
	}
	all, err := readColumns(ctx, tx, s.t.ident)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", s.t.name, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("copy %s: no such table", s.t.name)
	}
	cols, err := pickColumns(s.t.name, all, s.t.cols)
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", s.t.name, err)
	}
	c := &rowSinkColumns{cols: cols, binary: true}
	for i, col := range cols {
		switch {
		case col.kind == kindOther:
			c.binary = false
		case col.kind.parsesText():
			c.parsed = append(c.parsed, i)
		}
	}
	format := " FROM STDIN (FORMAT binary)"
	if !c.binary {
		format = " FROM STDIN (FORMAT text)"
	}
	list := " (" + quoteList(s.t.cols) + ")"
	c.copy = "COPY " + s.t.ident.Sanitize() + list + format
	c.copyText = "COPY " + s.t.ident.Sanitize() + list + " FROM STDIN (FORMAT text)"
	if s.upsert {
		c.stage = "COPY " + s.t.tmp.Sanitize() + list + format
		c.stageText = "COPY " + s.t.tmp.Sanitize() + list + " FROM STDIN (FORMAT text)"
	}
	s.cols.Store(c)
	return c, nil
}

// copyErr returns the error to report for a COPY from r that failed with
// err: the reader's own (a row that does not fit), or a value the server
// refused (SQLSTATE class 22) as a *weir.RecordError for the row at the
// COPY line it names, or err with the table and the server's detail.
func (s *RowSink) copyErr(r *copyReader, batch []connect.Row, err error) error {
	if err := r.abandon(); err != nil {
		return err
	}
	wrapped := s.t.wrap("copy", err)
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || !strings.HasPrefix(pg.Code, "22") {
		return wrapped
	}
	line := copyLine(pg.Where)
	if line < 1 || line > len(batch) {
		return wrapped
	}
	if pos := batch[line-1].Pos; pos != (connect.Pos{}) {
		wrapped = fmt.Errorf("%s: %w", pos, wrapped)
	}
	return &weir.RecordError{Index: line - 1, Err: wrapped}
}

// copyLine returns n from a server error's context "COPY t, line n, ...",
// or 0.
func copyLine(where string) int {
	_, after, ok := strings.Cut(where, ", line ")
	if !ok || !strings.HasPrefix(where, "COPY ") {
		return 0
	}
	end := strings.IndexFunc(after, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		after = after[:end]
	}
	n, err := strconv.Atoi(after)
	if err != nil {
		return 0
	}
	return n
}

// Rows returns how many rows the sink has inserted or updated so far
// (committed batches only; rows skipped by ConflictIgnore are not counted).
// Safe to call at any time from any goroutine.
func (s *RowSink) Rows() int64 { return s.rows.Load() }
