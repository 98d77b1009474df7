package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/redact"
)

// dbTable is one table of a whole-database copy: what the copy does to it
// in the target, and then what it did.
type dbTable struct {
	catalog.Table
	target       string // "schema.table", as postgres.RowSink takes it
	drop, create bool   // DROP ... CASCADE first; CREATE TABLE
	empty        bool   // TRUNCATE first
	rowsBefore   int64
	res          *tableResult
}

// dbCopy is a whole-database copy, planned before anything is written.
type dbCopy struct {
	f      copyFlags
	src    catalog.Source
	srcURL string // without secrets
	pool   *pgxpool.Pool
	tgtURL string // without secrets
	schema string
	tables []*dbTable
	jobs   int            // tables and ranges loaded at once
	ms     *metricsServer // --metrics-addr's, or nil
}

// copyDatabase runs `weir copy DATABASE postgres://…`: the catalog, the
// tables, the rows (in parallel, big tables by ranges), then keys, indexes
// and foreign keys (validated), then sequences. only, when set, is the one
// table ?table= names.
func copyDatabase(ctx context.Context, stdout, stderr io.Writer, f copyFlags, ms *metricsServer, open func(context.Context, string) (catalog.Source, error), url, only string) error {
	c, err := planDatabase(ctx, f, open, url, only)
	if c != nil {
		c.ms = ms
		defer c.close()
	}
	if err != nil {
		return err
	}
	dl, err := f.reject.open()
	if err != nil {
		return err
	}
	if dl != nil {
		defer dl.Close(context.WithoutCancel(ctx))
	}
	if err := c.createTables(ctx); err != nil {
		return err
	}
	mode := ""
	switch {
	case f.db.schemaOnly:
		mode = ", schema only"
	case f.db.dataOnly:
		mode = ", data only"
	}
	fmt.Fprintf(stdout, "weir copy: %s → %s schema %s (%s; batch %d, %s at once%s)\n", c.srcURL, c.tgtURL, c.schema, count(len(c.tables), "table"), f.batch, count(c.jobs, "table range"), mode)
	start := time.Now()
	plan := c.buildPlan()
	var bt buildTimes
	agg, loadErr, buildErr := c.copyRows(ctx, stderr, dl, plan, &bt)
	loadTime := c.loadTime(start)
	c.tableReport(stdout)
	if loadErr != nil {
		return fmt.Errorf("copy %s: %w; rerun with --if-exists replace to start over", c.srcURL, loadErr)
	}
	after := 0.0
	if bt.last.After(start.Add(loadTime)) {
		after = bt.last.Sub(start.Add(loadTime)).Seconds()
	}
	fmt.Fprintf(stdout, "\nkeys and indexes: %d indexes, %d primary keys and unique constraints, %d foreign keys (validated), %d identities reset: %.2fs of work, %.2fs after the last row loaded\n",
		len(plan.Indexes), len(plan.Constraints), len(plan.ForeignKeys), len(plan.Identities), bt.busy.Seconds(), after)
	for _, s := range plan.Skipped {
		fmt.Fprintf(stdout, "  skipped: %s\n", s)
	}
	if buildErr != nil {
		return fmt.Errorf("copy %s: the rows are loaded, but %w", c.srcURL, buildErr)
	}
	if !f.db.schemaOnly {
		agg.report(stdout, loadTime, time.Since(start), &f.reject)
	}
	return c.check(ctx, stdout)
}

// planDatabase reads the catalog and the target and decides what to do
// with each table. Every error is a usage error: nothing is written yet.
func planDatabase(ctx context.Context, f copyFlags, open func(context.Context, string) (catalog.Source, error), url, only string) (*dbCopy, error) {
	d := f.db
	switch {
	case d.schemaOnly && d.dataOnly:
		return nil, usagef("--schema-only and --data-only: pick one (neither copies both)")
	case f.resume || len(f.key) > 0 || f.schemaFile != "" || f.format != "":
		return nil, usagef("--resume, --key, --schema and --format are for one table or file; a whole-database copy takes the source's keys and types")
	case only != "" && len(d.include)+len(d.exclude) > 0:
		return nil, usagef("SOURCE names one table (?table=%s): --include and --exclude choose among a whole database's", only)
	case !strings.HasPrefix(f.target, "postgres://") && !strings.HasPrefix(f.target, "postgresql://"):
		return nil, usagef("TARGET %s: a whole database copies into PostgreSQL (postgres://…); to copy one table elsewhere, add ?table=T to SOURCE", redact.String(f.target))
	case d.dataOnly && f.ifExists == "replace":
		return nil, usagef("--data-only loads existing tables; --if-exists replace would recreate them: pick one")
	}
	tname := redact.String(f.target)
	base, p, err := sqlParams(f.target)
	if err != nil {
		return nil, usagef("TARGET %s: %w", tname, err)
	}
	if p.Has("table") || p.Has("query") {
		return nil, usagef("TARGET %s: a whole database is copied into a schema (?schema=S), not a table", tname)
	}
	c := &dbCopy{f: f, srcURL: redact.String(url), tgtURL: redact.String(base), schema: p.Get("schema")}
	c.jobs = f.workers
	if c.jobs <= 0 {
		c.jobs = max(runtime.NumCPU(), 2)
	}
	if c.src, err = open(ctx, url); err != nil {
		return nil, usagef("SOURCE %s: %w", c.srcURL, redact.Error(err, url))
	}
	all, err := c.src.Tables(ctx)
	if err != nil {
		return c, usagef("SOURCE %s: %w", c.srcURL, redact.Error(err, url))
	}
	picked := all
	if only != "" {
		i := slices.IndexFunc(all, func(t catalog.Table) bool { return t.Name == only })
		if i < 0 {
			return c, usagef("SOURCE %s: no table %q (tables: %s)", c.srcURL, only, tableNames(all))
		}
		picked = all[i : i+1]
	} else if picked, err = d.pick(all); err != nil {
		return c, err
	}
	if len(picked) == 0 {
		return c, usagef("SOURCE %s: no table to copy", c.srcURL)
	}
	if c.pool, err = dialPostgres(ctx, base, tname, c.jobs+2); err != nil {
		return c, err
	}
	if c.schema == "" {
		if err := c.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&c.schema); err != nil {
			return c, usagef("TARGET %s: %w", tname, err)
		}
	}
	for _, t := range picked {
		if strings.Contains(t.Name, ".") {
			return c, usagef("table %q: a name with a dot cannot be copied yet", t.Name)
		}
		dt := &dbTable{Table: t, target: c.schema + "." + t.Name, res: &tableResult{}}
		if err := c.decide(ctx, dt); err != nil {
			return c, err
		}
		c.tables = append(c.tables, dt)
	}
	return c, nil
}

// decide sets what the copy does to t in the target, by --if-exists and
// --data-only, and refuses what cannot work.
func (c *dbCopy) decide(ctx context.Context, t *dbTable) error {
	cols, exists, err := postgres.TableColumns(ctx, c.pool, t.target)
	if err != nil {
		return usagef("look up %s: %w", t.target, err)
	}
	if exists {
		if err := c.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgName(t.target)).Scan(&t.rowsBefore); err != nil {
			return usagef("count the rows of %s: %w", t.target, err)
		}
	}
	switch {
	case !exists && c.f.db.dataOnly:
		return usagef("--data-only: %s does not exist in %s", t.target, c.tgtURL)
	case !exists:
		t.create = true
		return nil
	case c.f.ifExists == "replace":
		t.drop, t.create, t.rowsBefore = true, true, 0
		return nil
	case c.f.ifExists == "fail" && !c.f.db.dataOnly:
		return usagef("%s already exists in %s: pass --if-exists replace to drop and recreate it, truncate to empty it and load it as it is, append to add to it (or --data-only)", t.target, c.tgtURL)
	case c.f.ifExists == "fail" && t.rowsBefore > 0:
		return usagef("%s already holds %d rows: pass --if-exists append to add to them or truncate to empty it first", t.target, t.rowsBefore)
	case c.f.ifExists == "truncate":
		t.empty, t.rowsBefore = true, 0
	}
	have := columnNames(cols)
	var missing []string
	for _, col := range t.Columns {
		if !slices.Contains(have, col.Name) {
			missing = append(missing, col.Name)
		}
	}
	if len(missing) > 0 {
		return usagef("%s has no column %s (it has %s): the source's table %s does not match it", t.target, quoteAll(missing), strings.Join(have, ", "), t.Name)
	}
	return nil
}

// createTables creates the schema and the tables, drops and empties, all
// in one transaction: a failure leaves the target as it was.
func (c *dbCopy) createTables(ctx context.Context) error {
	script := []string{"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{c.schema}.Sanitize()}
	var empty []string
	for _, t := range c.tables {
		if t.drop {
			script = append(script, "DROP TABLE "+pgName(t.target)+" CASCADE")
		}
		if t.create {
			script = append(script, postgres.CatalogTableSQL(c.schema, t.Table))
		}
		if t.empty {
			empty = append(empty, pgName(t.target))
		}
	}
	// One TRUNCATE for every table: PostgreSQL empties tables that
	// reference each other only together. A table outside the copy that
	// references one of them still refuses, naming itself.
	if len(empty) > 0 {
		script = append(script, "TRUNCATE "+strings.Join(empty, ", "))
	}
	if err := postgres.Exec(ctx, c.pool, strings.Join(script, ";\n")); err != nil {
		return fmt.Errorf("prepare the tables in %s schema %s: %w", c.tgtURL, c.schema, err)
	}
	return nil
}

// buildPlan plans the keys, indexes and foreign keys of the tables the
// copy created, and the identities of every table it loaded.
func (c *dbCopy) buildPlan() postgres.BuildPlan {
	var created, all []catalog.Table
	for _, t := range c.tables {
		all = append(all, t.Table)
		if t.create {
			created = append(created, t.Table)
		}
	}
	plan := postgres.PlanBuild(c.schema, created)
	plan.Identities = postgres.PlanBuild(c.schema, all).Identities
	if c.f.db.schemaOnly {
		plan.Identities = nil
	}
	return plan
}

func (c *dbCopy) close() {
	if c.pool != nil {
		c.pool.Close()
	}
	if c.src != nil {
		c.src.Close()
	}
}
