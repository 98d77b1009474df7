package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

var _ weir.Positioner = (*RowSource)(nil)

// errNoKey is the error of Position and Seek on a query read without Key.
var errNoKey = errors.New("a query read without RowSourceConfig.Key has no position: set Key to resume it")

// RowSourceConfig configures a [RowSource]. One of Table or Query is
// required.
type RowSourceConfig struct {
	// Table is the table or view to read, every column of it; a dotted
	// name is schema.table.
	Table string
	// Query is a SELECT to read instead of a table. It must not end with
	// ';'. With Key, the source pages over its result, so it must not
	// hold an ORDER BY or LIMIT that would change which rows a page sees.
	Query string
	// Key lists the columns to read in the order of, which must be unique
	// and NOT NULL together (a row with a NULL key is never read). Empty
	// means: a table in rowid order (a WITHOUT ROWID table needs Key); a
	// query in one pass, with no position to resume from.
	Key []string
	// After resumes the read strictly after this key, in Key order (a
	// rowid for a table read by rowid), typically a [RowSource.LastKey]
	// kept from an earlier run. nil starts at the beginning.
	After []any
	// PageSize caps the rows one query fetches. 0 means the length of the
	// buffer passed to Read (the engine's batch size).
	PageSize int
}

// Validate reports every impossible value, each naming its field.
func (c RowSourceConfig) Validate() error {
	var errs []error
	switch table, query := strings.TrimSpace(c.Table) != "", strings.TrimSpace(c.Query) != ""; {
	case !table && !query:
		errs = append(errs, errors.New("sqlite: RowSourceConfig needs Table or Query"))
	case table && query:
		errs = append(errs, errors.New("sqlite: RowSourceConfig has both Table and Query: set one"))
	}
	seen := make(map[string]bool, len(c.Key))
	for _, k := range c.Key {
		switch {
		case k == "":
			errs = append(errs, errors.New("sqlite: RowSourceConfig.Key has an empty name"))
		case seen[k]:
			errs = append(errs, fmt.Errorf("sqlite: RowSourceConfig.Key lists %q twice", k))
		}
		seen[k] = true
	}
	switch want := max(len(c.Key), 1); {
	case c.After == nil:
	case c.Query != "" && len(c.Key) == 0:
		errs = append(errs, errors.New("sqlite: RowSourceConfig.After needs Key to read a Query after a key"))
	case len(c.After) != want:
		errs = append(errs, fmt.Errorf("sqlite: RowSourceConfig.After has %d values for a key of %d columns", len(c.After), want))
	}
	if c.PageSize < 0 {
		errs = append(errs, fmt.Errorf("sqlite: RowSourceConfig.PageSize must be >= 0, got %d", c.PageSize))
	}
	if strings.HasSuffix(strings.TrimSpace(c.Query), ";") {
		errs = append(errs, errors.New("sqlite: RowSourceConfig.Query must not end with ';'"))
	}
	return errors.Join(errs...)
}

// RowSource reads a table or a query as generic rows ([connect.Row]), in
// key order, one page per Read, as [Source] does: a table by its Key or
// its rowid, a query by its Key. Each page is one query that holds no
// cursor between Reads, so a sink may write through the same
// one-connection *sql.DB. A query without Key is read in one pass
// instead: its cursor holds the connection from the first Read to the
// end or Close, so with a *sql.DB from [Open] nothing else can use that
// database meanwhile (open it twice), and the read cannot resume.
//
// [RowSource.Columns] types each column from its declared type, as
// SQLite's affinity rules read it, in this order (case-insensitive):
//
//	INT4 exactly                       integer
//	contains INT                       bigint (BIGINT, SMALLINT; also POINT, as in SQLite)
//	contains REAL, FLOA or DOUB        double
//	contains NUMERIC or DECIMAL        numeric
//	contains BOOL                      boolean
//	TIMESTAMPTZ, or TIMESTAMP ... WITH TIME ZONE   timestamptz
//	contains DATETIME or TIMESTAMP     timestamp
//	contains DATE                      date
//	contains JSON                      json
//	contains BLOB                      bytes
//	anything else, or no declared type (an expression in a query)   text
//
// so that a table [CreateTable] made reads back with its types. SQLite
// lets any column hold any value ('abc' in an INTEGER column). A text
// column reads whatever it holds in its text form (a BLOB as its bytes);
// in a column of another type, a value that does not fit (text that is no
// date in a DATE column, 2 in a BOOLEAN one, a REAL in an INTEGER one) is
// a read error naming the table, the row (its rowid or key) and the
// column, and Read stops before that row, which a later Read then fails
// on again: a row is never skipped. Dates and times are read in the forms
// SQLite's date functions take (a time without a zone is UTC in a
// timestamptz column); a number in a numeric column is its shortest exact
// text.
//
// Each row's Pos is {Name: the table, or "query"; Line: the rowid for a
// table read by rowid, otherwise the row's number in this source's read,
// from 1}. Read returns rows whose Values are new slices (one allocation
// per Read holds them all), which the caller may keep.
//
// RowSource implements weir.Positioner ([RowSource.Position],
// [RowSource.Seek]), except for a query without Key, whose Position and
// Seek fail. Read must be called from one goroutine at a time; LastKey,
// Position and Columns may be called from any goroutine.
type RowSource struct {
	db      *sql.DB
	cfg     RowSourceConfig
	label   string // table name, or "query"
	cols    []connect.Column
	rowid   bool   // a table read in rowid order
	onePass bool   // a query without Key
	first   string // page query without a lower bound
	next    string // page query after a key

	stmtFirst, stmtNext *sql.Stmt
	raw                 []any // the current row's values, then its key's
	dest                []any // pointers to raw, for Scan
	key                 []any // the key of the last row decoded
	line                int64 // rows decoded
	cursor              *sql.Rows
	stopCursor          context.CancelFunc
	cursorErr           error // sticky: a one-pass read that failed cannot go on

	mu      sync.Mutex
	pos     []any
	done    bool
	closed  bool
	started bool // Read was called: Seek is too late
	seeked  bool
}

// NewRowSource returns a source reading through db as cfg says. It runs
// the read's query once with LIMIT 0 to learn the columns and their
// declared types, so a missing table or a bad query fails here; the
// first Read fetches the first page.
func NewRowSource(ctx context.Context, db *sql.DB, cfg RowSourceConfig) (*RowSource, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewRowSource: nil *sql.DB")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &RowSource{db: db, cfg: cfg, label: cfg.Table, pos: slices.Clone(cfg.After)}
	from := quoteTable(cfg.Table)
	if cfg.Query != "" {
		s.label, from = "query", "("+cfg.Query+") AS q"
	}
	var keys []string // the key's raw values, selected after the row's
	order := quoteList(cfg.Key)
	switch {
	case cfg.Query != "" && len(cfg.Key) == 0:
		s.onePass = true
	case len(cfg.Key) == 0:
		s.rowid, keys, order = true, []string{"rowid"}, "rowid"
	default:
		for _, k := range cfg.Key {
			// Unary + drops the declared type, so the driver does not
			// turn a DATE key into a time.Time that would bind back as
			// other text than the stored one.
			keys = append(keys, "+"+quoteIdent(k))
		}
	}
	sel := strings.Join(append([]string{"SELECT *"}, keys...), ", ") + " FROM " + from
	if err := s.learnColumns(ctx, sel+" LIMIT 0"); err != nil {
		return nil, err
	}
	bound := order + " > ?"
	if len(keys) > 1 {
		// A row value compares column by column, as ORDER BY does.
		bound = "(" + order + ") > (" + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + ")"
	}
	s.first = sel + " ORDER BY " + order + " LIMIT ?"
	s.next = sel + " WHERE " + bound + " ORDER BY " + order + " LIMIT ?"
	if s.onePass {
		s.first = cfg.Query
	}
	s.key = make([]any, len(keys))
	return s, nil
}

// learnColumns runs meta, a query returning no row, and sets the columns
// and the scan buffers from it.
func (s *RowSource) learnColumns(ctx context.Context, meta string) error {
	rows, err := s.db.QueryContext(ctx, meta)
	if err != nil {
		if s.rowid {
			err = fmt.Errorf("%w (a table without rowid needs RowSourceConfig.Key)", err)
		}
		return fmt.Errorf("sqlite: read %s: %w", s.label, err)
	}
	types, err := rows.ColumnTypes()
	if err = errors.Join(err, rows.Close()); err != nil {
		return fmt.Errorf("sqlite: read %s: columns: %w", s.label, err)
	}
	nkey := len(s.cfg.Key)
	if s.rowid {
		nkey = 1
	}
	names := make(map[string]bool)
	for _, t := range types[:len(types)-nkey] {
		s.cols = append(s.cols, connect.Column{Name: t.Name(), Type: typeOf(t.DatabaseTypeName())})
		names[t.Name()] = true
	}
	for _, k := range s.cfg.Key {
		if !names[k] {
			return fmt.Errorf("sqlite: read %s: RowSourceConfig.Key column %q is not one of its columns", s.label, k)
		}
	}
	s.raw = make([]any, len(types))
	s.dest = make([]any, len(types))
	for i := range s.raw {
		s.dest[i] = &s.raw[i]
	}
	return nil
}

// Columns returns the columns rows hold, in order, typed from their
// declared types (see [RowSource]). The slice is a copy.
func (s *RowSource) Columns() []connect.Column { return slices.Clone(s.cols) }

// Close releases the prepared statements and a one-pass read's cursor; it
// does not close the *sql.DB. Later Reads return [ErrClosed]. Idempotent;
// must not be called concurrently with Read.
func (s *RowSource) Close(context.Context) error {
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
	if s.cursor != nil {
		errs = append(errs, s.cursor.Close())
		s.stopCursor()
		s.cursor = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close row source %s: %w", s.label, err)
	}
	return nil
}
