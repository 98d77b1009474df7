package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// maxCachedPartials bounds the statements kept for short chunks (a batch's
// last rows): one per distinct row count, and batches are usually one size.
const maxCachedPartials = 4

// validateTable checks a destination table, naming fields after prefix.
// needKey makes Key mandatory, for ConflictUpdate.
func validateTable(prefix string, t connect.Table, needKey bool) error {
	var errs []error
	if strings.TrimSpace(t.Name) == "" {
		errs = append(errs, fmt.Errorf("sqlite: %s.Name is required", prefix))
	}
	if len(t.Columns) == 0 {
		errs = append(errs, fmt.Errorf("sqlite: %s.Columns is required", prefix))
	}
	if len(t.Columns) > MaxParams {
		errs = append(errs, fmt.Errorf("sqlite: %s.Columns has %d columns, more than MaxParams (%d)", prefix, len(t.Columns), MaxParams))
	}
	seen := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		if c == "" {
			errs = append(errs, fmt.Errorf("sqlite: %s.Columns has an empty name", prefix))
		}
		if seen[c] {
			errs = append(errs, fmt.Errorf("sqlite: %s.Columns lists %q twice", prefix, c))
		}
		seen[c] = true
	}
	if needKey && len(t.Key) == 0 {
		errs = append(errs, fmt.Errorf("sqlite: %s.Key is required: OnConflict %v needs the columns of a unique key for ON CONFLICT", prefix, connect.ConflictUpdate))
	}
	for _, k := range t.Key {
		switch {
		case k == "":
			errs = append(errs, fmt.Errorf("sqlite: %s.Key has an empty name", prefix))
		case !seen[k]:
			errs = append(errs, fmt.Errorf("sqlite: %s.Key column %q is not in Columns", prefix, k))
		}
	}
	return errors.Join(errs...)
}

// validateConflict checks a config's OnConflict; field names it.
func validateConflict(field string, on connect.Conflict) error {
	if on > connect.ConflictUpdate {
		return fmt.Errorf("sqlite: %s must be ConflictError, ConflictIgnore or ConflictUpdate, got %v", field, on)
	}
	return nil
}

// conflictClause returns what follows the VALUES of t's INSERTs for on.
func conflictClause(t connect.Table, on connect.Conflict) string {
	if on == connect.ConflictError {
		return ""
	}
	target := ""
	if len(t.Key) > 0 {
		target = " (" + quoteList(t.Key) + ")"
	}
	var set []string
	for _, c := range t.Columns {
		if !slices.Contains(t.Key, c) {
			set = append(set, quoteIdent(c)+" = excluded."+quoteIdent(c))
		}
	}
	if on == connect.ConflictUpdate && len(set) > 0 {
		// SQLite applies a statement's rows in order, so when a batch
		// holds a key twice the later row updates the earlier: the later
		// record wins, as in PostgreSQL.
		return " ON CONFLICT" + target + " DO UPDATE SET " + strings.Join(set, ", ")
	}
	return " ON CONFLICT" + target + " DO NOTHING"
}

// inserter inserts rows into one table with multi-row INSERTs, prepared
// once per chunk size. It is not safe for concurrent use: its owner
// serialises calls.
type inserter struct {
	db       *sql.DB
	table    connect.Table
	head     string // INSERT INTO "t" ("a", "b") VALUES
	tail     string // " ON CONFLICT ..." or "", from conflictClause
	perStmt  int    // rows in a full chunk
	full     *sql.Stmt
	partials map[int]*sql.Stmt
}

func newInserter(db *sql.DB, t connect.Table, on connect.Conflict, rowsPerStmt int) *inserter {
	per := MaxParams / len(t.Columns)
	if rowsPerStmt > 0 && rowsPerStmt < per {
		per = rowsPerStmt
	}
	return &inserter{
		db:       db,
		table:    t,
		head:     fmt.Sprintf("INSERT INTO %s (%s) VALUES ", quoteTable(t.Name), quoteList(t.Columns)),
		tail:     conflictClause(t, on),
		perStmt:  per,
		partials: make(map[int]*sql.Stmt),
	}
}

func (in *inserter) query(rows int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(in.table.Columns)), ", ") + ")"
	var b strings.Builder
	b.Grow(len(in.head) + rows*(len(group)+2) + len(in.tail))
	b.WriteString(in.head)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	b.WriteString(in.tail)
	return b.String()
}

// prepare prepares the statements that inserting total rows needs: the
// full chunk and the remainder. It must run outside a transaction: with a
// one-connection pool, preparing on the *sql.DB inside one would wait
// forever for the connection the transaction holds. A statement prepared
// on the pool's connection is reused by each transaction on it
// (tx.StmtContext), so it is parsed once per connection, not per batch.
func (in *inserter) prepare(ctx context.Context, total int) error {
	need := func(rows int) error {
		if rows == in.perStmt && in.full != nil {
			return nil
		}
		if _, ok := in.partials[rows]; ok {
			return nil
		}
		s, err := in.db.PrepareContext(ctx, in.query(rows))
		if err != nil {
			return fmt.Errorf("prepare %d-row insert into %s: %w", rows, in.table.Name, err)
		}
		if rows == in.perStmt {
			in.full = s
			return nil
		}
		if len(in.partials) >= maxCachedPartials {
			for k, old := range in.partials {
				old.Close() // only fails if already closed
				delete(in.partials, k)
				break
			}
		}
		in.partials[rows] = s
		return nil
	}
	if total >= in.perStmt {
		if err := need(in.perStmt); err != nil {
			return err
		}
	}
	if rem := total % in.perStmt; rem > 0 {
		return need(rem)
	}
	return nil
}

// insert inserts args, a whole number of rows, within tx and returns the
// number of rows inserted or updated (rows skipped by ON CONFLICT DO
// NOTHING do not count). [inserter.prepare] must have been called for this many rows.
func (in *inserter) insert(ctx context.Context, tx *sql.Tx, args []any) (int64, error) {
	ncols := len(in.table.Columns)
	total := len(args) / ncols
	var inserted int64
	for first := 0; first < total; first += in.perStmt {
		rows := min(in.perStmt, total-first)
		s := in.full
		if rows != in.perStmt {
			s = in.partials[rows]
		}
		res, err := tx.StmtContext(ctx, s).ExecContext(ctx, args[first*ncols:(first+rows)*ncols]...)
		if err != nil {
			return inserted, fmt.Errorf("rows %d-%d: %w", first, first+rows-1, err)
		}
		if n, err := res.RowsAffected(); err == nil {
			inserted += n
		}
	}
	return inserted, nil
}

func (in *inserter) close() error {
	var errs []error
	if in.full != nil {
		errs = append(errs, in.full.Close())
		in.full = nil
	}
	for k, s := range in.partials {
		errs = append(errs, s.Close())
		delete(in.partials, k)
	}
	return errors.Join(errs...)
}

// SinkConfig configures a [Sink]. Table (Name, Columns) and Values are
// required.
type SinkConfig[T any] struct {
	// Table names the destination and its columns, in the order Values
	// gives them. Key is the columns of a primary key or unique index, all
	// in Columns, for ON CONFLICT: required with ConflictUpdate, optional
	// with ConflictIgnore (empty means any uniqueness constraint), unused
	// with ConflictError.
	Table connect.Table
	// Values appends rec's values, one per column, to row and returns it.
	// row holds the values of the batch's earlier records: append only,
	// never truncate or reslice it. Called under the sink's lock.
	Values func(rec T, row []any) []any
	// OnConflict says what to do with a row whose key exists:
	// [connect.ConflictError] (the zero value) fails the batch,
	// [connect.ConflictIgnore] skips the row (ON CONFLICT DO NOTHING), so
	// a re-run adds nothing, and [connect.ConflictUpdate] overwrites the
	// existing row's other columns (ON CONFLICT (Key) DO UPDATE). All three
	// cost about the same in SQLite.
	OnConflict connect.Conflict
	// RowsPerStatement caps the rows in one INSERT. 0 means as many as fit
	// in MaxParams parameters (MaxParams / len(Columns)).
	RowsPerStatement int
}

// Validate reports every impossible value, each naming its field.
func (c SinkConfig[T]) Validate() error {
	errs := []error{
		validateTable("SinkConfig.Table", c.Table, c.OnConflict == connect.ConflictUpdate),
		validateConflict("SinkConfig.OnConflict", c.OnConflict),
	}
	if c.Values == nil {
		errs = append(errs, errors.New("sqlite: SinkConfig.Values is required"))
	}
	if c.RowsPerStatement < 0 {
		errs = append(errs, fmt.Errorf("sqlite: SinkConfig.RowsPerStatement must be >= 0 (0 means as many as fit), got %d", c.RowsPerStatement))
	}
	return errors.Join(errs...)
}

// Sink loads records into one table. Each Write inserts its batch in one
// transaction, so a batch is loaded entirely or not at all, with multi-row
// INSERT statements of up to MaxParams parameters, prepared once and
// reused.
//
// Write is safe for concurrent use; calls are serialised (SQLite has one
// writer, see the package documentation). Cost: one transaction (one WAL
// commit) per batch, one statement execution per MaxParams values.
type Sink[T any] struct {
	db   *sql.DB
	cfg  SinkConfig[T]
	ins  *inserter
	rows atomic.Int64

	mu     sync.Mutex
	args   []any
	closed bool
}

// NewSink returns a sink inserting into cfg.Table through db (best opened
// with [Open]). It does not touch the database until the first Write.
func NewSink[T any](db *sql.DB, cfg SinkConfig[T]) (*Sink[T], error) {
	if db == nil {
		return nil, errors.New("sqlite: NewSink: nil *sql.DB")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sink[T]{db: db, cfg: cfg, ins: newInserter(db, cfg.Table, cfg.OnConflict, cfg.RowsPerStatement)}, nil
}

// Write inserts batch in one transaction and blocks until it commits or
// fails; on failure nothing of the batch stays. A Values call returning the
// wrong number of values fails the Write with a [*weir.RecordError] naming
// the record.
func (s *Sink[T]) Write(ctx context.Context, batch []T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	ncols := len(s.cfg.Table.Columns)
	args := s.args[:0]
	defer func() {
		clear(args) // keep no record's values alive between batches
		s.args = args[:0]
	}()
	for i := range batch {
		before := len(args)
		args = s.cfg.Values(batch[i], args)
		if got := len(args) - before; got != ncols {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("sqlite: %s: Values gave %d values for %d columns", s.cfg.Table.Name, got, ncols)}
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

// inTx runs fn in a transaction and commits, or rolls back if fn fails.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) (int64, error)) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	n, err := fn(tx)
	if err != nil {
		return 0, errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}

// Rows returns the number of rows inserted (or, with ConflictUpdate,
// updated) by committed Writes. Rows ConflictIgnore skipped are not
// counted. Safe for concurrent use.
func (s *Sink[T]) Rows() int64 { return s.rows.Load() }

// Close releases the prepared statements; it does not close the *sql.DB,
// which the caller owns. Later Writes return [ErrClosed]. Idempotent; it
// waits for a Write in progress.
func (s *Sink[T]) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.ins.close(); err != nil {
		return fmt.Errorf("sqlite: close sink %s: %w", s.cfg.Table.Name, err)
	}
	return nil
}

// MultiSinkConfig configures a [MultiSink]. Splitter is required.
type MultiSinkConfig[T any] struct {
	// Splitter names the tables, in foreign-key order, and expands each
	// record into their rows. Its Tables are read once, by NewMultiSink.
	Splitter connect.Splitter[T]
	// OnConflict says what to do with a row whose key exists, in every
	// table, as in [SinkConfig]. With [connect.ConflictIgnore] a re-run
	// skips rows already loaded: the conflict target is the table's Key
	// when set (a conflict on another unique index still fails), any
	// uniqueness constraint otherwise. [connect.ConflictUpdate] needs a Key
	// on every table.
	OnConflict connect.Conflict
	// RowsPerStatement caps the rows in one INSERT, as in [SinkConfig].
	RowsPerStatement int
}

// Validate reports every impossible value, each naming its field.
func (c MultiSinkConfig[T]) Validate() error {
	var tables []connect.Table
	if c.Splitter != nil {
		tables = c.Splitter.Tables()
	}
	return c.validate(tables)
}

// validate checks c with tables, the Splitter's tables, read once.
func (c MultiSinkConfig[T]) validate(tables []connect.Table) error {
	errs := []error{validateConflict("MultiSinkConfig.OnConflict", c.OnConflict)}
	switch {
	case c.Splitter == nil:
		errs = append(errs, errors.New("sqlite: MultiSinkConfig.Splitter is required"))
	case len(tables) == 0:
		errs = append(errs, errors.New("sqlite: MultiSinkConfig.Splitter.Tables() is empty"))
	}
	for i, t := range tables {
		errs = append(errs, validateTable(fmt.Sprintf("MultiSinkConfig.Splitter.Tables()[%d]", i), t, c.OnConflict == connect.ConflictUpdate))
	}
	if c.RowsPerStatement < 0 {
		errs = append(errs, fmt.Errorf("sqlite: MultiSinkConfig.RowsPerStatement must be >= 0 (0 means as many as fit), got %d", c.RowsPerStatement))
	}
	return errors.Join(errs...)
}

// MultiSink loads composite records into several tables: the
// [connect.Splitter] expands each record into rows, and each Write inserts
// the whole batch's rows in one transaction, table by table in the
// Splitter's (foreign-key) order, with multi-row INSERTs. A failing row
// (a foreign key, a constraint, a Split error) rolls back the whole batch
// in every table.
//
// Write is safe for concurrent use; calls are serialised. [MultiSink.Rows]
// may be called from any goroutine.
type MultiSink[T any] struct {
	db     *sql.DB
	cfg    MultiSinkConfig[T]
	tables []connect.Table
	ins    []*inserter
	rows   []atomic.Int64

	mu     sync.Mutex
	w      rowWriter
	closed bool
}

// NewMultiSink returns a sink writing the tables of cfg.Splitter through db.
// It checks cfg as [MultiSinkConfig.Validate] does. It does not touch the
// database until the first Write.
func NewMultiSink[T any](db *sql.DB, cfg MultiSinkConfig[T]) (*MultiSink[T], error) {
	if db == nil {
		return nil, errors.New("sqlite: NewMultiSink: nil *sql.DB")
	}
	var tables []connect.Table
	if cfg.Splitter != nil {
		tables = slices.Clone(cfg.Splitter.Tables())
	}
	if err := cfg.validate(tables); err != nil {
		return nil, err
	}
	m := &MultiSink[T]{
		db:     db,
		cfg:    cfg,
		tables: tables,
		ins:    make([]*inserter, len(tables)),
		rows:   make([]atomic.Int64, len(tables)),
		w:      rowWriter{tables: tables, args: make([][]any, len(tables))},
	}
	for i, t := range tables {
		m.ins[i] = newInserter(db, t, cfg.OnConflict, cfg.RowsPerStatement)
	}
	return m, nil
}

// rowWriter gathers a batch's rows per table.
type rowWriter struct {
	tables []connect.Table
	args   [][]any // per table, the values of its rows, flat, as the driver binds them
	err    error   // first bad Row call since the last reset
	buf    []byte  // formats times
}

func (w *rowWriter) Row(table int, values ...connect.Value) {
	if w.err != nil {
		return
	}
	if table < 0 || table >= len(w.tables) {
		w.err = fmt.Errorf("Row: table index %d out of range [0, %d)", table, len(w.tables))
		return
	}
	if len(values) != len(w.tables[table].Columns) {
		w.err = fmt.Errorf("Row: %d values for %s, which has %d columns", len(values), w.tables[table].Name, len(w.tables[table].Columns))
		return
	}
	for _, v := range values {
		a, err := bind(v, &w.buf)
		if err != nil {
			w.err = fmt.Errorf("Row: %s: %w", w.tables[table].Name, err)
			return
		}
		w.args[table] = append(w.args[table], a)
	}
}

func (w *rowWriter) reset() {
	for i := range w.args {
		clear(w.args[i])
		w.args[i] = w.args[i][:0]
	}
	w.err = nil
}

// Write splits batch and inserts every table's rows in one transaction,
// blocking until it commits or fails; on failure nothing of the batch
// stays. A Split error (or a bad Row call) fails the Write with a
// [*weir.RecordError] naming the record.
func (m *MultiSink[T]) Write(ctx context.Context, batch []T) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	defer m.w.reset()
	m.w.reset()
	for i := range batch {
		err := m.cfg.Splitter.Split(batch[i], &m.w)
		if err == nil {
			err = m.w.err
		}
		if err != nil {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("sqlite: split: %w", err)}
		}
	}
	for t, in := range m.ins {
		if err := in.prepare(ctx, len(m.w.args[t])/len(m.tables[t].Columns)); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	counts := make([]int64, len(m.tables))
	_, err := inTx(ctx, m.db, func(tx *sql.Tx) (int64, error) {
		for t, in := range m.ins {
			if len(m.w.args[t]) == 0 {
				continue
			}
			n, err := in.insert(ctx, tx, m.w.args[t])
			if err != nil {
				return 0, fmt.Errorf("insert into %s: %w", m.tables[t].Name, err)
			}
			counts[t] = n
		}
		return 0, nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for t, n := range counts {
		m.rows[t].Add(n)
	}
	return nil
}

// Rows returns, per table name, the rows inserted (or, with
// ConflictUpdate, updated) by committed Writes. Rows skipped by
// ConflictIgnore are not counted. Safe for concurrent use; it allocates
// the map.
func (m *MultiSink[T]) Rows() map[string]int64 {
	out := make(map[string]int64, len(m.tables))
	for i, t := range m.tables {
		out[t.Name] = m.rows[i].Load()
	}
	return out
}

// Tables returns the destination tables, as the Splitter gave them, in
// insert order. The slice is a copy.
func (m *MultiSink[T]) Tables() []connect.Table { return slices.Clone(m.tables) }

// Close releases the prepared statements; it does not close the *sql.DB.
// Later Writes return [ErrClosed]. Idempotent; it waits for a Write in
// progress.
func (m *MultiSink[T]) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, in := range m.ins {
		errs = append(errs, in.close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close multi-sink: %w", err)
	}
	return nil
}
