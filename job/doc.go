// Package job reads weir job files and turns records into rows with them.
//
// A job file is YAML. It names a source and a target, as `weir copy`
// takes them, and declares one or more target tables: per table its
// columns with their types and expressions, an optional filter, and an
// optional unnest path that makes a child table of a nested array.
// `weir run JOB.yaml` runs one; `weir plan JOB.yaml` checks it against
// the live target; `weir schema` prints [Schema], the JSON Schema of the
// format. docs/JOBS.md describes the format for users; in short:
//
//	source: users.jsonl
//	target: sqlite:weir.db
//	options: {batch: 128, on_error: fail}
//	tables:
//	  - name: users
//	    key: [id]
//	    filter: 'age >= 18'
//	    columns:
//	      id: bigint                 # the field of the same name
//	      display_name: {type: text, expr: 'first_name + " " + last_name'}
//	  - name: attachments
//	    unnest: messages.attachments # one row per attachment of each message
//	    key: [user_id, message_seq, seq]
//	    columns:
//	      user_id: {type: bigint, expr: id}
//	      message_seq: {type: integer, expr: 'ordinals[0]'}
//	      seq: {type: integer, expr: ordinal}
//	      filename: {type: text, expr: item.filename}
//
// examples/users/job.yaml is the reference migration as a job: it makes
// the same 15 tables and values as `weir migrate`.
//
// # Using the package
//
// [Parse] (or [ReadFile]) reads a file and checks all it can without the
// source: YAML syntax, unknown keys (naming the nearest valid one),
// options, type names, expression syntax, unnest paths, duplicate tables
// and columns, key columns. Every error is an [*Error] reading
// "FILE:LINE:COL: message"; several are joined. [Job.Tables] and
// [Job.Columns] give what a target needs to create the tables;
// [Job.Spec] gives the column mapping.
//
// Once the source is open and its columns known, [Job.Compile] compiles
// every expression (github.com/expr-lang/expr) once, so that a misspelt
// field or an expression that does not compile fails before a record is
// read. [Program.Run] then turns each record (a [connect.Row], as weir
// copy's sources yield it) into rows, table by table in file order and,
// inside a table, in document order. A value that does not fit its
// column is a [*RowError] naming the record's position, the table and
// the column.
//
// # Expressions
//
// An expression sees the record's fields by name: text as string,
// numbers as int (integers that fit) or float64, booleans, times, and
// JSON fields (nested objects and arrays) as maps and slices, decoded
// only when an expression reads them. In a table with unnest it also
// sees item (the current element), parent (the object holding the
// innermost array; null when the array is a top-level field), ordinal
// (the element's position from 0) and ordinals (the positions in every
// array the path went through, outermost first); these shadow fields of
// the same names.
//
// An expression that is a name followed by .keys and [indexes] (id,
// item.filename, ordinals[0]) is read directly, without the expression
// VM, with the VM's semantics (a missing key is null; a key of null is an
// error; a negative index counts from the end) and two differences that
// keep data exact: a number keeps its text (12.50 stays 12.50 in a
// numeric column) and an object or array keeps its JSON text, key order
// included. This is most of a job's work, and it allocates nothing; the
// VM, which costs some hundreds of nanoseconds per expression, runs only
// the rest.
//
// # Types
//
// Values are converted to the declared types exactly, never coerced: a
// number goes into an integer column only if it is an integer in range,
// text into a timestamptz only if it is RFC 3339, and so on; anything
// goes into text and json. Times keep microseconds, as the target
// databases do. See docs/JOBS.md for the table.
package job
