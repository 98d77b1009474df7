package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/schema"
)

// copyPlan is what a copy will do, decided before anything is written.
type copyPlan struct {
	cols     []connect.Column // the target's columns, in the order rows are loaded
	conv     *schema.Converter
	conflict connect.Conflict
	// what apply does to the target first
	drop, create, empty bool
	created             bool // apply created the table
	key                 []string
	resumable           bool // --resume can continue this copy
	exactlyOnce         bool // --resume loads each batch with its checkpoint
	checkpointed        bool // the run saves positions that --resume can continue from
	rowsBefore          int64
}

// schemaFile is the YAML file --schema reads.
type schemaFile struct {
	Columns []struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
	} `yaml:"columns"`
	Key []string `yaml:"key"`
}

// planCopy decides the target's columns and what to do with an existing
// table, and checks everything it can before a row moves: a missing
// column, a key that is not a column, a table that already holds rows.
// Every error is a usage error; the target is untouched.
func planCopy(ctx context.Context, src *copySource, tgt *copyTarget, f copyFlags) (*copyPlan, error) {
	p := &copyPlan{key: f.key}
	cols, key, err := sourceColumns(src, f)
	if err != nil {
		return nil, err
	}
	if len(p.key) == 0 {
		p.key = key // --key wins over the schema file's
	}
	existing, exists, err := tgt.columns(ctx, tgt.table)
	if err != nil {
		return nil, usagef("look up %s: %w", tgt, err)
	}
	if exists && !tgt.isFile {
		if p.rowsBefore, err = tgt.count(ctx, tgt.table); err != nil {
			return nil, usagef("count the rows of %s: %w", tgt, err)
		}
	}
	switch {
	case !exists:
		p.create = true
	case f.ifExists == "replace":
		p.drop, p.create = true, true
	case tgt.isFile && f.ifExists == "fail":
		return nil, usagef("%s exists: pass --if-exists replace to overwrite it", tgt)
	case tgt.isFile && f.ifExists == "append":
		return nil, usagef("%s exists: a file target cannot be appended to; pass --if-exists replace to overwrite it", tgt)
	case tgt.isFile:
		p.empty = true
	case f.ifExists == "truncate":
		p.empty = true
	case p.rowsBefore > 0 && f.ifExists == "fail" && !f.resume:
		return nil, usagef("%s already holds %d rows: pass --if-exists append to add to them, truncate to empty the table first or replace to recreate it (or --resume to continue an interrupted copy)", tgt, p.rowsBefore)
	}
	if !p.create && !tgt.isFile {
		cols = existing // an existing table is loaded as it is
	}
	for _, k := range p.key {
		if !slices.ContainsFunc(cols, func(c connect.Column) bool { return c.Name == k }) {
			return nil, usagef("--key %s: %s has no column %q (columns: %s)", strings.Join(p.key, ","), tgt, k, strings.Join(columnNames(cols), ", "))
		}
	}
	inSrc, inTgt := schema.Match(src.names, cols)
	if len(inSrc)+len(inTgt) > 0 {
		var why []string
		if len(inSrc) > 0 {
			why = append(why, fmt.Sprintf("the source has no column %s", quoteAll(inSrc)))
		}
		if len(inTgt) > 0 {
			why = append(why, fmt.Sprintf("%s has no column %s", tgt, quoteAll(inTgt)))
		}
		return nil, usagef("the columns do not match: %s (source columns: %s)", strings.Join(why, "; and "), strings.Join(src.names, ", "))
	}
	if p.conv, err = schema.NewConverter(src.names, cols); err != nil {
		return nil, usagef("%w", err)
	}
	p.cols = cols
	if len(p.key) > 0 {
		p.conflict = connect.ConflictUpdate
	}
	p.resumable = !tgt.isFile && (len(p.key) > 0 || tgt.retryable != nil)
	return p, nil
}

// sourceColumns returns the columns a new table would get — the --schema
// file's, the source's own types, or types inferred from its sample — and
// the schema file's key.
func sourceColumns(src *copySource, f copyFlags) ([]connect.Column, []string, error) {
	if f.schemaFile != "" {
		var sf schemaFile
		data, err := readYAML(f.schemaFile, &sf, []string{"columns", "key", "name", "type"})
		if err != nil {
			return nil, nil, usagef("--schema %w", err)
		}
		if len(sf.Columns) == 0 {
			return nil, nil, usagef("--schema %s: no columns", f.schemaFile)
		}
		cols := make([]connect.Column, len(sf.Columns))
		for i, c := range sf.Columns {
			if c.Name == "" {
				return nil, nil, usagef("--schema %s: column %d has no name", yamlAt(f.schemaFile, data, fmt.Sprintf("$.columns[%d]", i)), i+1)
			}
			t, err := connect.ParseType(c.Type)
			if err != nil {
				return nil, nil, usagef("--schema %s: column %q: %w", yamlAt(f.schemaFile, data, fmt.Sprintf("$.columns[%d].type", i)), c.Name, err)
			}
			cols[i] = connect.Column{Name: c.Name, Type: t}
		}
		return cols, sf.Key, nil
	}
	if src.types != nil {
		return src.types, nil, nil
	}
	return schema.Infer(src.names, src.sample), nil, nil
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// apply prepares the target: drops, creates or empties the table as
// planned.
func (p *copyPlan) apply(ctx context.Context, tgt *copyTarget) error {
	if p.drop {
		if err := tgt.drop(ctx, tgt.table); err != nil {
			return fmt.Errorf("replace %s: %w", tgt, err)
		}
	}
	if p.create {
		if err := tgt.create(ctx, tgt.table, p.cols, p.key); err != nil {
			return fmt.Errorf("create %s: %w", tgt, err)
		}
		p.created = !tgt.isFile
		p.rowsBefore = 0
	}
	if p.empty {
		if err := tgt.empty(ctx, tgt.table); err != nil {
			return fmt.Errorf("empty %s: %w", tgt, err)
		}
		p.rowsBefore = 0
	}
	return nil
}

// transform converts each source row to the target's columns and types; a
// value that does not fit fails its record (or sets it aside under
// --on-error skip) with the line and column. When the target's columns are
// the source's, in the same order (the common case), each row is converted
// in place through a per-worker scratch row, which costs no allocation; a
// row that fails keeps its source values, for the reject file.
func (p *copyPlan) transform(src []string) weir.Transform[connect.Row, connect.Row] {
	n := len(p.cols)
	if slices.Equal(src, columnNames(p.cols)) {
		scratch := sync.Pool{New: func() any { s := make([]connect.Value, 0, n); return &s }}
		return weir.InPlace(func(_ context.Context, r *connect.Row) error {
			buf := scratch.Get().(*[]connect.Value)
			defer scratch.Put(buf)
			out, err := p.conv.Convert(*r, (*buf)[:0])
			if err != nil {
				return err
			}
			copy(r.Values, out)
			return nil
		})
	}
	return weir.Map(func(_ context.Context, in connect.Row) (connect.Row, error) {
		out, err := p.conv.Convert(in, make([]connect.Value, 0, n))
		return connect.Row{Values: out, Pos: in.Pos}, err
	})
}

// resumeOption returns the checkpoint option for --resume: at-least-once
// with upserts on --key, or, into PostgreSQL without a key, each batch
// and its checkpoint in one transaction.
func resumeOption(ctx context.Context, w io.Writer, f copyFlags, src *copySource, tgt *copyTarget, plan *copyPlan) (weir.Option, error) {
	if !plan.resumable {
		return weir.Option{}, usagef("--resume: %s cannot resume without --key (or a PostgreSQL target)", tgt)
	}
	if _, ok := src.src.(weir.Positioner); !ok {
		return weir.Option{}, usagef("--resume: %s cannot report positions (a query or standard input is read once)", src.desc)
	}
	store, err := tgt.checkpoints(ctx)
	if err != nil {
		return weir.Option{}, err
	}
	job := "copy " + src.desc + " → " + tgt.desc
	store, pos, err := resumeStore(ctx, w, store, job, f.resume, tgt.String())
	if err != nil {
		return weir.Option{}, err
	}
	if f.resume && pos == nil && len(plan.key) == 0 && plan.rowsBefore > 0 {
		// Without a key nothing makes a second load of a row harmless: a
		// table that holds rows but no position of this copy was loaded by
		// a run that saved none, and continuing would load them again.
		return weir.Option{}, usagef("--resume: %s holds %d rows but no checkpoint of this copy (the run that loaded them did not save positions: only a copy run with --resume, or --key, from its first run does); --if-exists truncate starts over", tgt, plan.rowsBefore)
	}
	plan.checkpointed = true
	if len(plan.key) > 0 {
		return weir.WithCheckpoint(store, job), nil
	}
	plan.exactlyOnce = true
	return weir.WithExactlyOnce(store, job), nil
}

// resumeStore returns the checkpoint store a run uses. A --resume run
// loads the job's saved position (and says so); any other run starts from
// the beginning, whatever an earlier run saved, but saves its own
// positions, so that a later --resume continues it. It returns the
// position loaded (nil: none, or not a --resume run).
func resumeStore(ctx context.Context, w io.Writer, store weir.CheckpointStore, job string, resume bool, where string) (_ weir.CheckpointStore, pos []byte, err error) {
	if !resume {
		return startOver{store}, nil, nil
	}
	pos, err = store.Load(ctx, job)
	if err != nil {
		return nil, nil, fmt.Errorf("read the checkpoint of %q in %s: %w", job, where, err)
	}
	if pos != nil {
		fmt.Fprintf(w, "resuming after position %s (saved by an earlier run)\n", pos)
	}
	return store, pos, nil
}

// startOver is a checkpoint store for a run that starts from the
// beginning: it loads no position, and saves as the store does.
type startOver struct{ weir.CheckpointStore }

// Load returns no position.
func (startOver) Load(context.Context, string) ([]byte, error) { return nil, nil }
