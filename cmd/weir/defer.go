package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// deferredFKs records the constraints and indexes dropped for a load, in
// the target itself: a process killed mid-load leaves the definitions
// behind, and the next run puts them back. (The name predates keys and
// indexes; kind says which is which.)
const deferredFKs = "weir_deferred_fks"

// saveSQL creates the table of deferred definitions, or brings one from an
// older weir up to date.
const saveSQL = `CREATE TABLE IF NOT EXISTS ` + deferredFKs + ` (tbl text NOT NULL, name text NOT NULL, def text NOT NULL, PRIMARY KEY (tbl, name));
ALTER TABLE ` + deferredFKs + ` ADD COLUMN IF NOT EXISTS kind "char" NOT NULL DEFAULT 'f'`

// deferConstraints saves the definitions of the tables' foreign keys and,
// with keys, of their primary keys, unique constraints and other indexes,
// and drops them, in one transaction; it returns the function that adds
// them back. On this machine the server spent about half its CPU in the
// per-row foreign-key triggers during the migration, and a load into
// tables without indexes is faster again: building each index once, from
// sorted rows, costs less than maintaining it row by row (pgloader does the
// same). Keys may only be dropped when the load does not need them (an ON
// CONFLICT upsert does).
func deferConstraints(ctx context.Context, pool *pgxpool.Pool, name string, tables []string, keys bool) (func(context.Context) error, error) {
	fail := func(err error) (func(context.Context) error, error) {
		return nil, fmt.Errorf("defer constraints in %s: %w", name, err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, saveSQL); err != nil {
		return fail(err)
	}
	kinds := []string{"f"}
	if keys {
		kinds = append(kinds, "p", "u")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+deferredFKs+` (tbl, name, def, kind)
		SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), k.contype
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype::text = ANY($2) AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)
		ON CONFLICT DO NOTHING`, tables, kinds); err != nil {
		return fail(err)
	}
	if keys { // indexes that back no constraint of their own table
		if _, err := tx.Exec(ctx, `INSERT INTO `+deferredFKs+` (tbl, name, def, kind)
			SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), 'i'
			FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)
			  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
			ON CONFLICT DO NOTHING`, tables); err != nil {
			return fail(err)
		}
	}
	// Drop in dependency order: foreign keys, then indexes, then the keys
	// the foreign keys referenced.
	rows, err := tx.Query(ctx, `SELECT tbl, name, kind::text FROM `+deferredFKs+` WHERE tbl = ANY($1)
		ORDER BY CASE kind WHEN 'f' THEN 0 WHEN 'i' THEN 1 ELSE 2 END, tbl, name`, tables)
	if err != nil {
		return fail(err)
	}
	var drops []string
	for rows.Next() {
		var tbl, con, kind string
		if err := rows.Scan(&tbl, &con, &kind); err != nil {
			rows.Close()
			return fail(err)
		}
		if kind == "i" {
			drops = append(drops, fmt.Sprintf(`DROP INDEX IF EXISTS %s`, pgx.Identifier{con}.Sanitize()))
		} else {
			drops = append(drops, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s`, pgx.Identifier{tbl}.Sanitize(), pgx.Identifier{con}.Sanitize()))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for _, d := range drops {
		if _, err := tx.Exec(ctx, d); err != nil {
			return fail(fmt.Errorf("%s: %w", d, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return func(ctx context.Context) error { return restoreConstraints(ctx, pool, name) }, nil
}

// restorePendingConstraints restores what an earlier run saved in
// deferredFKs, if anything. If a row violates a constraint, nothing is
// restored and the definitions stay saved, for a later run once the rows
// are fixed.
func restorePendingConstraints(ctx context.Context, pool *pgxpool.Pool, name string) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, deferredFKs).Scan(&exists); err != nil {
		return fmt.Errorf("look for constraints an earlier run deferred in %s: %w", name, err)
	}
	if !exists {
		return nil
	}
	var pending int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+deferredFKs).Scan(&pending); err != nil {
		return fmt.Errorf("look for constraints an earlier run deferred in %s: %w", name, err)
	}
	if pending == 0 {
		return nil
	}
	if err := restoreConstraints(ctx, pool, name); err != nil {
		return fmt.Errorf("%d constraints and indexes an earlier run dropped could not be added back; their definitions stay in %s for the next run: %w", pending, deferredFKs, err)
	}
	return nil
}

// restoreConstraints adds back every deferred key, index and foreign key,
// in that order, checking the rows loaded, in one transaction.
func restoreConstraints(ctx context.Context, pool *pgxpool.Pool, name string) error {
	fail := func(err error) error { return fmt.Errorf("restore constraints in %s: %w", name, err) }
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, saveSQL); err != nil { // a table from an older weir has no kind yet
		return fail(err)
	}
	// Each index is built by sorting its table: give the sort room (the
	// server's default, 64 MB, spills a 12M-row table to disk), for this
	// transaction only.
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return fail(err)
	}
	rows, err := tx.Query(ctx, `SELECT tbl, name, def, kind::text FROM `+deferredFKs+`
		ORDER BY CASE kind WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'i' THEN 2 ELSE 3 END, tbl, name`)
	if err != nil {
		return fail(err)
	}
	var adds []string
	for rows.Next() {
		var tbl, con, def, kind string
		if err := rows.Scan(&tbl, &con, &def, &kind); err != nil {
			rows.Close()
			return fail(err)
		}
		if kind == "i" {
			adds = append(adds, def) // pg_get_indexdef: a whole CREATE INDEX
		} else {
			adds = append(adds, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, pgx.Identifier{tbl}.Sanitize(), pgx.Identifier{con}.Sanitize(), def))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for _, a := range adds {
		if _, err := tx.Exec(ctx, a); err != nil {
			return fail(fmt.Errorf("%s: %w", a, err))
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM `+deferredFKs); err != nil {
		return fail(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return nil
}
