package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/mysql"
	"github.com/weir-etl/weir/connect/sqlite"
)

// databaseSources open a whole database by its URL's scheme (the part
// before the first ':'), for `weir copy DATABASE postgres://…`. url is
// the SOURCE argument without weir's own parameters (?table=, ?schema=).
var databaseSources = map[string]func(ctx context.Context, url string) (catalog.Source, error){
	"sqlite":  openSQLiteCatalog,
	"mysql":   openMySQLCatalog,
	"mariadb": openMySQLCatalog,
}

func openMySQLCatalog(ctx context.Context, url string) (catalog.Source, error) {
	return mysql.Open(ctx, url)
}

// sqliteReaders is how many connections a SQLite catalog opens at most:
// one per range read at once.
const sqliteReaders = 32

func openSQLiteCatalog(_ context.Context, url string) (catalog.Source, error) {
	p := strings.TrimPrefix(url, "sqlite:")
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	db, err := sqlite.OpenReadOnly(p, sqliteReaders)
	if err != nil {
		return nil, err
	}
	cat, err := sqlite.NewCatalog(db)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return closing{cat, db.Close}, nil
}

// closing is a catalog that also closes what it was opened on.
type closing struct {
	catalog.Source
	also func() error
}

func (c closing) Close() error { return errors.Join(c.Source.Close(), c.also()) }

// wholeDatabase reports whether SOURCE is a database weir copies whole
// (or one table of, through the same mapping), and returns its opener, its
// URL without weir's parameters, and the one table ?table= names.
// A database source with ?table= goes this way only into PostgreSQL
// without a target ?table=, and without the single-table flags (--key,
// --resume, --schema), which the single-table copy keeps.
func wholeDatabase(f copyFlags) (open func(context.Context, string) (catalog.Source, error), url, only string, ok bool) {
	scheme, _, found := strings.Cut(f.source, ":")
	open = databaseSources[scheme]
	if !found || open == nil {
		return nil, "", "", false
	}
	base, p, err := sqlParams(f.source)
	if err != nil || p.Has("query") {
		return nil, "", "", false
	}
	only = p.Get("table")
	if only != "" {
		_, tp, err := sqlParams(f.target)
		pg := strings.HasPrefix(f.target, "postgres://") || strings.HasPrefix(f.target, "postgresql://")
		if err != nil || !pg || tp.Has("table") || f.resume || len(f.key) > 0 || f.schemaFile != "" {
			return nil, "", "", false
		}
	}
	return open, base, only, true
}

// dbFlags are the flags of a whole-database copy.
type dbFlags struct {
	include, exclude globs
	schemaOnly       bool
	dataOnly         bool
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.Var(&d.include, "include", "whole database: copy only the tables matching this glob (repeatable, or comma-separated)")
	fs.Var(&d.exclude, "exclude", "whole database: skip the tables matching this glob (repeatable, or comma-separated)")
	fs.BoolVar(&d.schemaOnly, "schema-only", false, "whole database: create the tables, keys, indexes and foreign keys, and copy no rows")
	fs.BoolVar(&d.dataOnly, "data-only", false, "whole database: copy rows into tables that exist already, with the same columns; create nothing")
}

// used reports whether any of the flags was given.
func (d *dbFlags) used() bool {
	return len(d.include)+len(d.exclude) > 0 || d.schemaOnly || d.dataOnly
}

// pick returns the tables the flags select, in order, or a usage error
// for a glob that matches no table.
func (d *dbFlags) pick(tables []catalog.Table) ([]catalog.Table, error) {
	var out []catalog.Table
	for _, g := range append(append(globs{}, d.include...), d.exclude...) {
		if _, err := path.Match(g, ""); err != nil {
			return nil, usagef("table glob %q: %w", g, err)
		}
		if !matchAny(globs{g}, tables) {
			return nil, usagef("table glob %q matches no table (tables: %s)", g, tableNames(tables))
		}
	}
	for _, t := range tables {
		if (len(d.include) == 0 || d.include.match(t.Name)) && !d.exclude.match(t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

func matchAny(g globs, tables []catalog.Table) bool {
	for _, t := range tables {
		if g.match(t.Name) {
			return true
		}
	}
	return false
}

func tableNames(tables []catalog.Table) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// globs is a repeatable, comma-separated list of table globs
// (path.Match syntax: *, ?, [a-z]).
type globs []string

func (g *globs) String() string { return strings.Join(*g, ",") }

func (g *globs) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			return fmt.Errorf("an empty table glob in %q", v)
		}
		*g = append(*g, s)
	}
	return nil
}

func (g globs) match(name string) bool {
	for _, p := range g {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
