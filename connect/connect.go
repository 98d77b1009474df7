// Package connect holds what weir's connectors share: the description of a
// destination table and the way a composite record is split into rows of
// several tables. It imports no database driver; each connector lives in its
// own package below this one (connect/postgres, connect/sqlite,
// connect/file), so a program pulls in only the drivers it uses.
package connect

// Table is a destination table: its name and its columns in the order a
// row's values are given.
type Table struct {
	Name    string
	Columns []string
	// Key lists the columns of the primary or unique key, used by upsert
	// sinks for ON CONFLICT and by sources for keyset pagination. Optional
	// for plain inserts.
	Key []string
}

// RowWriter receives the rows that one record expands into.
type RowWriter interface {
	// Row adds one row to the table at index table of [Splitter.Tables].
	// values are in that table's Columns order; Row copies them, so the
	// caller may reuse its slice.
	Row(table int, values ...any)
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
