package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// declTypes are the declared types [CreateTableSQL] gives each
// [connect.Type]. Each reads back, through typeOf, as the type it was made
// for, and has the SQLite affinity that keeps the [RowSink]'s values as
// they were bound:
//
//	text         TEXT          TEXT affinity
//	boolean      BOOLEAN       NUMERIC affinity; holds INTEGER 0 or 1
//	integer      INT4          INTEGER affinity (SQLite integers are 64-bit;
//	                           the name only says that values fit in 32)
//	bigint       INTEGER       INTEGER affinity; a single-column INTEGER key
//	                           is the table's rowid
//	double       REAL          REAL affinity
//	numeric      NUMERIC_TEXT  TEXT affinity: NUMERIC affinity would turn
//	                           '12.50' into the REAL 12.5 (and a 20-digit
//	                           value into a rounded one); TEXT keeps it exact
//	date         DATE          NUMERIC affinity; 'YYYY-MM-DD' stays TEXT
//	timestamp    TIMESTAMP     NUMERIC affinity; the text stays TEXT
//	timestamptz  TIMESTAMPTZ   NUMERIC affinity; the text stays TEXT
//	json         JSON_TEXT     TEXT affinity: under NUMERIC affinity the
//	                           JSON number 1.50 would become the REAL 1.5
//	bytes        BLOB          BLOB affinity
var declTypes = [...]string{
	connect.TypeText:        "TEXT",
	connect.TypeBool:        "BOOLEAN",
	connect.TypeInt32:       "INT4",
	connect.TypeInt64:       "INTEGER",
	connect.TypeFloat64:     "REAL",
	connect.TypeNumeric:     "NUMERIC_TEXT",
	connect.TypeDate:        "DATE",
	connect.TypeTimestamp:   "TIMESTAMP",
	connect.TypeTimestampTZ: "TIMESTAMPTZ",
	connect.TypeJSON:        "JSON_TEXT",
	connect.TypeBytes:       "BLOB",
}

// declType returns the declared type of a column of type t, or "" if t is
// not a [connect.Type].
func declType(t connect.Type) string {
	if int(t) < len(declTypes) {
		return declTypes[t]
	}
	return ""
}

// typeOf returns the [connect.Type] of a column declared decl, as a
// [RowSource] reads it. It follows SQLite's affinity rules
// (https://sqlite.org/datatype3.html#determination_of_column_affinity),
// case-insensitively and in this order:
//
//	INT4 exactly                      integer (int32)
//	contains INT                      bigint (BIGINT, SMALLINT, "POINT" too, as in SQLite)
//	contains REAL, FLOA or DOUB       double
//	contains NUMERIC or DECIMAL       numeric
//	contains BOOL                     boolean
//	contains TIMESTAMPTZ, or
//	  TIMESTAMP and WITH TIME ZONE    timestamptz
//	contains DATETIME or TIMESTAMP    timestamp
//	contains DATE                     date
//	contains JSON                     json
//	contains BLOB                     bytes
//	anything else, or no type         text
func typeOf(decl string) connect.Type {
	d := strings.ToUpper(strings.TrimSpace(decl))
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(d, s) {
				return true
			}
		}
		return false
	}
	switch {
	case d == "INT4":
		return connect.TypeInt32
	case has("INT"):
		return connect.TypeInt64
	case has("REAL", "FLOA", "DOUB"):
		return connect.TypeFloat64
	case has("NUMERIC", "DECIMAL"):
		return connect.TypeNumeric
	case has("BOOL"):
		return connect.TypeBool
	case has("TIMESTAMPTZ"), has("TIMESTAMP") && has("WITH TIME ZONE"):
		return connect.TypeTimestampTZ
	case has("DATETIME", "TIMESTAMP"):
		return connect.TypeTimestamp
	case has("DATE"):
		return connect.TypeDate
	case has("JSON"):
		return connect.TypeJSON
	case has("BLOB"):
		return connect.TypeBytes
	}
	return connect.TypeText
}

// validateColumns checks the arguments of [CreateTableSQL].
func validateColumns(name string, cols []connect.Column, key []string) error {
	var errs []error
	if strings.TrimSpace(name) == "" {
		errs = append(errs, errors.New("sqlite: create table: empty table name"))
	}
	if len(cols) == 0 {
		errs = append(errs, fmt.Errorf("sqlite: create table %s: no columns", name))
	}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		switch {
		case c.Name == "":
			errs = append(errs, fmt.Errorf("sqlite: create table %s: column %d has an empty name", name, i))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("sqlite: create table %s: column %q appears twice", name, c.Name))
		}
		seen[c.Name] = true
		if declType(c.Type) == "" {
			errs = append(errs, fmt.Errorf("sqlite: create table %s: column %q has no such type %v", name, c.Name, c.Type))
		}
	}
	for _, k := range key {
		if !seen[k] {
			errs = append(errs, fmt.Errorf("sqlite: create table %s: key column %q is not a column", name, k))
		}
	}
	return errors.Join(errs...)
}

// CreateTableSQL returns the statement that creates table name with cols,
// in order, and a PRIMARY KEY of the key columns (none if key is empty):
//
//	CREATE TABLE "t" ("id" INTEGER NOT NULL, "price" NUMERIC_TEXT, PRIMARY KEY ("id"))
//
// Names are quoted (a dotted name is schema.table). Key columns are NOT
// NULL, which SQLite does not imply. Each column's declared type has the
// SQLite affinity that keeps what a [RowSink] binds as it was bound, and
// reads back, in a [RowSource], as the column's type:
//
//	text TEXT, boolean BOOLEAN, integer INT4, bigint INTEGER, double REAL,
//	numeric NUMERIC_TEXT, date DATE, timestamp TIMESTAMP,
//	timestamptz TIMESTAMPTZ, json JSON_TEXT, bytes BLOB
//
// Numeric and JSON columns get TEXT affinity, as their names say: under
// NUMERIC affinity SQLite would store '12.50' as the REAL 12.5, and round
// a value of more than 15 digits. A single-column INTEGER key is the
// table's rowid. CreateTableSQL does not check its arguments;
// [CreateTable] does.
func CreateTableSQL(name string, cols []connect.Column, key []string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(quoteTable(name))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
		if d := declType(c.Type); d != "" {
			b.WriteByte(' ')
			b.WriteString(d)
		}
		for _, k := range key {
			if k == c.Name {
				b.WriteString(" NOT NULL")
				break
			}
		}
	}
	if len(key) > 0 {
		b.WriteString(", PRIMARY KEY (")
		b.WriteString(quoteList(key))
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}

// CreateTable creates table name as [CreateTableSQL] writes it. It fails
// if the table exists, or if the arguments cannot make a table (no
// columns, a name twice, a key column that is not a column), naming every
// problem. Blocks until done or ctx is cancelled.
func CreateTable(ctx context.Context, db *sql.DB, name string, cols []connect.Column, key []string) error {
	if err := validateColumns(name, cols, key); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, CreateTableSQL(name, cols, key)); err != nil {
		return fmt.Errorf("sqlite: create table %s: %w", name, err)
	}
	return nil
}

// TableColumns returns the columns of table name (a dotted name is
// schema.table), in table order, each typed by the type [RowSource] gives it from its declared
// type; exists is false, with no error, when there is no such table or
// view. Blocks on one query.
func TableColumns(ctx context.Context, db *sql.DB, name string) (cols []connect.Column, exists bool, err error) {
	// Without a schema, SQLite looks in temp, then main, then attached
	// databases, as a query naming the table would.
	query, args := "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", []any{name}
	if schema, table, ok := strings.Cut(name, "."); ok {
		query, args = "SELECT name, type FROM pragma_table_info(?, ?) ORDER BY cid", []any{table, schema}
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: columns of %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var col, decl string
		if err := rows.Scan(&col, &decl); err != nil {
			return nil, false, fmt.Errorf("sqlite: columns of %s: %w", name, err)
		}
		cols = append(cols, connect.Column{Name: col, Type: typeOf(decl)})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, false, fmt.Errorf("sqlite: columns of %s: %w", name, err)
	}
	return cols, len(cols) > 0, nil
}
