// Package connect holds what weir's connectors share: the description of a
// destination table, the way a composite record is split into rows of
// several tables, and the [Conflict] option of SQL sinks. It imports no
// database driver; each connector lives in its own package below this one
// (connect/postgres, connect/sqlite, connect/mongo, connect/file), so a
// program pulls in only the drivers it uses.
//
// Every connector has the same shape, described here once. A new connector
// (MySQL, Parquet) copies it, so that a user who knows one knows them all.
//
// # Names
//
// A package is named after what it connects to, and its types do not
// repeat that name (postgres.Sink, not postgres.PostgresSink). For each kind
// it offers:
//
//	Source[E]      SourceConfig[E]      NewSource(db, cfg)         reads records of type E
//	Sink[T]        SinkConfig[T]        NewSink(db, cfg)           loads one table
//	MultiSink[T]   MultiSinkConfig[T]   NewMultiSink(db, cfg)      loads the tables of a Splitter
//	CheckpointStore                     NewCheckpointStore(...)    keeps weir's checkpoints
//	Exec(ctx, db, script)                                          runs a DDL script (SQL connectors)
//	ErrClosed                                                      a Read or Write after Close
//
// A package holding several formats prefixes the names with the format:
// file.CSVSource, file.CSVSourceConfig, file.NewCSVSource, file.CSVSink,
// file.CSVSinkConfig; file.JSONLSource, file.JSONLSourceConfig, and so on,
// with Open* and Create* for a path (file.OpenCSV, file.CreateJSONL).
//
// # Config, Validate, New
//
// A connector takes a plain Config struct, not options. Its zero fields
// take defaults that the field's doc states and that are set in one place.
// Config.Validate() returns every impossible value at once (errors.Join),
// each error naming the package, the config and the field:
//
//	postgres: SinkConfig.Table.Name is empty
//
// The constructor takes what it works through first (a pool, a *sql.DB, an
// io.Reader; a context when it dials, as mongo.NewSource does) and the
// config last, calls Validate, and returns (*T, error). It does not contact
// the server unless its doc says so; a missing table shows up at the first
// Write. A config whose records have a type carries it (SourceConfig[E]),
// so that the constructor infers it.
//
// # Conflicts
//
// Every SQL sink config, for one table or several, has a field
//
//	OnConflict connect.Conflict
//
// with the values [ConflictError] (the zero value), [ConflictIgnore] and
// [ConflictUpdate], meaning the same thing in every database. A value a
// sink cannot do is a Validate error naming the field (ConflictUpdate with
// an empty Table.Key, say).
//
// # Sinks
//
// A sink's Write takes one batch and blocks until it is written; it is
// safe for concurrent use (a database with one writer serialises the
// calls) and keeps nothing of the batch after it returns. A SQL sink writes
// each batch in one transaction, so the batch lands whole or not at all,
// and has
//
//	Rows() int64               // Sink: rows committed so far
//
// A MultiSink loads the tables of a [Splitter] in their order, every table
// of a batch in one transaction, and has
//
//	Tables() []connect.Table   // the Splitter's tables, in load order
//	Rows() map[string]int64    // rows committed so far, per table name
//
// In both, rows skipped by ConflictIgnore are not counted.
//
// # Sources
//
// A source's Read is for one goroutine at a time, as weir's engine calls
// it. Every source that can resume implements weir.Positioner: Position
// returns the position after the last record returned as a small JSON
// document, and Seek, called at most once and before the first Read, starts
// there. A keyset source (one that reads in key order: postgres, sqlite,
// mongo) also has
//
//	LastKey() []any            // the last record's key, in key-column order
//
// and takes SourceConfig.After []any, so that After: old.LastKey() resumes
// after the records an earlier source returned. Both are nil before the
// first record of a read from the start. A single-column key is a slice of
// one value.
//
// # Close
//
// A source or sink implements weir.Closer only if it holds something to
// release: prepared statements, a file it opened, a client it created.
// Close is idempotent; a sink's Close waits for a Write in progress, a
// source's must not run concurrently with Read. Close never closes a handle
// the caller passed in (the pool, the *sql.DB, the io.Writer, the
// *mongo.Client), which the caller keeps owning. A Read or Write after
// Close returns the package's ErrClosed. A connector that holds nothing
// (the PostgreSQL source and sinks borrow a pool connection per call) has
// no Close and no ErrClosed.
//
// # Checkpoints
//
// CheckpointStore implements weir.CheckpointStore, keeping each job's
// position where the connector keeps data: a table weir_checkpoints in the
// database (created by NewCheckpointStore), or a JSON file. Each Save is
// atomic. A sink that can save the position in the batch's own transaction
// also implements weir.CheckpointSink (postgres.MultiSink does).
//
// # Tests
//
// The contract above is executable: package connect/conntest checks a
// source, a sink, a checkpoint store, a checkpoint sink and a config's
// Validate, one call each (conntest.Source, conntest.Sink, ...). Every
// connector here runs it in its conntest_test.go; a new connector's tests
// start there.
package connect

import "fmt"

// Table is a destination table: its name and its columns in the order a
// row's values are given.
type Table struct {
	Name    string
	Columns []string
	// Key lists the columns of the primary or unique key, used by sinks
	// for ON CONFLICT (see [Conflict]) and by sources for keyset
	// pagination. Optional for plain inserts.
	Key []string
}

// Conflict says what a SQL sink does with a row whose key already exists
// in its table. It is the OnConflict field of every SQL sink's config.
type Conflict uint8

const (
	// ConflictError, the zero value, inserts plainly: a row whose key
	// already exists fails its batch, which then loads nothing. It is the
	// fastest way in (PostgreSQL COPYs straight into the table), but a
	// batch loaded twice fails the second time.
	ConflictError Conflict = iota
	// ConflictIgnore keeps the existing row and drops the new one: ON
	// CONFLICT (Table.Key) DO NOTHING, or, with an empty Key, DO NOTHING on
	// any unique constraint. Loading the same records again adds nothing
	// and fails nothing. When one batch holds the same key twice, the
	// earlier record wins.
	ConflictIgnore
	// ConflictUpdate replaces the existing row: ON CONFLICT (Table.Key) DO
	// UPDATE SET every column not in Key to the new value (column =
	// excluded.column). Table.Key is required. When one batch holds the
	// same key twice, the later record wins. A table whose columns are all
	// in Key has nothing to update: the row is kept, as with
	// ConflictIgnore.
	ConflictUpdate
)

// String returns the constant's name, or "Conflict(n)" for a value that is
// none of them.
func (c Conflict) String() string {
	switch c {
	case ConflictError:
		return "ConflictError"
	case ConflictIgnore:
		return "ConflictIgnore"
	case ConflictUpdate:
		return "ConflictUpdate"
	}
	return fmt.Sprintf("Conflict(%d)", uint8(c))
}

// RowWriter receives the rows that one record expands into.
type RowWriter interface {
	// Row adds one row to the table at index table of [Splitter.Tables].
	// values are in that table's Columns order; Row copies them, so the
	// caller may reuse its slice. Values are typed and unboxed (see
	// [Value]): a sink encodes them without an allocation per value.
	Row(table int, values ...Value)
}

// Splitter expands one composite record into rows of several tables, for
// multi-table sinks.
type Splitter[T any] interface {
	// Tables returns the destination tables in foreign-key order: a table
	// comes after every table it references. Sinks insert in this order.
	Tables() []Table
	// Split writes rec's rows to w. An error fails the batch.
	Split(rec T, w RowWriter) error
}
