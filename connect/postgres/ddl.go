package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/weir-etl/weir/connect"
)

// sqlTypes is the PostgreSQL type CreateTableSQL gives each connect.Type.
var sqlTypes = map[connect.Type]string{
	connect.TypeText:        "text",
	connect.TypeBool:        "boolean",
	connect.TypeInt32:       "integer",
	connect.TypeInt64:       "bigint",
	connect.TypeFloat64:     "double precision",
	connect.TypeNumeric:     "numeric",
	connect.TypeDate:        "date",
	connect.TypeTimestamp:   "timestamp",
	connect.TypeTimestampTZ: "timestamptz",
	connect.TypeJSON:        "jsonb",
	connect.TypeBytes:       "bytea",
}

// CreateTableSQL returns the CREATE TABLE statement for a table name
// (optionally schema.table; each part is quoted, so names are
// case-sensitive) with the columns cols, and PRIMARY KEY (key) when key is
// not empty. Types map as docs/JOBS.md lists: text, boolean, integer,
// bigint, double precision, numeric, date, timestamp, timestamptz, jsonb,
// bytea. It does not check its arguments; [CreateTable] does.
func CreateTableSQL(name string, cols []connect.Column, key []string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + pgx.Identifier(strings.Split(name, ".")).Sanitize() + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(",")
		}
		typ, ok := sqlTypes[c.Type]
		if !ok {
			typ = "text"
		}
		b.WriteString("\n\t" + pgx.Identifier{c.Name}.Sanitize() + " " + typ)
	}
	if len(key) > 0 {
		b.WriteString(",\n\tPRIMARY KEY (" + quoteList(key) + ")")
	}
	b.WriteString("\n)")
	return b.String()
}

// CreateTable creates the table [CreateTableSQL] describes, blocking until
// the server is done. It returns an error naming the argument if name is
// empty, cols is empty or names a column twice or with an empty name, a
// column has a type weir does not know, or key names a column not in
// cols; and the server's error (a table that exists, a missing schema)
// with its detail.
func CreateTable(ctx context.Context, db DB, name string, cols []connect.Column, key []string) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("postgres: CreateTable: "+format, args...))
	}
	if db == nil {
		bad("nil DB")
	}
	if name == "" || slices.Contains(strings.Split(name, "."), "") {
		bad("table name %q is empty or has an empty part (write schema.table)", name)
	}
	if len(cols) == 0 {
		bad("no columns")
	}
	seen := map[string]bool{}
	for i, c := range cols {
		switch {
		case c.Name == "":
			bad("column %d has no name", i)
		case seen[c.Name]:
			bad("column %q is listed twice", c.Name)
		}
		if _, ok := sqlTypes[c.Type]; !ok {
			bad("column %q has unknown type %v", c.Name, c.Type)
		}
		seen[c.Name] = true
	}
	for _, k := range key {
		if !seen[k] {
			bad("key column %q is not among the columns", k)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, CreateTableSQL(name, cols, key)); err != nil {
		return fmt.Errorf("postgres: create table %s: %w", name, detailed(err))
	}
	return nil
}

// TableColumns returns the columns of the table (or view) name, optionally
// schema.table (each part quoted, as SQL sees it, and found by the search
// path when unqualified), in table order, each with the connect.Type its
// PostgreSQL type reads as: integer and smallint as TypeInt32, real and
// double precision as TypeFloat64, char, varchar, citext and uuid as
// TypeText, json and jsonb as TypeJSON, a domain as its base type, and a
// type weir has no type for (inet, an enum, an array, ...) as TypeText,
// loaded through its text form. exists is false, with no error, when
// there is no such table. It blocks for two queries.
func TableColumns(ctx context.Context, db DB, name string) (cols []connect.Column, exists bool, err error) {
	if db == nil {
		return nil, false, errors.New("postgres: TableColumns: nil DB")
	}
	if name == "" || slices.Contains(strings.Split(name, "."), "") {
		return nil, false, fmt.Errorf("postgres: TableColumns: table name %q is empty or has an empty part (write schema.table)", name)
	}
	ident := pgx.Identifier(strings.Split(name, "."))
	rows, err := db.Query(ctx, `SELECT to_regclass($1) IS NOT NULL`, ident.Sanitize())
	if err == nil {
		exists, err = pgx.CollectExactlyOneRow(rows, pgx.RowTo[bool])
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: columns of %s: %w", name, detailed(err))
	}
	if !exists {
		return nil, false, nil
	}
	all, err := readColumns(ctx, db, ident)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: columns of %s: %w", name, err)
	}
	cols = make([]connect.Column, len(all))
	for i, c := range all {
		cols[i] = connect.Column{Name: c.name, Type: c.kind.connectType()}
	}
	return cols, true, nil
}
