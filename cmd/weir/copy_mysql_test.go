package main

import (
	"crypto/md5"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir/internal/mariatest"
	"github.com/weir-etl/weir/internal/pgtest"
)

// TestCopyMariaDBDatabase is issue 10's proof: the test shop of
// internal/mariatest (every mapped type, composite and self-referencing
// foreign keys, a unique key, a table without a primary key, zero dates)
// at over a million rows, copied whole into PostgreSQL. Each table's rows
// must match on both sides — counted, and hashed over a canonical text
// each side computes in its own SQL (floats compared by sum, JSON by
// value) — its keys, uniques and foreign keys must exist validated, and a
// row inserted without an id must get one past the copied ones.
// WEIR_MARIADB_ROWS sets the size (default 1,050,000).
func TestCopyMariaDBDatabase(t *testing.T) {
	rows := int64(1_050_000)
	if s := os.Getenv("WEIR_MARIADB_ROWS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("WEIR_MARIADB_ROWS=%q: %v", s, err)
		}
		rows = n
	}
	my := mariatest.New(t)
	if err := mariatest.Generate(t.Context(), my.Open(t), mariatest.GenOptions{Rows: rows, AllTypes: true}); err != nil {
		t.Fatal(err)
	}
	// The checks read TIMESTAMP columns in UTC, as weir does.
	cfg := my.Config()
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	conn, err := mysqldriver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mdb := sql.OpenDB(conn)
	t.Cleanup(func() { mdb.Close() })
	pg := pgtest.New(t)
	pool := pg.Pool(t)

	out := mustCopy(t, my.URL(), pg.URL()+"&schema=shop", "--verify")
	for _, want := range []string{"verified:", "foreign keys (validated)", "zero date read as NULL"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	tables := append(append([]string{}, mariatest.GenTables...), "all_types")
	var total int64
	for _, table := range tables {
		total += compareTable(t, mdb, pool, my.Name(), table)
	}
	if total < 1_000_000 && rows >= 1_000_000 {
		t.Errorf("compared %d rows, want over a million", total)
	}

	// Keys, uniques and foreign keys exist and are validated.
	for _, c := range []struct {
		table, kind string
		want        int64
	}{
		{"customers", "p", 1}, {"customers", "u", 1}, {"customers", "f", 1},
		{"orders", "p", 1}, {"orders", "f", 1},
		{"order_items", "p", 1}, {"order_items", "f", 2},
		{"products", "p", 1}, {"events", "p", 0},
	} {
		n := pgInt(t, pool, `SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
			WHERE c.relnamespace = 'shop'::regnamespace AND c.relname = $1 AND k.contype = $2 AND k.convalidated`, c.table, c.kind)
		if n != c.want {
			t.Errorf("table %s: %d validated constraints of kind %q, want %d", c.table, n, c.kind, c.want)
		}
	}
	// The secondary indexes exist (the unique one is counted above).
	for _, ix := range []struct{ table, column string }{{"orders", "customer_id"}, {"order_items", "sku"}, {"events", "at"}} {
		if n := pgInt(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'shop' AND tablename = $1 AND indexdef LIKE '%(' || quote_ident($2) || ')%'`, ix.table, ix.column); n != 1 {
			t.Errorf("index on %s (%s): %d, want 1", ix.table, ix.column, n)
		}
	}
	// AUTO_INCREMENT became an identity whose sequence is past the copied ids.
	for _, table := range []string{"customers", "orders"} {
		var maxID, id int64
		if err := mdb.QueryRow("SELECT MAX(id) FROM " + table).Scan(&maxID); err != nil {
			t.Fatal(err)
		}
		var err error
		switch table {
		case "customers":
			err = pool.QueryRow(t.Context(), `INSERT INTO shop.customers (email, name, created) VALUES ('new@example.org', 'Neu', now()) RETURNING id`).Scan(&id)
		case "orders":
			err = pool.QueryRow(t.Context(), `INSERT INTO shop.orders (customer_id, placed, total) VALUES (1, now(), 1) RETURNING id`).Scan(&id)
		}
		if err != nil || id <= maxID {
			t.Errorf("insert into %s without an id: id %d, %v; want one past %d", table, id, err, maxID)
		}
	}
}

// compareTable compares one table's rows on both sides and returns how
// many there are.
func compareTable(t *testing.T, mdb *sql.DB, pool *pgxpool.Pool, schema, table string) int64 {
	t.Helper()
	colRows, err := mdb.Query(`SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, table)
	if err != nil {
		t.Fatal(err)
	}
	// How each column came out in PostgreSQL decides how to compare it.
	pgTypes := map[string]string{}
	tr, err := pool.Query(t.Context(), `SELECT column_name, udt_name FROM information_schema.columns
		WHERE table_schema = 'shop' AND table_name = $1`, table)
	if err != nil {
		t.Fatal(err)
	}
	for tr.Next() {
		var name, udt string
		if err := tr.Scan(&name, &udt); err != nil {
			t.Fatal(err)
		}
		pgTypes[name] = udt
	}
	tr.Close()
	var my, pgx, floats, jsons []string
	var key string
	for colRows.Next() {
		var name, dataType, colType string
		if err := colRows.Scan(&name, &dataType, &colType); err != nil {
			t.Fatal(err)
		}
		if key == "" {
			key = name
		}
		m, p, kind := canonicalPair(name, dataType, colType, pgTypes[name])
		switch kind {
		case "float":
			floats = append(floats, name)
		case "json":
			jsons = append(jsons, name)
		default:
			my = append(my, "COALESCE("+m+", '\\\\N')")
			pgx = append(pgx, "COALESCE("+p+", '\\N')")
		}
	}
	if err := colRows.Err(); err != nil {
		t.Fatal(err)
	}
	colRows.Close()

	hashBoth := func(my, pgx []string) (n1 int64, h1 [2]uint64, n2 int64, h2 [2]uint64) {
		n1, h1 = multisetHash(t, func(yield func(string)) {
			r, err := mdb.Query("SELECT CONCAT_WS('|', " + strings.Join(my, ", ") + ") FROM `" + table + "`")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var s string
			eachRow(t, r, []any{&s}, func() { yield(s) })
		})
		n2, h2 = multisetHash(t, func(yield func(string)) {
			r, err := pool.Query(t.Context(), "SELECT concat_ws('|', "+strings.Join(pgx, ", ")+") FROM shop."+table)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var s string
			eachRow(t, r, []any{&s}, func() { yield(s) })
		})
		return n1, h1, n2, h2
	}
	n1, h1, n2, h2 := hashBoth(my, pgx)
	if n1 != n2 || h1 != h2 {
		t.Errorf("table %s: MariaDB %d rows (hash %x), PostgreSQL %d (hash %x)", table, n1, h1, n2, h2)
		for i := range my { // name the columns that differ
			if _, h1, _, h2 := hashBoth(my[i:i+1], pgx[i:i+1]); h1 != h2 {
				t.Errorf("table %s: column %s differs", table, pgx[i])
			}
		}
	}
	for _, c := range floats {
		var c1, c2 int64
		var s1, s2 sql.NullFloat64
		if err := mdb.QueryRow(fmt.Sprintf("SELECT COUNT(`%s`), SUM(`%s`) FROM `%s`", c, c, table)).Scan(&c1, &s1); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(%q), sum(%q::float8) FROM shop.%s`, c, c, table)).Scan(&c2, &s2); err != nil {
			t.Fatal(err)
		}
		if c1 != c2 || s1.Valid != s2.Valid || math.Abs(s1.Float64-s2.Float64) > 1e-6*math.Max(1, math.Abs(s1.Float64)) {
			t.Errorf("%s.%s: MariaDB %d values summing to %v, PostgreSQL %d summing to %v", table, c, c1, s1.Float64, c2, s2.Float64)
		}
	}
	for _, c := range jsons {
		query := fmt.Sprintf("SELECT `%s`, `%s` FROM `%s`", key, c, table)
		r1, err := mdb.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		want := jsonByKey(t, r1)
		r1.Close()
		r2, err := pool.Query(t.Context(), fmt.Sprintf(`SELECT %q::text, %q::text FROM shop.%s`, key, c, table))
		if err != nil {
			t.Fatal(err)
		}
		got := jsonByKey(t, r2)
		r2.Close()
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s.%s: JSON values differ (%d in MariaDB, %d in PostgreSQL)", table, c, len(want), len(got))
		}
	}
	return n1
}

// canonicalPair returns a column's canonical text as a MariaDB and a
// PostgreSQL expression, by its MariaDB type and the PostgreSQL type it
// was created with (udt_name), or the kind of comparison made instead: "float"
// (by sum) or "json" (by value).
func canonicalPair(name, dataType, colType, pgType string) (my, pg, kind string) {
	m, p := "`"+name+"`", strconv.Quote(name)
	switch pgType {
	case "float4", "float8":
		return "", "", "float"
	case "jsonb":
		return "", "", "json"
	}
	switch dataType {
	case "tinyint":
		if colType == "tinyint(1)" {
			return "CASE WHEN " + m + " IS NULL THEN NULL WHEN " + m + " <> 0 THEN 'true' ELSE 'false' END", p + "::text", ""
		}
	case "binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob":
		return "HEX(" + m + ")", "upper(encode(" + p + ", 'hex'))", ""
	case "date":
		return "CASE WHEN MONTH(" + m + ") = 0 OR DAYOFMONTH(" + m + ") = 0 THEN NULL ELSE DATE_FORMAT(" + m + ", '%Y-%m-%d') END",
			"to_char(" + p + ", 'YYYY-MM-DD')", ""
	case "datetime", "timestamp":
		if dataType == "timestamp" { // timestamptz: both sides in UTC
			p += " AT TIME ZONE 'UTC'"
		}
		return "CASE WHEN MONTH(" + m + ") = 0 OR DAYOFMONTH(" + m + ") = 0 THEN NULL ELSE DATE_FORMAT(" + m + ", '%Y-%m-%d %H:%i:%s.%f') END",
			"to_char(" + p + ", 'YYYY-MM-DD HH24:MI:SS.US')", ""
	case "time":
		return "CAST(TIME_TO_SEC(" + m + ") AS DECIMAL(20,6))", "extract(epoch from " + p + ")::numeric(20,6)::text", ""
	case "year":
		return "CAST(" + m + " + 0 AS CHAR)", p + "::text", ""
	case "bit":
		n := strings.TrimSuffix(strings.TrimPrefix(colType, "bit("), ")")
		return "LPAD(BIN(" + m + "), " + n + ", '0')", p + "::text", ""
	case "enum":
		return "NULLIF(" + m + ", '')", p, ""
	}
	return "CAST(" + m + " AS CHAR)", p + "::text", ""
}

// multisetHash hashes the lines rows yields independently of their order
// (the sum of their md5s), and counts them.
func multisetHash(t *testing.T, rows func(yield func(string))) (int64, [2]uint64) {
	t.Helper()
	var n int64
	var h [2]uint64
	rows(func(s string) {
		sum := md5.Sum([]byte(s))
		h[0] += binary.LittleEndian.Uint64(sum[:8])
		h[1] += binary.LittleEndian.Uint64(sum[8:])
		n++
	})
	return n, h
}

// eachRow scans every row of rows into dest and calls fn after each.
func eachRow(t *testing.T, rows rowScanner, dest []any, fn func()) {
	t.Helper()
	err := scanRows(rows, func(scan func(...any) error) error {
		if err := scan(dest...); err != nil {
			return err
		}
		fn()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// jsonByKey decodes the second column of rows as JSON, by the first.
func jsonByKey(t *testing.T, rows rowScanner) map[string]any {
	t.Helper()
	out := map[string]any{}
	var k string
	var v sql.NullString
	eachRow(t, rows, []any{&k, &v}, func() { out[k] = decodeJSON(t, v) })
	return out
}

func decodeJSON(t *testing.T, v sql.NullString) any {
	t.Helper()
	if !v.Valid {
		return nil
	}
	var x any
	if err := json.Unmarshal([]byte(v.String), &x); err != nil {
		t.Fatalf("JSON %q: %v", v.String, err)
	}
	return x
}
