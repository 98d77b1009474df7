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
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/weir-etl/weir/connect"
)

// ErrClosed is returned by a [RowSource]'s Read after Close.
var ErrClosed = errors.New("postgres: source closed")

// RowSourceConfig configures a [RowSource]. Set exactly one of Table and
// Query.
type RowSourceConfig struct {
	// Table is the table (or view) to read, every column, optionally
	// schema.table; each part is quoted, so names are case-sensitive.
	Table string
	// Query is a SELECT to read instead. Without Key it is run once and
	// streamed, and cannot resume. With Key it is paged like a table, as
	// a subquery (so it must not end with a semicolon).
	Query string
	// Key lists the columns pages are ordered and resumed by: together
	// unique and NOT NULL, ideally an index's leading columns. Default for
	// a Table: its primary key; a table without one is streamed once, like
	// a Query without Key.
	Key []string
	// After resumes a read after the row whose key is After, one value per
	// Key column: pass an earlier source's [RowSource.LastKey]. nil reads
	// from the start. Needs a key.
	After []any
	// PageSize is how many rows one page query fetches. Default
	// DefaultPageSize; at most MaxPageSize.
	PageSize int
}

// Validate reports every impossible value, each error naming its field. It
// does not contact the database.
func (c RowSourceConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("postgres: RowSourceConfig"+format, args...))
	}
	switch {
	case c.Table == "" && c.Query == "":
		bad(": set Table or Query")
	case c.Table != "" && c.Query != "":
		bad(": set Table or Query, not both")
	case c.Table != "" && slices.Contains(strings.Split(c.Table, "."), ""):
		bad(".Table %q has an empty part (write schema.table)", c.Table)
	case c.Query != "" && strings.HasSuffix(strings.TrimSpace(c.Query), ";"):
		bad(".Query must not end with a semicolon")
	}
	for i, k := range c.Key {
		if k == "" || slices.Index(c.Key, k) < i {
			bad(".Key[%d] %q is empty or listed twice", i, k)
		}
	}
	if len(c.After) > 0 && len(c.Key) > 0 && len(c.After) != len(c.Key) {
		bad(".After has %d values for a key of %d columns", len(c.After), len(c.Key))
	}
	if len(c.After) > 0 && c.Query != "" && len(c.Key) == 0 {
		bad(".After is set for a Query without Key, which cannot resume")
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		bad(".PageSize must be between 1 and %d (0 means %d), got %d", MaxPageSize, DefaultPageSize, c.PageSize)
	}
	return errors.Join(errs...)
}

// RowSource reads a table or a query as generic rows ([connect.Row]),
// typed from the result's column types (see [TableColumns] for the
// mapping). Values are decoded from PostgreSQL's binary format straight
// into [connect.Value]s, with no boxing: a row costs its values' strings
// and a share of its page's slice of values.
//
// With a key (RowSourceConfig.Key, or a table's primary key) it reads by
// keyset pagination, as [Source] does, ordered by the key columns:
//
//	SELECT * FROM t WHERE (k1, k2) > ($1, $2) ORDER BY k1, k2 LIMIT n
//
// and implements weir.Positioner: Position is the key of the last row
// returned, each column in its text form ({"key":["7","alice"]}), and
// Seek resumes after it. Without a key, the query runs once and is
// streamed, holding a connection until the end or Close; its Position
// and Seek return errors, so a run with checkpoints refuses it rather
// than restarting from the beginning.
//
// Each row's Pos is {Name: the table, or "query", Line: the row's number
// in this read, from 1}. A value weir has no value for (a date or
// timestamp of ±infinity) fails the Read with an error naming the row's
// key and the column, after the rows before it.
//
// Read is for one goroutine at a time; LastKey and Position may be called
// from any goroutine. Close releases a streamed query's connection.
type RowSource struct {
	db       DB
	label    string // Pos.Name
	cols     []connect.Column
	kinds    []kind
	keyIdx   []int // nil: streamed
	first    string
	next     string
	pageSize int
	formats  pgx.QueryResultFormatsByOID

	args    []any // start key of the next page, as arguments
	started bool  // args is set
	done    bool
	page    []connect.Row
	pos     int
	pageErr error // after page: a row that could not be decoded
	line    int64
	tmp     []byte
	read    bool
	seeked  bool

	stream     pgx.Rows // streamed mode, once started
	stopStream context.CancelFunc
	streamErr  error
	closed     bool

	mu      sync.Mutex
	lastKey []connect.Value // key of the last row returned
	start   []any           // After, or Seek's texts: the key before the first row
}

// binaryOIDs asks for the binary format of every type RowSource decodes,
// and text for the others.
var binaryOIDs = func() pgx.QueryResultFormatsByOID {
	m := pgx.QueryResultFormatsByOID{}
	for _, oid := range []uint32{pgtype.BoolOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.Float4OID,
		pgtype.Float8OID, pgtype.NumericOID, pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID,
		pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID, pgtype.JSONOID, pgtype.JSONBOID,
		pgtype.ByteaOID, pgtype.UUIDOID} {
		m[oid] = pgx.BinaryFormatCode
	}
	return m
}()

// NewRowSource returns a source reading through db as cfg says. It checks
// cfg with [RowSourceConfig.Validate], then asks the server for the
// columns (a query of no rows) and, for a Table without Key, its primary
// key: so a missing table or column fails here.
func NewRowSource(ctx context.Context, db DB, cfg RowSourceConfig) (*RowSource, error) {
	errs := []error{cfg.Validate()}
	if db == nil {
		errs = append(errs, errors.New("postgres: NewRowSource: nil DB"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &RowSource{db: db, label: cfg.Table, pageSize: cmp(cfg.PageSize, DefaultPageSize), formats: binaryOIDs}
	from := pgx.Identifier(strings.Split(cfg.Table, ".")).Sanitize()
	if cfg.Query != "" {
		s.label, from = "query", "("+cfg.Query+") AS weir_q"
	}
	key := cfg.Key
	if cfg.Table != "" && len(key) == 0 {
		var err error
		if key, err = primaryKey(ctx, db, cfg.Table); err != nil {
			return nil, err
		}
	}
	if len(cfg.After) > 0 && len(key) != len(cfg.After) {
		return nil, fmt.Errorf("postgres: RowSourceConfig.After has %d values for the key %v of %s", len(cfg.After), key, s.label)
	}
	if err := s.describe(ctx, from, key); err != nil {
		return nil, err
	}
	if len(key) == 0 {
		s.first = "SELECT * FROM " + from
		if cfg.Query != "" {
			s.first = cfg.Query
		}
		return s, nil
	}
	tail := " ORDER BY " + quoteList(key) + " LIMIT " + strconv.Itoa(s.pageSize)
	s.first = "SELECT * FROM " + from + tail
	params := make([]string, len(key))
	for i := range key {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	s.next = "SELECT * FROM " + from + " WHERE (" + quoteList(key) + ") > (" + strings.Join(params, ", ") + ")" + tail
	if len(cfg.After) > 0 {
		s.args, s.started, s.start = slices.Clone(cfg.After), true, slices.Clone(cfg.After)
	}
	return s, nil
}

func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// describe learns the columns of from, and the positions of key among them.
func (s *RowSource) describe(ctx context.Context, from string, key []string) error {
	rows, err := s.db.Query(ctx, "SELECT * FROM "+from+" LIMIT 0", pgx.QueryExecModeCacheDescribe, s.formats)
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		return fmt.Errorf("postgres: columns of %s: %w", s.label, detailed(err))
	}
	for _, fd := range rows.FieldDescriptions() {
		k := kindOf(fd.DataTypeOID, "")
		s.cols = append(s.cols, connect.Column{Name: fd.Name, Type: k.connectType()})
		s.kinds = append(s.kinds, k)
	}
	for _, k := range key {
		i := slices.IndexFunc(s.cols, func(c connect.Column) bool { return c.Name == k })
		if i < 0 {
			return fmt.Errorf("postgres: key column %q is not a column of %s", k, s.label)
		}
		s.keyIdx = append(s.keyIdx, i)
	}
	return nil
}

// primaryKey returns the columns of table's primary key, in key order;
// none if it has none.
func primaryKey(ctx context.Context, db DB, table string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT a.attname::text FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = to_regclass($1) AND i.indisprimary
		ORDER BY array_position(i.indkey::int2[], a.attnum)`, pgx.Identifier(strings.Split(table, ".")).Sanitize())
	var key []string
	if err == nil {
		key, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: primary key of %s: %w", table, detailed(err))
	}
	return key, nil
}

// Columns returns the columns read, in order, typed from the result's
// column types. The caller must not modify the slice.
func (s *RowSource) Columns() []connect.Column { return s.cols }

// Read fills buf with the next rows and returns how many; io.EOF, possibly
// with n > 0, once everything is read. With a key it returns what is left
// of the current page, fetching the next (one query) when buf has room; on
// an error it returns the rows gathered so far with it, and the next Read
// tries the same page again. Streamed, a Read cancelled while it waits
// ends the stream: later Reads return the same error.
func (s *RowSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	switch {
	case s.closed:
		return 0, ErrClosed
	case ctx.Err() != nil:
		return 0, ctx.Err()
	}
	s.read = true
	if s.keyIdx == nil {
		return s.readStream(ctx, buf)
	}
	n := 0
	var err error
	for n < len(buf) && err == nil {
		if s.pos < len(s.page) {
			c := copy(buf[n:], s.page[s.pos:])
			s.pos += c
			n += c
			continue
		}
		if s.pageErr != nil {
			err, s.pageErr = s.pageErr, nil
			break
		}
		if s.done {
			break
		}
		err = s.fetch(ctx)
	}
	if n > 0 {
		s.setLastKey(buf[n-1].Values)
	}
	if err == nil && s.done && s.pos >= len(s.page) {
		err = io.EOF
	}
	return n, err
}

// fetch replaces the used-up page with the next one. A row it cannot decode
// ends the page before it, with pageErr set; the next fetch starts there
// again.
func (s *RowSource) fetch(ctx context.Context) error {
	var rows pgx.Rows
	var err error
	if s.started {
		rows, err = s.db.Query(ctx, s.next, append([]any{pgx.QueryExecModeCacheDescribe, s.formats}, s.args...)...)
	} else {
		rows, err = s.db.Query(ctx, s.first, pgx.QueryExecModeCacheDescribe, s.formats)
	}
	if err != nil {
		return fmt.Errorf("postgres: read %s: %w", s.label, detailed(err))
	}
	defer rows.Close()
	if err := s.checkFields(rows); err != nil {
		return err
	}
	page := s.page[:0]
	clear(s.page[:cap(s.page)])
	vals := make([]connect.Value, s.pageSize*len(s.cols))
	for rows.Next() {
		row := vals[:len(s.cols):len(s.cols)]
		vals = vals[len(s.cols):]
		if err := s.decodeRow(rows, row, s.line+int64(len(page))+1); err != nil {
			s.pageErr = err
			break
		}
		page = append(page, connect.Row{Values: row})
	}
	rows.Close()
	if err := rows.Err(); err != nil && s.pageErr == nil {
		return fmt.Errorf("postgres: read %s: %w", s.label, detailed(err))
	}
	for i := range page {
		s.line++
		page[i].Pos = connect.Pos{Name: s.label, Line: s.line}
	}
	s.page, s.pos = page, 0
	if len(page) < s.pageSize && s.pageErr == nil {
		s.done = true
	}
	if len(page) > 0 {
		s.args, s.started = s.keyArgs(page[len(page)-1].Values), true
	}
	return nil
}

// checkFields fails when a page's columns are not those described at the
// start, as when the table was altered during the read.
func (s *RowSource) checkFields(rows pgx.Rows) error {
	fds := rows.FieldDescriptions()
	if len(fds) != len(s.cols) {
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: read %s: %w", s.label, detailed(err))
		}
		return fmt.Errorf("postgres: read %s: %d columns, %d when the read started", s.label, len(fds), len(s.cols))
	}
	for i, fd := range fds {
		if fd.Name != s.cols[i].Name || kindOf(fd.DataTypeOID, "") != s.kinds[i] {
			return fmt.Errorf("postgres: read %s: column %d is %q of another type than when the read started", s.label, i+1, fd.Name)
		}
	}
	return nil
}

// decodeRow decodes the current row of rows, the line-th of the read, into
// row.
func (s *RowSource) decodeRow(rows pgx.Rows, row []connect.Value, line int64) error {
	raw := rows.RawValues()
	fds := rows.FieldDescriptions()
	for j := range row {
		v, err := decodeValue(s.kinds[j], fds[j].Format, raw[j], &s.tmp)
		if err != nil {
			where := fmt.Sprintf("row %d", line)
			if s.keyIdx != nil {
				where = "row with key " + s.keyString(raw, fds)
			}
			return fmt.Errorf("postgres: read %s: %s: column %q: %w", s.label, where, s.cols[j].Name, err)
		}
		row[j] = v
	}
	for _, j := range s.keyIdx {
		if row[j].IsNull() {
			return fmt.Errorf("postgres: read %s: row %d: key column %q is NULL: keyset pagination needs a NOT NULL key", s.label, line, s.cols[j].Name)
		}
	}
	return nil
}

// keyString shows the key of a raw row: "(7, alice)".
func (s *RowSource) keyString(raw [][]byte, fds []pgconn.FieldDescription) string {
	parts := make([]string, len(s.keyIdx))
	for i, j := range s.keyIdx {
		v, err := decodeValue(s.kinds[j], fds[j].Format, raw[j], &s.tmp)
		if err != nil {
			parts[i] = "?"
			continue
		}
		parts[i] = string(appendPGText(nil, s.kinds[j], v))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
