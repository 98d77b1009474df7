package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Page sizes of a [Source].
const (
	// DefaultPageSize is the page size when SourceConfig.PageSize is 0.
	DefaultPageSize = 1000
	// MaxPageSize is the largest SourceConfig.PageSize accepted: a page
	// is held in memory.
	MaxPageSize = 1 << 20
)

// SourceConfig configures a [Source]. Set exactly one of Table and Query.
type SourceConfig[E any] struct {
	// Table is the table (or view) to read, optionally schema.table; each
	// part is quoted, so names are case-sensitive.
	Table string
	// Query is a SELECT to read instead of a table. It becomes a subquery:
	//
	//	SELECT cols FROM (Query) AS q WHERE key > $n ORDER BY key LIMIT size
	//
	// so it must not end with a semicolon, and its ORDER BY and LIMIT, if
	// any, apply before paging. Reference its arguments as $1..$k and pass
	// them in QueryArgs; the source passes the key as the next one.
	Query     string
	QueryArgs []any
	// Key is the column pages are ordered and resumed by: unique, NOT NULL
	// and, for speed, the leading column of an index (a primary key is
	// ideal). It must be among the columns read. Required.
	Key string
	// Columns are the columns to read, in order; empty reads every column
	// (*). When set, it must include Key.
	Columns []string
	// PageSize is how many rows one query fetches. Default
	// DefaultPageSize; at most MaxPageSize. A page is held in memory, and
	// a connection is held only while a page is fetched.
	PageSize int
	// After resumes a read: only rows with key > After[0] are read. Pass
	// the [Source.LastKey] of an earlier run: a slice of one value, since
	// Key is one column. nil (the default) reads from the first row. (With
	// weir's checkpoints, [Source.Seek] sets it.)
	After []any
	// Scan turns the current row into a record. Required. Pass
	// pgx.RowToStructByName[E] to fill a struct by column names (db tags),
	// or write your own with row.Scan.
	Scan pgx.RowToFunc[E]
}

// Source reads a table or a query in key order, a page at a time, by
// keyset pagination:
//
//	SELECT cols FROM t WHERE key > $1 ORDER BY key LIMIT n
//
// (the first page without the WHERE unless After is set). Unlike OFFSET,
// every page costs an index range scan however deep it is, and the key of
// the last record read is enough to resume: see [Source.LastKey].
//
// Pages are separate statements, each its own snapshot: rows inserted or
// updated during a read are seen if their key is past the read's position.
// Give the source a pgx.Tx with REPEATABLE READ as its DB for one snapshot.
//
// Source implements weir.Positioner ([Source.Position], [Source.Seek]), so
// a run with weir.WithCheckpoint resumes after the last key
// whose records were all loaded; [CheckpointStore] keeps the positions in
// the database.
//
// Read is for one goroutine at a time (as weir's engine calls it);
// LastKey and Position may be called from any goroutine.
type Source[E any] struct {
	db        DB
	scan      pgx.RowToFunc[E]
	first     string // SQL of a page without a start key
	next      string // SQL of a page after a key (the last argument)
	args      []any  // QueryArgs, then the key
	keyCol    string
	pageSize  int
	typeMap   *pgtype.Map // decodes keys; used by Read only
	page      []E
	keyOID    uint32
	keyFormat int16
	keyBuf    []byte // raw keys of the page, back to back
	keyEnd    []int  // keyBuf[keyEnd[i-1]:keyEnd[i]] is row i's key
	pos       int    // next record of page to return
	after     any    // key of the page's last row: where the next page starts
	started   bool   // after is set
	done      bool   // the last page has been fetched
	read      bool   // Read was called: Seek is too late
	seeked    bool

	mu       sync.Mutex
	position any
	posOID   uint32      // type of position when it came from a page; 0 otherwise
	textMap  *pgtype.Map // encodes positions as text; guarded by mu
}

// Validate reports every impossible value, each error naming its field. It
// does not contact the database.
func (c SourceConfig[E]) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("postgres: SourceConfig"+format, args...))
	}
	switch {
	case c.Table == "" && c.Query == "":
		bad(": set Table or Query")
	case c.Table != "" && c.Query != "":
		bad(": set Table or Query, not both")
	case c.Table != "" && slices.Contains(strings.Split(c.Table, "."), ""):
		bad(".Table %q has an empty part (write schema.table)", c.Table)
	case c.Query != "" && strings.HasSuffix(strings.TrimSpace(c.Query), ";"):
		bad(".Query must not end with a semicolon: it is used as a subquery")
	}
	if len(c.QueryArgs) > 0 && c.Query == "" {
		bad(".QueryArgs is set without Query")
	}
	if c.Key == "" {
		bad(".Key is empty")
	}
	if len(c.Columns) > 0 && c.Key != "" && !slices.Contains(c.Columns, c.Key) {
		bad(".Columns must include Key %q", c.Key)
	}
	for i, col := range c.Columns {
		if col == "" {
			bad(".Columns[%d] is empty", i)
		}
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		bad(".PageSize must be between 1 and %d (0 means %d), got %d", MaxPageSize, DefaultPageSize, c.PageSize)
	}
	if len(c.After) > 1 {
		bad(".After has %d values for a key of one column (Key)", len(c.After))
	}
	if c.Scan == nil {
		bad(".Scan is nil (pgx.RowToStructByName[E] fills a struct by column names)")
	}
	return errors.Join(errs...)
}

// NewSource returns a source reading through db as cfg says. It checks cfg
// with [SourceConfig.Validate] and returns an error naming every bad field;
// it does not contact the database.
func NewSource[E any](db DB, cfg SourceConfig[E]) (*Source[E], error) {
	errs := []error{cfg.Validate()}
	if db == nil {
		errs = append(errs, errors.New("postgres: NewSource: nil DB"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var after any
	if len(cfg.After) == 1 {
		after = cfg.After[0]
	}
	size := cfg.PageSize
	if size == 0 {
		size = DefaultPageSize
	}

	cols := "*"
	if len(cfg.Columns) > 0 {
		cols = quoteList(cfg.Columns)
	}
	from := pgx.Identifier(strings.Split(cfg.Table, ".")).Sanitize()
	if cfg.Query != "" {
		from = "(" + cfg.Query + ") AS weir_q"
	}
	key := pgx.Identifier{cfg.Key}.Sanitize()
	tail := " ORDER BY " + key + " LIMIT " + strconv.Itoa(size)
	head := "SELECT " + cols + " FROM " + from
	s := &Source[E]{
		db:       db,
		scan:     cfg.Scan,
		first:    head + tail,
		next:     head + " WHERE " + key + " > $" + strconv.Itoa(len(cfg.QueryArgs)+1) + tail,
		args:     append(slices.Clone(cfg.QueryArgs), nil),
		keyCol:   cfg.Key,
		pageSize: size,
		typeMap:  pgtype.NewMap(),
		after:    after,
		started:  after != nil,
		position: after,
		textMap:  pgtype.NewMap(),
	}
	return s, nil
}

// Read fills buf with the next records in key order and returns how many.
// It returns what is left of the current page, fetching the next page (one
// query, blocking) when the current one is used up and buf has room. It
// returns io.EOF, possibly with n > 0, once the table is read. On a
// database error it returns the records gathered so far with the error;
// calling Read again retries the same page.
func (s *Source[E]) Read(ctx context.Context, buf []E) (int, error) {
	s.read = true
	n := 0
	var err error
	for n < len(buf) && err == nil {
		if s.pos < len(s.page) {
			c := copy(buf[n:], s.page[s.pos:])
			s.pos += c
			n += c
			continue
		}
		if s.done {
			break
		}
		err = s.fetch(ctx)
	}
	if n > 0 {
		// The last record returned is page[pos-1]. When the page is used
		// up (or a fetch found nothing more, or failed) that is the last
		// row of the page, whose key is s.after, already decoded.
		if s.pos < len(s.page) {
			k, kerr := s.decodeKey(s.pos - 1)
			if kerr != nil {
				return n, errors.Join(err, kerr)
			}
			s.setPosition(k)
		} else {
			s.setPosition(s.after)
		}
	}
	if err == nil && s.done && s.pos >= len(s.page) {
		err = io.EOF
	}
	return n, err
}

// fetch replaces the used-up page with the next one. On error the page
// stays used up and the start key unchanged, so the next Read retries the
// same page.
func (s *Source[E]) fetch(ctx context.Context) error {
	var rows pgx.Rows
	var err error
	if s.started {
		s.args[len(s.args)-1] = s.after
		rows, err = s.db.Query(ctx, s.next, s.args...)
	} else {
		rows, err = s.db.Query(ctx, s.first, s.args[:len(s.args)-1]...)
	}
	if err != nil {
		return fmt.Errorf("read page: %w", detailed(err))
	}
	defer rows.Close()

	keyIdx := -1
	fds := rows.FieldDescriptions()
	for i, fd := range fds {
		if fd.Name == s.keyCol {
			keyIdx = i
			break
		}
	}
	if keyIdx < 0 {
		// A query that failed on the server (a bad argument, a missing
		// table) has no columns: report its error, not theirs.
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read page: %w", detailed(err))
		}
		return fmt.Errorf("read page: key column %q is not among the columns read", s.keyCol)
	}
	// fds is the connection's own buffer: once rows is done the pool may
	// hand the connection to another query, which overwrites it.
	keyOID, keyFormat := fds[keyIdx].DataTypeOID, fds[keyIdx].Format
	clear(s.page)
	page, keyBuf, keyEnd := s.page[:0], s.keyBuf[:0], s.keyEnd[:0]
	for rows.Next() {
		raw := rows.RawValues()[keyIdx]
		if raw == nil {
			return fmt.Errorf("read page: key column %q is NULL in row %d: keyset pagination needs a NOT NULL key", s.keyCol, len(page))
		}
		e, err := s.scan(rows)
		if err != nil {
			return fmt.Errorf("read page: scan row %d: %w", len(page), err)
		}
		page = append(page, e)
		keyBuf = append(keyBuf, raw...)
		keyEnd = append(keyEnd, len(keyBuf))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read page: %w", detailed(err))
	}
	s.page, s.keyBuf, s.keyEnd, s.pos = page, keyBuf, keyEnd, 0
	s.keyOID, s.keyFormat = keyOID, keyFormat
	if len(page) < s.pageSize {
		s.done = true
	}
	if len(page) > 0 {
		k, err := s.decodeKey(len(page) - 1)
		if err != nil {
			return err
		}
		s.after, s.started = k, true
	}
	return nil
}

// decodeKey decodes row i's key into the Go value pgx gives the column's
// type by default (int64 for bigint, string for text, time.Time for
// timestamptz, ...), a value pgx can send back as a query argument.
func (s *Source[E]) decodeKey(i int) (any, error) {
	start := 0
	if i > 0 {
		start = s.keyEnd[i-1]
	}
	raw := slices.Clone(s.keyBuf[start:s.keyEnd[i]]) // the decoded value may alias it
	if t, ok := s.typeMap.TypeForOID(s.keyOID); ok {
		v, err := t.Codec.DecodeValue(s.typeMap, s.keyOID, s.keyFormat, raw)
		if err != nil {
			return nil, fmt.Errorf("decode key %q: %w", s.keyCol, err)
		}
		return v, nil
	}
	if s.keyFormat == pgx.TextFormatCode {
		return string(raw), nil
	}
	return raw, nil
}

// setPosition records k, a key of the current page.
func (s *Source[E]) setPosition(k any) {
	s.mu.Lock()
	s.position, s.posOID = k, s.keyOID
	s.mu.Unlock()
}

// LastKey returns the key of the last record Read has returned, as a
// slice of one value (Key is one column): the Go value pgx decodes the
// column to (int64 for bigint, string for text, time.Time for timestamptz,
// ...). Before the first record it returns [SourceConfig.After] (nil when
// reading from the start; the key's text form after a [Source.Seek]). A
// new Source with After set to it reads exactly the records after those
// already read. Safe to call from any goroutine; it allocates the slice.
//
// Note that with weir's engine, records returned by Read may not be loaded
// yet: for checkpoints, use weir.WithCheckpoint, which saves a
// position only once every record before it is loaded.
func (s *Source[E]) LastKey() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.position == nil {
		return nil
	}
	return []any{s.position}
}
