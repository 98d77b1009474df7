package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/weir-etl/weir/connect/catalog"
)

// Tables returns the database's base tables (not views) from
// information_schema, referenced tables before the tables referencing them
// (a cycle of references, other than a table's reference to itself, is
// broken in name order). It runs five queries and blocks until they end.
func (s *Source) Tables(ctx context.Context) ([]catalog.Table, error) {
	tables, byName, err := s.baseTables(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.columns(ctx, byName); err != nil {
		return nil, err
	}
	if err := s.indexes(ctx, byName); err != nil {
		return nil, err
	}
	if err := s.foreignKeys(ctx, byName); err != nil {
		return nil, err
	}
	out := make([]catalog.Table, len(tables))
	for i, name := range tables {
		out[i] = byName[name].Table
	}
	return orderByReferences(out), nil
}

// tableInfo is a table being read from information_schema.
type tableInfo struct{ catalog.Table }

func (s *Source) query(ctx context.Context, what, q string, scan func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q, s.schema)
	if err != nil {
		return fmt.Errorf("mysql: read %s of %s: %w", what, s.schema, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("mysql: read %s of %s: %w", what, s.schema, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mysql: read %s of %s: %w", what, s.schema, err)
	}
	return nil
}

func (s *Source) baseTables(ctx context.Context) ([]string, map[string]*tableInfo, error) {
	var names []string
	byName := map[string]*tableInfo{}
	err := s.query(ctx, "tables", `SELECT TABLE_NAME, COALESCE(TABLE_ROWS, -1) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`, func(r *sql.Rows) error {
		t := &tableInfo{}
		if err := r.Scan(&t.Name, &t.Rows); err != nil {
			return err
		}
		names = append(names, t.Name)
		byName[t.Name] = t
		return nil
	})
	return names, byName, err
}

func (s *Source) columns(ctx context.Context, byName map[string]*tableInfo) error {
	// MariaDB's JSON is LONGTEXT with a column CHECK named after the column.
	jsonCols := map[[2]string]bool{}
	err := s.query(ctx, "JSON checks", `SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND CHECK_CLAUSE LIKE 'json_valid(%'`, func(r *sql.Rows) error {
		var t, c string
		err := r.Scan(&t, &c)
		jsonCols[[2]string{t, c}] = true
		return err
	})
	if err != nil {
		return err
	}
	return s.query(ctx, "columns", `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE = 'YES', EXTRA,
			COLUMN_DEFAULT, COALESCE(NUMERIC_PRECISION, DATETIME_PRECISION, -1), COALESCE(NUMERIC_SCALE, -1),
			COALESCE(CHARACTER_MAXIMUM_LENGTH, -1)
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, func(r *sql.Rows) error {
		var c colInfo
		var def sql.NullString
		if err := r.Scan(&c.table, &c.name, &c.dataType, &c.columnType, &c.nullable, &c.extra, &def,
			&c.precision, &c.scale, &c.length); err != nil {
			return err
		}
		t := byName[c.table]
		if t == nil {
			return nil // a view's columns
		}
		if def.Valid {
			c.def = &def.String
		}
		c.json = jsonCols[[2]string{c.table, c.name}]
		col, _ := mapColumn(c)
		t.Columns = append(t.Columns, col)
		return nil
	})
}

func (s *Source) indexes(ctx context.Context, byName map[string]*tableInfo) error {
	// FULLTEXT and SPATIAL indexes and functional key parts have no
	// counterpart; a prefix key part indexes the whole column.
	return s.query(ctx, "indexes", `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, COLUMN_NAME
		FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND INDEX_TYPE NOT IN ('FULLTEXT', 'SPATIAL') AND COLUMN_NAME IS NOT NULL
		ORDER BY TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`, func(r *sql.Rows) error {
		var table, index, column string
		var unique bool
		if err := r.Scan(&table, &index, &unique, &column); err != nil {
			return err
		}
		t := byName[table]
		switch {
		case t == nil:
		case index == "PRIMARY":
			t.PrimaryKey = append(t.PrimaryKey, column)
		case len(t.Indexes) > 0 && t.Indexes[len(t.Indexes)-1].Name == index:
			last := &t.Indexes[len(t.Indexes)-1]
			last.Columns = append(last.Columns, column)
		default:
			t.Indexes = append(t.Indexes, catalog.Index{Name: index, Columns: []string{column}, Unique: unique})
		}
		return nil
	})
}

func (s *Source) foreignKeys(ctx context.Context, byName map[string]*tableInfo) error {
	return s.query(ctx, "foreign keys", `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
			k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
		FROM information_schema.KEY_COLUMN_USAGE k
		JOIN information_schema.REFERENTIAL_CONSTRAINTS r
			ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
		WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA
		ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, func(r *sql.Rows) error {
		var table, name, column, refTable, refColumn, onDelete, onUpdate string
		if err := r.Scan(&table, &name, &column, &refTable, &refColumn, &onDelete, &onUpdate); err != nil {
			return err
		}
		t := byName[table]
		if t == nil {
			return nil
		}
		if n := len(t.ForeignKeys); n > 0 && t.ForeignKeys[n-1].Name == name {
			fk := &t.ForeignKeys[n-1]
			fk.Columns = append(fk.Columns, column)
			fk.RefColumns = append(fk.RefColumns, refColumn)
			return nil
		}
		t.ForeignKeys = append(t.ForeignKeys, catalog.ForeignKey{Name: name, Columns: []string{column},
			RefTable: refTable, RefColumns: []string{refColumn}, OnDelete: onDelete, OnUpdate: onUpdate})
		return nil
	})
}

// orderByReferences orders tables (given in name order) so that a table
// comes after the tables it references, keeping name order otherwise; a
// table in a cycle goes when nothing else can.
func orderByReferences(tables []catalog.Table) []catalog.Table {
	placed := map[string]bool{}
	out := make([]catalog.Table, 0, len(tables))
	rest := slices.Clone(tables)
	for len(rest) > 0 {
		next := slices.IndexFunc(rest, func(t catalog.Table) bool {
			for _, fk := range t.ForeignKeys {
				if fk.RefTable != t.Name && !placed[fk.RefTable] && slices.ContainsFunc(rest, func(o catalog.Table) bool { return o.Name == fk.RefTable }) {
					return false
				}
			}
			return true
		})
		if next < 0 {
			next = 0 // a cycle: break it at the first name
		}
		placed[rest[next].Name] = true
		out = append(out, rest[next])
		rest = slices.Delete(rest, next, next+1)
	}
	return out
}

func sortNotes(notes []catalog.Note) {
	slices.SortFunc(notes, func(a, b catalog.Note) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Column, b.Column), cmp.Compare(a.What, b.What))
	})
}
