package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// MultiSinkConfig configures a [MultiSink].
type MultiSinkConfig[T any] struct {
	// Splitter expands each record into rows of its tables, given in
	// foreign-key order. Required. Its Tables are read once, by
	// [NewMultiSink].
	Splitter connect.Splitter[T]
	// OnConflict says what to do with a row whose key exists, in every
	// table. [connect.ConflictError] (the zero value) COPYs straight into
	// the tables. [connect.ConflictIgnore] loads each table through a
	// temporary table with ON CONFLICT DO NOTHING, on the table's Key when
	// it has one (else on any unique constraint), so that loading the same
	// records again adds nothing and fails nothing. [connect.ConflictUpdate]
	// does the same with ON CONFLICT (Key) DO UPDATE, and needs a Key on
	// every table. A table without a unique key gets its rows again on a
	// re-run: give child tables a key made of data (order_id, line_no)
	// rather than a sequence. Either costs about half the speed of plain
	// COPY (BenchmarkMultiSink).
	OnConflict connect.Conflict
	// InDoubtTimeout bounds how long a Write whose COMMIT went unanswered
	// keeps asking the server whether it committed (see [MultiSink])
	// before failing with an [*InDoubtError]. Zero means
	// [DefaultInDoubtTimeout] (one minute); negative is invalid.
	InDoubtTimeout time.Duration
}

// Validate reports every impossible value, each error naming its field:
// it checks every table of the Splitter (names, columns, keys,
// duplicates). It does not contact the database.
func (c MultiSinkConfig[T]) Validate() error {
	var defs []connect.Table
	if c.Splitter != nil {
		defs = c.Splitter.Tables()
	}
	return c.validate(defs)
}

// validate checks c with defs, the Splitter's tables, read once.
func (c MultiSinkConfig[T]) validate(defs []connect.Table) error {
	errs := []error{
		validateConflict("MultiSinkConfig.OnConflict", c.OnConflict),
		validateInDoubt("MultiSinkConfig.InDoubtTimeout", c.InDoubtTimeout),
	}
	switch {
	case c.Splitter == nil:
		errs = append(errs, errors.New("postgres: MultiSinkConfig.Splitter is nil"))
	case len(defs) == 0:
		errs = append(errs, errors.New("postgres: MultiSinkConfig.Splitter.Tables() is empty"))
	}
	names := map[string]int{}
	for i, d := range defs {
		errs = append(errs, validateTable(fmt.Sprintf("MultiSinkConfig.Splitter.Tables()[%d]", i), d, c.OnConflict == connect.ConflictUpdate))
		if j, dup := names[d.Name]; dup {
			errs = append(errs, fmt.Errorf("postgres: MultiSinkConfig.Splitter.Tables() lists %q twice (at %d and %d)", d.Name, j, i))
		}
		names[d.Name] = i
	}
	return errors.Join(errs...)
}

// MultiSink loads composite records into several tables: for each batch it
// splits every record into rows (through the [connect.Splitter]), then, in
// one transaction, COPYs each table's rows in the Splitter's order. A batch
// thus lands in every table or in none: a row rejected by any table (a NOT
// NULL or foreign-key violation) rolls back the parents loaded before it.
//
// Rows are gathered per table in buffers reused across batches, holding the
// values of one batch at a time (not the whole data set), and each table's
// rows are encoded as [RowSink] encodes them: straight from the typed
// values into a binary COPY, with the column types read from the catalog
// at the first Write.
//
// A connection lost after the COMMIT was sent does not make a batch fail
// or load twice: as [Sink] does, each transaction learns its id with its
// BEGIN, and a Write whose COMMIT goes unanswered asks the server whether
// it committed — succeeding if it did, returning the retryable COMMIT error
// if it did not, and failing with a non-retryable [*InDoubtError] if it
// cannot find out within [MultiSinkConfig.InDoubtTimeout]. The same holds
// for WriteCheckpoint, whose checkpoint commits with the batch.
type MultiSink[T any] struct {
	db     DB
	split  connect.Splitter[T]
	defs   []connect.Table
	sinks  []*RowSink // one per table, for its columns and its COPY
	wait   time.Duration
	counts []atomic.Int64
	bufs   sync.Pool // of *rowBuffer
}

// NewMultiSink returns a sink loading cfg.Splitter's tables through db. It
// checks cfg as [MultiSinkConfig.Validate] does and returns an error naming
// each problem; it does not contact the database.
func NewMultiSink[T any](db DB, cfg MultiSinkConfig[T]) (*MultiSink[T], error) {
	var defs []connect.Table
	if cfg.Splitter != nil {
		defs = slices.Clone(cfg.Splitter.Tables())
	}
	errs := []error{cfg.validate(defs)}
	if db == nil {
		errs = append(errs, errors.New("postgres: NewMultiSink: nil DB"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &MultiSink[T]{db: db, split: cfg.Splitter, defs: defs,
		sinks: make([]*RowSink, len(defs)), counts: make([]atomic.Int64, len(defs))}
	for i, d := range defs {
		var err error
		if s.sinks[i], err = NewRowSink(db, RowSinkConfig{Table: d, OnConflict: cfg.OnConflict, InDoubtTimeout: cfg.InDoubtTimeout}); err != nil {
			return nil, err // validated above; cannot happen
		}
	}
	s.wait = inDoubtWait(cfg.InDoubtTimeout)
	s.bufs.New = func() any {
		b := &rowBuffer{tables: make([]tableRows, len(defs))}
		for i, d := range defs {
			b.tables[i] = tableRows{name: d.Name, ncols: len(d.Columns)}
		}
		return b
	}
	return s, nil
}

// Write splits batch and loads its rows in one transaction, blocking until
// it commits. It is safe for concurrent use (each call has its own
// connection and buffers). Split runs on the calling goroutine, in batch
// order. On any error (from Split, a row of the wrong width, the server)
// the transaction is rolled back and nothing of the batch stays loaded
// (except with an [*InDoubtError], when whether it loaded is unknown). A
// server error carries its DETAIL and HINT (which key was duplicated); a
// value that does not fit its column, or that the server refuses, fails
// the Write with a [*weir.RecordError] naming the record, the table and
// the column.
func (s *MultiSink[T]) Write(ctx context.Context, batch []T) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, batch, nil)
}

// WriteCheckpoint implements weir.CheckpointSink for
// weir.WithExactlyOnce: it loads batch (which may be empty) and
// saves pos as job's position in the same transaction, so both commit or
// neither does. The checkpoint table must exist: create it with
// [NewCheckpointStore], which is also the store to pass to WithExactlyOnce.
func (s *MultiSink[T]) WriteCheckpoint(ctx context.Context, batch []T, job string, pos []byte) error {
	if job == "" || len(pos) == 0 {
		return errors.New("postgres: WriteCheckpoint needs a job name and a position")
	}
	return s.write(ctx, batch, func(tx txDB) error { return saveCheckpoint(ctx, tx, job, pos) })
}

// write splits batch and loads it in one transaction, running also (when
// set) inside that transaction after the rows.
func (s *MultiSink[T]) write(ctx context.Context, batch []T, also func(txDB) error) error {
	buf := s.bufs.Get().(*rowBuffer)
	defer func() {
		if buf.release() {
			s.bufs.Put(buf)
		}
	}()
	for i := range batch {
		buf.rec = int32(i)
		err := s.split.Split(batch[i], buf)
		if err == nil {
			err = buf.err
		}
		if err != nil {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("postgres: split: %w", err)}
		}
	}
	loaded := make([]int64, len(s.sinks))
	err := inTx(ctx, s.db, "", s.wait, func(tx txDB) error {
		for i, sink := range s.sinks {
			r := &buf.tables[i]
			if len(r.recs) == 0 {
				continue
			}
			n, err := sink.writeTx(ctx, tx, r.view())
			if err != nil {
				return r.recordErr(err)
			}
			loaded[i] = n
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, n := range loaded {
		s.counts[i].Add(n)
	}
	return nil
}

// Rows returns, per table name, how many rows the sink has loaded so far:
// committed batches only, and with ConflictIgnore only rows actually
// inserted. Safe to call at any time from any goroutine; it allocates the
// map.
func (s *MultiSink[T]) Rows() map[string]int64 {
	m := make(map[string]int64, len(s.defs))
	for i, d := range s.defs {
		m[d.Name] = s.counts[i].Load()
	}
	return m
}

// Tables returns the sink's tables, as its Splitter gave them, in load
// order. The slice is a copy.
func (s *MultiSink[T]) Tables() []connect.Table { return slices.Clone(s.defs) }

// rowBuffer collects one batch's rows per table. It is the RowWriter handed
// to Split.
type rowBuffer struct {
	tables []tableRows
	err    error // first bad Row call
	rec    int32 // the record being split, by index in the batch
}

// maxPooledValues bounds what a pooled buffer may keep: a batch of huge
// records should not pin its memory for every later batch.
const maxPooledValues = 1 << 20

// Row implements [connect.RowWriter]. It copies values (not the strings'
// bytes they point to).
func (b *rowBuffer) Row(table int, values ...connect.Value) {
	if b.err != nil {
		return
	}
	if table < 0 || table >= len(b.tables) {
		b.err = fmt.Errorf("Row: table index %d out of range [0, %d)", table, len(b.tables))
		return
	}
	r := &b.tables[table]
	if len(values) != r.ncols {
		b.err = fmt.Errorf("Row: table %s: got %d values for %d columns", r.name, len(values), r.ncols)
		return
	}
	r.vals = append(r.vals, values...)
	r.recs = append(r.recs, b.rec)
}

// release empties b for reuse, dropping references to the batch's values;
// it reports whether b is small enough to pool.
func (b *rowBuffer) release() bool {
	keep := true
	for i := range b.tables {
		r := &b.tables[i]
		if cap(r.vals) > maxPooledValues {
			keep = false
		}
		clear(r.vals)
		clear(r.rows)
		r.vals, r.recs, r.rows = r.vals[:0], r.recs[:0], r.rows[:0]
	}
	b.err = nil
	return keep
}

// tableRows holds one table's rows flattened, ncols values per row.
type tableRows struct {
	name  string
	ncols int
	vals  []connect.Value
	recs  []int32       // per row, the record it came from
	rows  []connect.Row // views of vals, one per row, for the encoder
}

// view returns the rows as connect.Rows sharing vals.
func (r *tableRows) view() []connect.Row {
	for i := range r.recs {
		r.rows = append(r.rows, connect.Row{Values: r.vals[i*r.ncols : (i+1)*r.ncols : (i+1)*r.ncols]})
	}
	return r.rows
}

// recordErr turns a RecordError about row i of the table into one about
// the record that row came from.
func (r *tableRows) recordErr(err error) error {
	var re *weir.RecordError
	if errors.As(err, &re) && re.Index >= 0 && re.Index < len(r.recs) {
		return &weir.RecordError{Index: int(r.recs[re.Index]), Err: re.Err}
	}
	return err
}
