package sqlite

// The catalog's reading of one table: columns, keys, indexes and foreign
// keys, from SQLite's PRAGMAs.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/weir-etl/weir/connect/catalog"
)

// describe reads one table's columns, keys, indexes and foreign keys.
func (c *Catalog) describe(ctx context.Context, name string) (catalog.Table, []catalog.Note, error) {
	t := catalog.Table{Name: name, Rows: -1}
	var notes []catalog.Note
	note := func(col, what string) {
		notes = append(notes, catalog.Note{Table: name, Column: col, What: what, Count: 1})
	}
	type pkCol struct {
		name string
		at   int
	}
	var pk []pkCol
	err := c.pragma(ctx, "table_info", name, func(r *sql.Rows) error {
		var cid, notNull, pkAt int
		var col, decl string
		var dflt sql.NullString
		if err := r.Scan(&cid, &col, &decl, &notNull, &dflt, &pkAt); err != nil {
			return err
		}
		typ := typeOf(decl)
		cc := catalog.Column{Name: col, Type: typ, SourceType: decl, PGType: pgTypeOf(decl, typ), NotNull: notNull == 1}
		if dflt.Valid {
			if d, ok := pgDefault(dflt.String, typ); ok {
				cc.Default = d
			} else {
				note(col, "default "+dflt.String+" not copied")
			}
		}
		if pkAt > 0 {
			pk = append(pk, pkCol{col, pkAt})
		}
		t.Columns = append(t.Columns, cc)
		return nil
	})
	if err != nil {
		return t, nil, err
	}
	slices.SortFunc(pk, func(a, b pkCol) int { return a.at - b.at })
	for _, k := range pk {
		t.PrimaryKey = append(t.PrimaryKey, k.name)
	}
	hasRowid := c.hasRowid(ctx, name)
	if hasRowid && len(pk) == 1 {
		// INTEGER PRIMARY KEY, spelled exactly so, is the rowid.
		i := slices.IndexFunc(t.Columns, func(col catalog.Column) bool { return col.Name == pk[0].name })
		if strings.EqualFold(strings.TrimSpace(t.Columns[i].SourceType), "INTEGER") {
			t.Columns[i].Identity, t.Columns[i].NotNull = true, true
		}
	}
	if hasRowid {
		var lo, hi sql.NullInt64
		if err := c.db.QueryRowContext(ctx, `SELECT min(rowid), max(rowid) FROM `+quoteIdent(name)).Scan(&lo, &hi); err != nil {
			return t, nil, err
		}
		t.Rows = 0
		if lo.Valid {
			t.Rows = hi.Int64 - lo.Int64 + 1 // an estimate: rowids may have gaps
		}
	}
	if t.Indexes, err = c.indexes(ctx, name, note); err != nil {
		return t, nil, err
	}
	if t.ForeignKeys, err = c.foreignKeys(ctx, name); err != nil {
		return t, nil, err
	}
	return t, notes, nil
}

// hasRowid reports whether the table has a rowid (it is not WITHOUT ROWID).
func (c *Catalog) hasRowid(ctx context.Context, name string) bool {
	rows, err := c.db.QueryContext(ctx, `SELECT rowid FROM `+quoteIdent(name)+` LIMIT 0`)
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// indexes reads the table's indexes but the primary key's.
func (c *Catalog) indexes(ctx context.Context, table string, note func(col, what string)) ([]catalog.Index, error) {
	type entry struct {
		name            string
		unique, partial bool
		origin          string
	}
	var list []entry
	err := c.pragma(ctx, "index_list", table, func(r *sql.Rows) error {
		var seq, unique, partial int
		var e entry
		if err := r.Scan(&seq, &e.name, &unique, &e.origin, &partial); err != nil {
			return err
		}
		e.unique, e.partial = unique == 1, partial == 1
		list = append(list, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []catalog.Index
	for _, e := range list {
		if e.origin == "pk" {
			continue
		}
		if e.partial {
			note("", "partial index "+e.name+" not copied")
			continue
		}
		idx := catalog.Index{Name: e.name, Unique: e.unique}
		expr := false
		err := c.pragma(ctx, "index_info", e.name, func(r *sql.Rows) error {
			var seqno, cid int
			var col sql.NullString
			if err := r.Scan(&seqno, &cid, &col); err != nil {
				return err
			}
			expr = expr || !col.Valid
			idx.Columns = append(idx.Columns, col.String)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if expr {
			note("", "index "+e.name+" on an expression not copied")
			continue
		}
		if strings.HasPrefix(e.name, "sqlite_autoindex_") {
			idx.Name = "" // SQLite's own name for a UNIQUE constraint; the target names it
		}
		out = append(out, idx)
	}
	slices.Reverse(out) // index_list lists the newest first
	return out, nil
}

// foreignKeys reads the table's foreign keys; a reference to the parent's
// primary key without columns gets the parent's key columns.
func (c *Catalog) foreignKeys(ctx context.Context, table string) ([]catalog.ForeignKey, error) {
	var fks []catalog.ForeignKey
	last := -1
	err := c.pragma(ctx, "foreign_key_list", table, func(r *sql.Rows) error {
		var id, seq int
		var parent, from, onUpdate, onDelete, match string
		var to sql.NullString
		if err := r.Scan(&id, &seq, &parent, &from, &to, &onUpdate, &onDelete, &match); err != nil {
			return err
		}
		if id != last {
			fks = append(fks, catalog.ForeignKey{RefTable: parent, OnDelete: onDelete, OnUpdate: onUpdate})
			last = id
		}
		fk := &fks[len(fks)-1]
		fk.Columns = append(fk.Columns, from)
		fk.RefColumns = append(fk.RefColumns, to.String) // "" until filled below
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range fks {
		if !slices.Contains(fks[i].RefColumns, "") {
			continue
		}
		key, err := c.primaryKey(ctx, fks[i].RefTable)
		if err != nil {
			return nil, err
		}
		if len(key) != len(fks[i].Columns) {
			return nil, fmt.Errorf("foreign key (%s) references %s's primary key, which has %d columns", strings.Join(fks[i].Columns, ", "), fks[i].RefTable, len(key))
		}
		fks[i].RefColumns = key
	}
	slices.Reverse(fks) // foreign_key_list lists the last declared first
	return fks, nil
}

// primaryKey returns the table's primary key columns, in key order.
func (c *Catalog) primaryKey(ctx context.Context, table string) ([]string, error) {
	at := map[string]int{}
	var key []string
	err := c.pragma(ctx, "table_info", table, func(r *sql.Rows) error {
		var cid, notNull, pkAt int
		var col, decl string
		var dflt sql.NullString
		if err := r.Scan(&cid, &col, &decl, &notNull, &dflt, &pkAt); err != nil {
			return err
		}
		if pkAt > 0 {
			key, at[col] = append(key, col), pkAt
		}
		return nil
	})
	slices.SortFunc(key, func(a, b string) int { return at[a] - at[b] })
	return key, err
}

// pragma runs PRAGMA name(arg) and calls scan for each row.
func (c *Catalog) pragma(ctx context.Context, name, arg string, scan func(*sql.Rows) error) error {
	rows, err := c.db.QueryContext(ctx, `SELECT * FROM pragma_`+name+`(?)`, arg)
	if err != nil {
		return fmt.Errorf("pragma %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("pragma %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pragma %s: %w", name, err)
	}
	return nil
}
