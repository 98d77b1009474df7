package job

import (
	"fmt"
	"slices"

	"github.com/weir-etl/weir/connect"
)

// Job is a parsed job file: where records come from, where rows go, and
// how each record becomes rows of the target tables. [Parse] makes one;
// it is read-only afterwards and safe for concurrent use.
type Job struct {
	// File is the path the job was read from, as given to Parse; errors
	// name it.
	File string
	// Source is what `weir copy` takes as SOURCE (a file, a glob, a
	// database URL); the CLI's --from overrides it. It may be empty.
	Source string
	// Target is what `weir copy` takes as TARGET, without a table: the
	// tables are the job's. The CLI's --to overrides it. It may be empty.
	Target string
	// Options are the run's settings, defaults filled in.
	Options Options

	tables []TableSpec
	pos    positions // where each node was in the file, for errors
}

// Options are a job's run settings: the options: mapping of the file.
// Parse fills in the defaults stated on each field.
type Options struct {
	// Batch is the number of records per batch; 0 means weir's default (128).
	Batch int `yaml:"batch" json:"batch"`
	// Workers is the number of batches evaluated at once; 0 means one per CPU.
	Workers int `yaml:"workers" json:"workers"`
	// LoadConcurrency is the number of batches loaded at once; 0 means one
	// per worker (SQLite and files take one at a time).
	LoadConcurrency int `yaml:"load_concurrency" json:"load_concurrency"`
	// OnError says what a record that cannot be read, evaluated, converted
	// or loaded does: "fail" (the default) stops the run, "skip" writes it
	// to Reject and goes on.
	OnError string `yaml:"on_error" json:"on_error"`
	// Reject is the JSON Lines file for records skipped under on_error:
	// skip; empty means the CLI's default (the target's name +
	// .rejects.jsonl).
	Reject string `yaml:"reject" json:"reject"`
	// MaxErrors, with on_error: skip, stops the run once more than this
	// many records were rejected; 0 means no limit.
	MaxErrors int64 `yaml:"max_errors" json:"max_errors"`
	// Sample is the number of records read ahead to learn the source's
	// columns; 0 means 1000.
	Sample int `yaml:"sample" json:"sample"`
	// IfExists says what happens when a target table already holds rows:
	// "fail" (the default), "append", "truncate" or "replace", as in
	// weir copy.
	IfExists string `yaml:"if_exists" json:"if_exists"`
}

// The values Options.OnError and Options.IfExists accept, the default first.
var (
	onErrorModes  = []string{"fail", "skip"}
	ifExistsModes = []string{"fail", "append", "truncate", "replace"}
)

// TableSpec is one target table of a job, as the file declares it.
type TableSpec struct {
	// Name is the target table's name.
	Name string
	// Key lists the key columns (primary key and upsert key); may be empty.
	Key []string
	// Filter is an expression that must be true for a row to be made; a
	// row for which it is false is counted as filtered. Empty: no filter.
	Filter string
	// Unnest is a dotted path to an array (through arrays and objects):
	// one row per element of the innermost array. Empty: one row per record.
	Unnest string
	// Columns are the table's columns in file order.
	Columns []ColumnSpec
}

// ColumnSpec is one column of a [TableSpec].
type ColumnSpec struct {
	// Name is the column's name.
	Name string
	// Type is its declared type; values are converted to it exactly.
	Type connect.Type
	// Expr is the expression giving its value. When the file gives only a
	// type, it is the column's own name: the source field of that name.
	Expr string
}

// Tables returns the job's target tables in file order (the order rows
// are loaded in, so list parents before children), with their column
// names and keys. It returns a new slice.
func (j *Job) Tables() []connect.Table {
	out := make([]connect.Table, len(j.tables))
	for i, t := range j.tables {
		cols := make([]string, len(t.Columns))
		for k, c := range t.Columns {
			cols[k] = c.Name
		}
		out[i] = connect.Table{Name: t.Name, Columns: cols, Key: slices.Clone(t.Key)}
	}
	return out
}

// Columns returns the columns of table i, in [Job.Tables] order, with
// their types: what a target needs to create the table. It returns a new
// slice.
func (j *Job) Columns(i int) []connect.Column {
	t := j.tables[i]
	out := make([]connect.Column, len(t.Columns))
	for k, c := range t.Columns {
		out[k] = connect.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// Spec returns table i as the file declares it, with every column's
// expression spelled out: what `weir plan` prints as the column mapping.
// It returns a copy.
func (j *Job) Spec(i int) TableSpec {
	t := j.tables[i]
	t.Key = slices.Clone(t.Key)
	t.Columns = slices.Clone(t.Columns)
	return t
}

// Error is a mistake in a job file, at a line and column of it. Parse and
// Compile return them, joined with errors.Join when there are several.
type Error struct {
	File         string
	Line, Column int // from 1; 0 when the mistake has no place (an empty file)
	Msg          string
}

// Error returns "FILE:LINE:COL: message".
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// RowError is a record that a job could not turn into rows: an
// expression that failed on it, or a value that does not fit its column's
// type. Run returns it; on_error: skip rejects the record with it.
type RowError struct {
	// Pos is the record's place in the source.
	Pos connect.Pos
	// Table is the target table's name.
	Table string
	// Column is the column's name; empty for the table's filter or unnest.
	Column string
	// Err is what went wrong.
	Err error
}

// Error returns "users.jsonl:12: table users, column age: ...".
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: table %s: %v", e.Pos, e.Table, e.Err)
	}
	return fmt.Sprintf("%s: table %s, column %s: %v", e.Pos, e.Table, e.Column, e.Err)
}

// Unwrap returns Err.
func (e *RowError) Unwrap() error { return e.Err }
