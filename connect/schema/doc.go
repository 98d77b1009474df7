// Package schema decides the column types of a table that `weir copy`
// creates, and turns each row a source reads into values of the target's
// column types, strictly: a value that does not fit is an error naming the
// line and the column, never cut short or bent into another value.
//
// [Infer] picks each column's type from a sample of rows; [NewConverter]
// matches a source's columns with a target's by name; [Converter.Convert]
// converts each row, and [Convert] one value.
//
// # Inferring types
//
// Infer gives each column the narrowest type that every non-NULL sample
// value fits. Text (a CSV field, a JSON string) is read for what it holds:
//
//	value in the sample                         type
//	true, false (any case)                      boolean
//	  t, f, yes, no, 0, 1                         not booleans: text, or integer for 0 and 1
//	-12, 0, 2147483647 (fits 32 bits)           integer
//	3000000000 (up to 18 digits)                bigint
//	1234567890123456789 (19 digits or more)     numeric
//	12.50, -0.5 (a point, digits on each side)  numeric: exact, scale kept
//	1e3, 6.02E23 (an exponent)                  double
//	1e400 (an exponent beyond a double)         numeric
//	007, -0123, 00.5 (a leading zero)           text: a code (zip, phone), not a number
//	+44, .5, 5., 1_000, 0x1F, " 12", NaN        text
//	2024-02-29 (YYYY-MM-DD only)                date
//	2024-02-29 13:04, 2024-02-29T13:04:05.25    timestamp
//	the same with Z, +01:00, -0500 or +02       timestamptz
//	  more than 6 fraction digits, not zeros    text: a timestamp holds microseconds
//	{"a":1}, [1,2] (JSON object or array)       json
//	anything else, "" included                  text
//
// A JSON number is read like text that holds one. Typed values (a SQL
// source's) keep their type, except that a numeric is read like a JSON
// number; a source that knows its column types should use them rather than
// Infer. A column whose values have several kinds gets the narrowest type
// that holds all of them exactly:
//
//	kinds in the column                         type
//	only NULLs, or no rows                      text
//	integer and bigint                          bigint
//	integers and numerics                       numeric
//	only exponents, or a double value           double (a bigint value must be exact in a double)
//	exponents with integers or numerics         numeric (every value exact)
//	date and timestamp                          timestamp (a date is midnight)
//	timestamp and timestamptz                   timestamptz (no offset reads as UTC)
//	an object or array, the rest JSON text      json ("12", true, "\"x\"" are JSON)
//	  and a value that is not JSON text           text ("abc" from a JSON string)
//	boolean and a number, or any other mix      text
//
// # Converting values
//
// Convert reads text by the target type's syntax, which accepts a little
// more than Infer looks for, so that a declared column reads what a user
// expects; it never trims spaces:
//
//	type         text it reads
//	boolean      true, false, t, f (any case; PostgreSQL writes t and f)
//	integer      [+-]digits in 32 bits: "007" is 7, "12.5" is an error, not 12
//	bigint       [+-]digits in 64 bits
//	double       decimal, with or without exponent, NaN, Infinity, Inf; an
//	             error beyond a double ("1e400") or when it would read as 0 ("1e-400")
//	numeric      decimal, written without exponent and leading zeros ("1e3" is 1000,
//	             "007.50" is 7.50, ".5" is 0.5); at most 131072 digits before the
//	             point and 16383 after, PostgreSQL's limits
//	date         YYYY-MM-DD, a real day of the years 1 to 9999
//	timestamp    a date, or a date and time as Infer reads it; an offset gives UTC
//	timestamptz  the same; no offset reads as UTC
//	json         valid JSON, kept as written
//	bytes        base64, or PostgreSQL's hex form \x0aff
//	text         anything, no length limit
//
// Typed values convert when nothing is lost:
//
//	from                to
//	any                 text: its text form (JSON stays JSON text; true and false)
//	integer, bigint     integer if it fits; bigint; numeric; double if exact
//	double              integer, bigint if a whole number that fits; numeric as its
//	                    shortest decimal (not NaN or Infinity)
//	numeric             integer, bigint if a whole number that fits; double (nearest)
//	timestamptz         timestamp: its UTC wall clock
//	timestamp           timestamptz: its wall clock read as UTC
//	date                timestamp, timestamptz: midnight (UTC)
//	timestamp(tz)       date, if midnight
//	any but json        json: a boolean or number as its literal, others as a JSON string
//	other pairs         an error ("no conversion from boolean")
//
// NULL converts to NULL in every type; an empty text ("") is no NULL, and
// is an error in every type but text and bytes (no bytes), as in
// PostgreSQL.
package schema
