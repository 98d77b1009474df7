// Package mysql reads a whole MySQL or MariaDB database for weir copy: it
// implements [catalog.Source], describing every base table (columns with
// their PostgreSQL types, primary key, unique and secondary indexes,
// foreign keys with their actions, AUTO_INCREMENT as identity) and reading
// the rows of a table, split into ranges of its primary key, as
// [connect.Row]s.
//
//	src, err := mysql.Open(ctx, "mysql://app:secret@db.example.org:3306/shop")
//	if err != nil { ... }
//	defer src.Close()
//	tables, err := src.Tables(ctx)              // referenced tables first
//	ranges, err := src.Ranges(ctx, tables[0], 4) // by primary key value
//	rd, err := src.Open(ctx, tables[0], ranges[0])
//	n, err := rd.Read(ctx, buf)                  // io.EOF at the end
//
// The type mapping is a table in docs/MYSQL.md. In short: integers to the
// smallest PostgreSQL integer that holds every value (BIGINT UNSIGNED to
// numeric(20,0)), TINYINT(1) to boolean, DECIMAL to numeric, FLOAT to real,
// DOUBLE to double precision, strings to varchar/text, binary strings to
// bytea, DATE/DATETIME/TIMESTAMP to date/timestamp/timestamptz (zero dates
// become NULL, counted in [Source.Notes]), TIME to interval, YEAR to
// smallint, BIT(n) to bit(n), ENUM to text with a CHECK, SET to text, JSON
// (MariaDB's LONGTEXT CHECK (json_valid(...)) too) to jsonb. Generated
// columns are copied as plain columns holding their values.
//
// Each connection's session runs in UTC (time_zone '+00:00'), so TIMESTAMP
// values are read as the instants they are, and with an empty sql_mode.
// Values are read through the text protocol straight from the driver's
// buffers (database/sql/driver, no Scan), one connection per reader.
package mysql
