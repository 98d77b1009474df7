package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultInDoubtTimeout is how long a Write whose COMMIT went unanswered
// keeps asking whether it committed, when the config leaves InDoubtTimeout
// zero: long enough for a server restart or a failover.
const DefaultInDoubtTimeout = time.Minute

// inDoubtWait returns the config's InDoubtTimeout, or the default for 0.
func inDoubtWait(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultInDoubtTimeout
	}
	return d
}

// validateInDoubt checks a config's InDoubtTimeout; field names it.
func validateInDoubt(field string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("postgres: %s must be >= 0 (0 means %v), got %v", field, DefaultInDoubtTimeout, d)
	}
	return nil
}

// InDoubtError is the error of a Write whose COMMIT was sent but never
// answered (the connection was lost), when the sink could not learn
// afterwards whether the server committed: the server stayed unreachable
// for the config's InDoubtTimeout, the caller's context ended, or the
// server could not tell. The batch may or may not be loaded, so the error
// is not retryable ([Retryable] and the engine's default classifier both
// say no): writing it again could load it twice.
//
// To recover, compare the target with the source, or load again in a way
// that skips what is already there: OnConflict [connect.ConflictIgnore]
// (weir migrate --resume does this).
type InDoubtError struct {
	XID    uint64        // the transaction's id (pg_current_xact_id)
	Waited time.Duration // how long the sink asked
	Err    error         // the COMMIT's error
	Last   error         // why the sink stopped asking
}

func (e *InDoubtError) Error() string {
	return fmt.Sprintf("COMMIT of transaction %d got no answer (%v) and whether it committed is unknown after asking for %v (%v): "+
		"the batch may or may not be loaded, so it is not retried; check the target, or load again skipping existing keys "+
		"(OnConflict ConflictIgnore, as weir migrate --resume does)", e.XID, e.Err, e.Waited.Round(time.Millisecond), e.Last)
}

// Unwrap returns the COMMIT's error and the reason the sink stopped asking
// (context.Canceled when the caller cancelled).
func (e *InDoubtError) Unwrap() []error { return []error{e.Err, e.Last} }

// Retryable returns false: see [InDoubtError].
func (e *InDoubtError) Retryable() bool { return false }

// txDB is where a load's statements go: a connection held for the
// transaction ([heldConn]), or a pgx.Tx. Conn is the connection, for
// pgconn's lower-level calls (Conn().PgConn().CopyFrom).
type txDB interface {
	DB
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Conn() *pgx.Conn
}

// heldConn is a connection inside a transaction that inTx began itself (to
// learn its id in the same round trip), as a txDB.
type heldConn struct{ c *pgx.Conn }

func (h heldConn) Conn() *pgx.Conn { return h.c }

// Begin refuses: pgx would send a plain BEGIN and its Commit would commit
// the held transaction early. Nothing in this package nests; it is here to
// satisfy DB.
func (h heldConn) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("postgres: no nested transaction inside a sink's own")
}

func (h heldConn) CopyFrom(ctx context.Context, t pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return h.c.CopyFrom(ctx, t, cols, src)
}

func (h heldConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return h.c.Exec(ctx, sql, args...)
}

func (h heldConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return h.c.Query(ctx, sql, args...)
}

func (h heldConn) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return h.c.SendBatch(ctx, b)
}

// acquirer is a pool: *pgxpool.Pool.
type acquirer interface {
	Acquire(ctx context.Context) (*pgxpool.Conn, error)
}

// xact is one write transaction and what it takes to learn its outcome if
// the answer to its COMMIT is lost.
type xact struct {
	q        txDB
	xid      uint64
	commit   func(context.Context) error
	rollback func(context.Context)
	release  func()
	// status asks, on a connection other than q's, what became of a
	// transaction: pg_xact_status's answer.
	status func(ctx context.Context, xid uint64) (string, error)
}

// inTx runs fn in a transaction of db and commits it; op prefixes the
// errors of BEGIN and COMMIT. On error from fn the transaction is rolled
// back, with a context that is not cancelled so the rollback is sent even
// when ctx was, and fn's error is returned as is.
//
// If the COMMIT fails without an answer from the server, whether it
// committed is in doubt; inTx then asks the server, on another connection,
// for pg_xact_status of the transaction (whose id it learned with BEGIN):
// "committed" makes inTx return nil, "aborted" returns the COMMIT's error
// (so the caller may retry), "in progress" and an unreachable server are
// asked again with backoff, for at most wait and while ctx lasts, after
// which inTx returns an [*InDoubtError].
//
// When db is a pgx.Tx (the caller's transaction) the transaction is a
// savepoint and the commit is the caller's: nothing is in doubt here.
func inTx(ctx context.Context, db DB, op string, wait time.Duration, fn func(tx txDB) error) error {
	if op != "" {
		op += ": "
	}
	if tx, ok := db.(pgx.Tx); ok {
		return inSavepoint(ctx, tx, op, fn)
	}
	x, err := begin(ctx, db)
	if err != nil {
		return fmt.Errorf("%sbegin: %w", op, detailed(err))
	}
	released := false
	release := func() {
		if !released {
			released = true
			x.release()
		}
	}
	defer release() // should fn panic
	if err := fn(x.q); err != nil {
		x.rollback(context.WithoutCancel(ctx))
		return err
	}
	err = x.commit(ctx)
	// Before asking about it: a dead connection must not hold a pool slot
	// the question needs.
	release()
	if err == nil {
		return nil
	}
	err = fmt.Errorf("commit: %w", detailed(err))
	if commitInDoubt(err) {
		err = resolve(ctx, x, wait, err)
	}
	if err != nil {
		return fmt.Errorf("%s%w", op, err)
	}
	return nil
}

// inSavepoint runs fn in a savepoint of tx.
func inSavepoint(ctx context.Context, tx pgx.Tx, op string, fn func(tx txDB) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%ssavepoint: %w", op, detailed(err))
	}
	if err := fn(sp); err != nil {
		_ = sp.Rollback(context.WithoutCancel(ctx)) // fn's error says more
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("%srelease savepoint: %w", op, detailed(err))
	}
	return nil
}

// beginSQL starts a transaction and learns its id in the same round trip.
// Asking assigns the id at once, which the transaction's first write would
// do anyway. pg_current_xact_id needs PostgreSQL 13 or later.
const beginSQL = "BEGIN; SELECT pg_current_xact_id()"

// begin starts a write transaction on db. A pool or a connection runs
// beginSQL on a connection held until release; any other DB begins with
// its Begin and asks for the id with one more round trip.
func begin(ctx context.Context, db DB) (*xact, error) {
	switch d := db.(type) {
	case acquirer:
		c, err := d.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		x, err := beginOn(ctx, c.Conn(), queryStatus(db))
		if err != nil {
			c.Release()
			return nil, err
		}
		x.release = c.Release
		return x, nil
	case *pgx.Conn:
		// d is lost with the connection: ask on new ones.
		cfg := d.Config()
		return beginOn(ctx, d, func(ctx context.Context, xid uint64) (string, error) {
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return "", err
			}
			defer c.Close(context.WithoutCancel(ctx))
			return queryStatus(c)(ctx, xid)
		})
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var xid uint64
	if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()").Scan(&xid); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("transaction id: %w", err)
	}
	return &xact{
		q: tx, xid: xid, commit: tx.Commit,
		rollback: func(ctx context.Context) { _ = tx.Rollback(ctx) },
		release:  func() {}, status: queryStatus(db),
	}, nil
}

// beginOn starts a transaction on conn with beginSQL.
func beginOn(ctx context.Context, conn *pgx.Conn, status func(context.Context, uint64) (string, error)) (*xact, error) {
	x := &xact{q: heldConn{conn}, status: status, release: func() {}}
	x.rollback = func(ctx context.Context) { _, _ = conn.Exec(ctx, "ROLLBACK") }
	x.commit = func(ctx context.Context) error {
		tag, err := conn.Exec(ctx, "COMMIT")
		if err != nil {
			if conn.PgConn().TxStatus() != 'I' {
				_ = conn.Close(ctx) // as pgx's own Commit does: the connection's state is unknown
			}
			return err
		}
		if tag.String() == "ROLLBACK" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	}
	res, err := conn.PgConn().Exec(ctx, beginSQL).ReadAll()
	if err == nil && (len(res) != 2 || len(res[1].Rows) != 1 || len(res[1].Rows[0]) != 1) {
		err = fmt.Errorf("%q returned %d results", beginSQL, len(res))
	}
	if err == nil {
		x.xid, err = strconv.ParseUint(string(res[1].Rows[0][0]), 10, 64)
	}
	if err != nil {
		if conn.PgConn().TxStatus() != 'I' {
			x.rollback(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	return x, nil
}

// queryStatus asks db what became of a transaction.
func queryStatus(db DB) func(ctx context.Context, xid uint64) (string, error) {
	return func(ctx context.Context, xid uint64) (string, error) {
		// The simple protocol: one round trip, no statement to cache.
		rows, err := db.Query(ctx, "SELECT pg_xact_status($1::text::xid8)", pgx.QueryExecModeSimpleProtocol, strconv.FormatUint(xid, 10))
		if err != nil {
			return "", err
		}
		s, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[*string])
		if err != nil {
			return "", err
		}
		if s == nil {
			return "", fmt.Errorf("pg_xact_status(%d) is NULL: the transaction is too old for the server to know", xid)
		}
		return *s, nil
	}
}

// commitInDoubt reports whether a COMMIT that failed with err may have
// committed: no answer settled it. An ERROR from the server settles it (the
// transaction rolled back: a deferred constraint, a serialization failure);
// a FATAL one does not, as the server may end the session just after
// committing. Nor does pgconn.SafeToRetry: when the answer is lost, pgconn
// may report the read's failure as "conn closed", an error it marks safe to
// retry.
func commitInDoubt(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Severity == "FATAL" || pg.Severity == "PANIC"
	}
	return !errors.Is(err, pgx.ErrTxCommitRollback)
}

// resolve learns the outcome of x, whose COMMIT failed with err and no
// answer (see [inTx]).
func resolve(ctx context.Context, x *xact, wait time.Duration, err error) error {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	backoff := 10 * time.Millisecond
	var last error
	for {
		s, qerr := x.status(cctx, x.xid)
		switch {
		case qerr == nil && s == "committed":
			return nil
		case qerr == nil && s == "aborted":
			return err
		case qerr == nil:
			last = fmt.Errorf("the server says the transaction is %s", s)
		case cctx.Err() == nil && !Retryable(qerr):
			return &InDoubtError{XID: x.xid, Waited: time.Since(start), Err: err, Last: qerr}
		default:
			last = qerr
		}
		t := time.NewTimer(backoff)
		select {
		case <-cctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				last = ctx.Err()
			}
			return &InDoubtError{XID: x.xid, Waited: time.Since(start), Err: err, Last: last}
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}
