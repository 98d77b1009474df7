package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/weir-etl/weir/connect"
)

// SourceConfig configures a [Source]. Table.Key, Scan and Key are
// required, and one of Table.Name or Query.
type SourceConfig[E any] struct {
	// Table names what to read: Name the table (unless Query is set),
	// Columns the columns to select, in the order Scan reads them (empty
	// means *), and Key the columns to page by, which must be unique and
	// NOT NULL together (rows with a NULL key are never read).
	Table connect.Table
	// Query, when set, is a SELECT read instead of Table.Name: the source
	// pages over its result, so Table.Columns and Table.Key name columns
	// of that result. It must not end with a semicolon or hold ORDER BY
	// or LIMIT of its own that would change which rows a page sees.
	Query string
	// Scan reads the current row (rows.Scan into E's fields).
	Scan func(rows *sql.Rows) (E, error)
	// Key returns rec's key values, in Table.Key order. It is called on
	// the last record of each page, to start the next page after it.
	Key func(rec E) []any
	// After resumes the read strictly after this key (in Table.Key order),
	// typically a [Source.LastKey] kept from an earlier run. nil starts at
	// the beginning. (With weir's checkpoints, [Source.Seek] sets it.)
	After []any
	// PageSize caps the rows one query fetches. 0 means the length of the
	// buffer passed to Read (the engine's batch size).
	PageSize int
}

// Validate reports every impossible value, each naming its field.
func (c SourceConfig[E]) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Table.Name) == "" && strings.TrimSpace(c.Query) == "" {
		errs = append(errs, errors.New("sqlite: SourceConfig needs Table.Name or Query"))
	}
	if len(c.Table.Key) == 0 {
		errs = append(errs, errors.New("sqlite: SourceConfig.Table.Key is required (the unique columns to page by)"))
	}
	for _, k := range c.Table.Key {
		if k == "" {
			errs = append(errs, errors.New("sqlite: SourceConfig.Table.Key has an empty name"))
		}
	}
	if c.Scan == nil {
		errs = append(errs, errors.New("sqlite: SourceConfig.Scan is required"))
	}
	if c.Key == nil {
		errs = append(errs, errors.New("sqlite: SourceConfig.Key is required"))
	}
	if c.After != nil && len(c.After) != len(c.Table.Key) {
		errs = append(errs, fmt.Errorf("sqlite: SourceConfig.After has %d values for a key of %d columns", len(c.After), len(c.Table.Key)))
	}
	if c.PageSize < 0 {
		errs = append(errs, fmt.Errorf("sqlite: SourceConfig.PageSize must be >= 0, got %d", c.PageSize))
	}
	if strings.HasSuffix(strings.TrimSpace(c.Query), ";") {
		errs = append(errs, errors.New("sqlite: SourceConfig.Query must not end with ';'"))
	}
	return errors.Join(errs...)
}

// Source reads a table or query in key order, one page per Read:
//
//	SELECT cols FROM t WHERE key > ? ORDER BY key LIMIT n
//
// Keyset pagination costs one index seek per page however deep the read
// goes (OFFSET would rescan), holds no cursor between Reads (so a Sink can
// write through the same one-connection *sql.DB), and resumes exactly:
// [Source.LastKey] is the key of the last record read, and
// [SourceConfig.After] starts after it. Rows inserted behind the position
// during the read are not seen; rows ahead of it are.
//
// Source implements weir.Positioner ([Source.Position], [Source.Seek]), so
// a run with weir.WithCheckpoint resumes after the last key
// whose records were all loaded; [CheckpointStore] keeps the positions in
// the same database.
//
// Read must be called from one goroutine at a time; LastKey may be called
// from any goroutine.
type Source[E any] struct {
	db    *sql.DB
	cfg   SourceConfig[E]
	first string // query without a lower bound
	next  string // query after a key

	stmtFirst, stmtNext *sql.Stmt

	mu      sync.Mutex
	pos     []any
	done    bool
	closed  bool
	started bool // Read was called: Seek is too late
	seeked  bool
}

// NewSource returns a source reading through db. It does not touch the
// database until the first Read.
func NewSource[E any](db *sql.DB, cfg SourceConfig[E]) (*Source[E], error) {
	if db == nil {
		return nil, errors.New("sqlite: NewSource: nil *sql.DB")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cols := "*"
	if len(cfg.Table.Columns) > 0 {
		cols = quoteList(cfg.Table.Columns)
	}
	from := quoteTable(cfg.Table.Name)
	if cfg.Query != "" {
		from = "(" + cfg.Query + ") AS q"
	}
	key := quoteList(cfg.Table.Key)
	bound := key + " > ?"
	if len(cfg.Table.Key) > 1 {
		// A row value compares column by column, as ORDER BY does.
		bound = "(" + key + ") > (" + strings.TrimSuffix(strings.Repeat("?, ", len(cfg.Table.Key)), ", ") + ")"
	}
	base := "SELECT " + cols + " FROM " + from
	order := " ORDER BY " + key + " LIMIT ?"
	s := &Source[E]{
		db:    db,
		cfg:   cfg,
		first: base + order,
		next:  base + " WHERE " + bound + order,
		pos:   slices.Clone(cfg.After),
	}
	return s, nil
}

// Read fetches the next page, up to len(buf) rows (or PageSize), into buf.
// It returns io.EOF with the last page (a page shorter than asked means
// the end), so reading n rows costs about n/len(buf) + 1 queries. A Scan or
// query error ends the Read with the rows scanned before it; LastKey then
// points at the last of them, and a later Read retries from there. Blocks
// on the query; cancelling ctx interrupts it.
func (s *Source[E]) Read(ctx context.Context, buf []E) (int, error) {
	s.mu.Lock()
	closed, done, pos := s.closed, s.done, s.pos
	s.started = true
	s.mu.Unlock()
	switch {
	case closed:
		return 0, ErrClosed
	case done:
		return 0, io.EOF
	case len(buf) == 0:
		return 0, nil
	}
	limit := len(buf)
	if s.cfg.PageSize > 0 && s.cfg.PageSize < limit {
		limit = s.cfg.PageSize
	}
	stmt, args, err := s.page(ctx, pos, limit)
	if err != nil {
		return 0, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: read %s: %w", s.what(), err)
	}
	n := 0
	for n < limit && rows.Next() {
		v, err := s.cfg.Scan(rows)
		if err != nil {
			err = fmt.Errorf("sqlite: read %s: scan: %w", s.what(), err)
			return n, errors.Join(err, s.advance(buf[:n], false), rows.Close())
		}
		buf[n] = v
		n++
	}
	err = errors.Join(rows.Err(), rows.Close())
	if err != nil {
		return n, errors.Join(fmt.Errorf("sqlite: read %s: %w", s.what(), err), s.advance(buf[:n], false))
	}
	last := n < limit
	if err := s.advance(buf[:n], last); err != nil {
		return n, err
	}
	if last {
		return n, io.EOF
	}
	return n, nil
}

// page picks the statement and arguments for the page after pos.
func (s *Source[E]) page(ctx context.Context, pos []any, limit int) (*sql.Stmt, []any, error) {
	var err error
	if pos == nil {
		if s.stmtFirst == nil {
			if s.stmtFirst, err = s.db.PrepareContext(ctx, s.first); err != nil {
				return nil, nil, fmt.Errorf("sqlite: read %s: prepare: %w", s.what(), err)
			}
		}
		return s.stmtFirst, []any{limit}, nil
	}
	if s.stmtNext == nil {
		if s.stmtNext, err = s.db.PrepareContext(ctx, s.next); err != nil {
			return nil, nil, fmt.Errorf("sqlite: read %s: prepare: %w", s.what(), err)
		}
	}
	args := make([]any, 0, len(pos)+1)
	return s.stmtNext, append(append(args, pos...), limit), nil
}

// advance moves the position to the key of the last record read.
func (s *Source[E]) advance(read []E, done bool) error {
	var key []any
	if len(read) > 0 {
		key = s.cfg.Key(read[len(read)-1])
		if len(key) != len(s.cfg.Table.Key) {
			return fmt.Errorf("sqlite: read %s: Key returned %d values for a key of %d columns", s.what(), len(key), len(s.cfg.Table.Key))
		}
		key = slices.Clone(key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != nil {
		s.pos = key
	}
	s.done = done
	return nil
}

func (s *Source[E]) what() string {
	if s.cfg.Query != "" {
		return "query"
	}
	return s.cfg.Table.Name
}

// LastKey returns the key of the last record read (a copy, in Table.Key
// order), or SourceConfig.After before the first row. Pass it as After to
// resume after that record. Safe for concurrent use.
//
// With weir's engine, records Read returned may not be loaded yet: for
// checkpoints, use weir.WithCheckpoint, which saves a key only
// once every record before it is loaded.
func (s *Source[E]) LastKey() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pos)
}

// Close releases the prepared statements; it does not close the *sql.DB.
// Later Reads return [ErrClosed]. Idempotent; must not be called
// concurrently with Read.
func (s *Source[E]) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, st := range []*sql.Stmt{s.stmtFirst, s.stmtNext} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close source %s: %w", s.what(), err)
	}
	return nil
}
