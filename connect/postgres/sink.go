package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-etl/weir/connect"
)

// SinkConfig configures a [Sink].
type SinkConfig[T any] struct {
	// Table is the destination: Name (optionally schema.table; each part
	// is quoted, so names are case-sensitive) and Columns, in the order
	// Values appends them. Key is the columns of a primary key or unique
	// constraint of the table, all listed in Columns, for ON CONFLICT:
	// required with ConflictUpdate, optional with ConflictIgnore (empty
	// means any unique constraint), unused with ConflictError.
	Table connect.Table
	// Values appends rec's values, one per column of Table.Columns in that
	// order, to row and returns the result. row arrives empty, with room
	// for a row, and is reused for the next record once pgx has encoded
	// this one, so Values should append to it rather than allocate.
	// Required. It runs on a goroutine of pgx; a panic in it fails the
	// Write with a [*weir.PanicError] instead of crashing the program.
	Values func(rec T, row []any) []any
	// OnConflict chooses how a batch is loaded (see [Sink]):
	// [connect.ConflictError] (the zero value) COPYs it straight into the
	// table, the fastest way in; [connect.ConflictIgnore] and
	// [connect.ConflictUpdate] COPY it into a staging table and insert
	// from there with ON CONFLICT, so that loading a record again is
	// harmless.
	OnConflict connect.Conflict
	// InDoubtTimeout bounds how long a Write whose COMMIT went unanswered
	// keeps asking the server whether it committed (see [Sink]) before
	// failing with an [*InDoubtError]. Zero means [DefaultInDoubtTimeout]
	// (one minute); negative is invalid.
	InDoubtTimeout time.Duration
}

// Validate reports every impossible value, each error naming its field. It
// does not contact the database.
func (c SinkConfig[T]) Validate() error {
	errs := []error{
		validateTable("SinkConfig.Table", c.Table, c.OnConflict == connect.ConflictUpdate),
		validateConflict("SinkConfig.OnConflict", c.OnConflict),
		validateInDoubt("SinkConfig.InDoubtTimeout", c.InDoubtTimeout),
	}
	if c.Values == nil {
		errs = append(errs, errors.New("postgres: SinkConfig.Values is nil"))
	}
	return errors.Join(errs...)
}

// Sink loads batches into one table, in one of two ways chosen by
// [SinkConfig.OnConflict].
//
// With [connect.ConflictError] each batch is one COPY in a transaction:
// the fastest load PostgreSQL offers. A batch loads whole or not at all;
// but a batch that did load is loaded again if it is written again, and a
// key that exists fails the batch.
//
// With [connect.ConflictIgnore] or [connect.ConflictUpdate], loading a
// record again keeps (Ignore) or replaces (Update) the row loaded before,
// which makes re-running a job safe. Each Write runs one transaction on a
// connection of its own:
//
//	CREATE TEMP TABLE stage (LIKE target INCLUDING DEFAULTS) ON COMMIT DROP
//	COPY stage (cols) FROM STDIN
//	INSERT INTO target (cols) SELECT cols FROM stage
//	       ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col, ...
//	DROP TABLE stage
//
// It costs a few more round trips and a second pass over the rows, through
// the target's indexes: on a 2-core machine, batches of 1,000 two-column
// rows upserted at about 110K rows/s against COPY's 295K
// (BenchmarkSink/ConflictUpdate, BenchmarkSink/ConflictError).
//
// A connection lost after the COMMIT was sent leaves the batch in doubt:
// the server may have committed it, and writing it again would load it
// twice. So every Write learns its transaction's id with its BEGIN (in the
// same round trip: BEGIN; SELECT pg_current_xact_id(), PostgreSQL 13 or
// later) and, when the COMMIT fails without an answer, asks the server on
// another connection (pg_xact_status): if the transaction committed, the
// Write succeeds and its rows count once; if it aborted, the Write returns
// the COMMIT's error, which [Retryable] accepts, so the engine's retry
// loads the batch once; while it is in progress (the old session has not
// yet noticed its socket closed) or the server cannot be reached (a
// restart), the Write asks again with backoff, for at most
// [SinkConfig.InDoubtTimeout] and while ctx lasts, then fails with a
// non-retryable [*InDoubtError]. Tables with no key are covered alike. The
// explicit transaction costs the plain COPY two round trips per batch
// (BEGIN with the id, and COMMIT): BenchmarkSink/ConflictError, batches of
// 1,000 rows, went from a median of 4.63 to 4.91 ms per batch (about 6%;
// docs/BENCHMARKS.md §9 has the ranges and the command).
type Sink[T any] struct {
	db     DB
	t      *table
	values func(T, []any) []any
	upsert bool // through a staging table (OnConflict is not ConflictError)
	wait   time.Duration
	rows   atomic.Int64
	srcs   sync.Pool // of *recordRows[T]
}

// NewSink returns a sink loading into cfg.Table through db. It checks cfg
// with [SinkConfig.Validate] and returns an error naming every bad field;
// it does not contact the database, so a missing table shows up at the
// first Write.
func NewSink[T any](db DB, cfg SinkConfig[T]) (*Sink[T], error) {
	errs := []error{cfg.Validate()}
	if db == nil {
		errs = append(errs, errors.New("postgres: NewSink: nil DB"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := newTable(cfg.Table, cfg.OnConflict)
	s := &Sink[T]{db: db, t: t, values: cfg.Values, upsert: cfg.OnConflict != connect.ConflictError,
		wait: inDoubtWait(cfg.InDoubtTimeout)}
	s.srcs.New = func() any {
		return &recordRows[T]{values: s.values, ncols: len(t.cols), row: make([]any, 0, len(t.cols))}
	}
	return s, nil
}

// Write loads batch on a connection of its own and blocks until the server
// has committed it: with one COPY, or, for ConflictIgnore and
// ConflictUpdate, through a staging table, in one transaction. It is safe
// for concurrent use; concurrent upserting Writes touching the same keys
// serialize on those rows' locks (and may deadlock, which [Retryable]
// reports as retryable). Apart from pgx's own buffers it allocates a few
// objects per call, not per record (Values' boxing of non-pointer values
// aside).
//
// On error nothing of the batch is loaded, except with an [*InDoubtError]
// (see [Sink]), when whether it loaded is unknown; the error names the table and
// carries the server's DETAIL and HINT (which key was duplicated) and, for a
// row the server rejected, its line in the COPY (line n is batch[n-1]). A
// value the COPY cannot carry (one pgx cannot encode for the column's type,
// or text that is not valid UTF-8) fails the Write with a
// [*weir.RecordError] naming the record, the table and the column, found
// with one more query after the failure. When batch holds the same key
// twice, the later record wins with ConflictUpdate and the earlier with
// ConflictIgnore.
//
// With a pgx.Tx as its DB the Write runs in a savepoint of that
// transaction and the commit, and any doubt about it, is the caller's.
func (s *Sink[T]) Write(ctx context.Context, batch []T) error {
	if len(batch) == 0 {
		return nil
	}
	src := s.srcs.Get().(*recordRows[T])
	src.reset(batch)
	defer func() {
		src.release()
		s.srcs.Put(src)
	}()
	items := [1]staged{{t: s.t, src: src}}
	op := "copy " + s.t.name
	if s.upsert {
		op = "upsert " + s.t.name
	}
	err := inTx(ctx, s.db, op, s.wait, func(tx txDB) error {
		err := loadTx(ctx, tx, items[:], s.upsert)
		switch {
		case err != nil && s.upsert:
			return fmt.Errorf("%s: %w", op, err)
		case err == nil && !s.upsert && items[0].n != int64(len(batch)):
			return fmt.Errorf("%s: server loaded %d rows of a batch of %d", op, items[0].n, len(batch))
		}
		return err
	})
	if err != nil {
		if re := explainCopy(ctx, s.db, err); re != nil {
			return re
		}
		return err
	}
	s.rows.Add(items[0].n)
	return nil
}

// Rows returns how many rows the sink has inserted or updated so far
// (committed batches only; rows skipped by ConflictIgnore are not counted).
// Safe to call at any time from any goroutine.
func (s *Sink[T]) Rows() int64 { return s.rows.Load() }
