package main

import (
	"bufio"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/internal/pgtest"
)

// shopDDL is a SQLite database with what a whole-database copy must carry:
// an INTEGER PRIMARY KEY (identity), every affinity, a unique column, a
// self-reference, a composite key, a composite foreign key to it, a
// secondary index, a table without a key, and a table big enough to be
// split into ranges (filled by fillShop).
const shopDDL = `
CREATE TABLE users (
	id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name VARCHAR(40), score REAL,
	balance DECIMAL(10,2) DEFAULT 0, active BOOLEAN DEFAULT 1, born DATE, seen DATETIME,
	meta JSON, avatar BLOB, boss INTEGER REFERENCES users(id), qty INTEGER, note CLOB);
CREATE TABLE orders (user_id INTEGER NOT NULL REFERENCES users(id), n INTEGER NOT NULL, total NUMERIC,
	PRIMARY KEY (user_id, n));
CREATE TABLE lines (user_id INTEGER, n INTEGER, sku TEXT,
	FOREIGN KEY (user_id, n) REFERENCES orders(user_id, n) ON DELETE CASCADE);
CREATE INDEX lines_sku ON lines(sku);
CREATE TABLE logs (msg TEXT, at TIMESTAMP, n INTEGER);
CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, label TEXT);
`

// misfitID is the rowid of the log whose n is the text 'lots' in an
// INTEGER column (a table nothing references, so that skipping the row
// leaves no orphan).
const misfitID = 7

func makeShop(t *testing.T, bigRows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlite.Exec(t.Context(), db, shopDDL); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		var boss, n any = nil, i * 3
		if i > 1 {
			boss = (i + 1) / 2
		}
		if i == misfitID {
			n = "lots"
		}
		if _, err := tx.Exec(`INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			i, fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("Zoë %d", i), float64(i)/4, float64(i)+0.25, i%2,
			fmt.Sprintf("1990-01-%02d", i), fmt.Sprintf("2024-05-01 10:%02d:00.5", i), fmt.Sprintf(`{"n": %d, "tags": ["a"]}`, i),
			[]byte{0, byte(i), 255}, boss, i, strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 3; n++ {
			if _, err := tx.Exec(`INSERT INTO orders VALUES (?, ?, ?)`, i, n, fmt.Sprintf("%d.5", i*n)); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`INSERT INTO lines VALUES (?, ?, ?)`, i, n, fmt.Sprintf("sku-%d", n)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.Exec(`INSERT INTO logs VALUES (?, ?, ?)`, fmt.Sprintf("event %d", i), nil, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO big SELECT i, i * 7, 'row ' || i FROM s`, bigRows); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

// canon is a value's canonical text, the same for a value as SQLite and
// as PostgreSQL return it: numbers (numeric too) in Go's shortest form,
// booleans as 1/0, times as UTC text, bytes as hex, JSON re-encoded.
func canon(v any, json_ bool) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return hex.EncodeToString(x)
	case pgtype.Numeric:
		f, _ := x.Float64Value()
		return canon(f.Float64, false)
	case string:
		if !json_ {
			return x
		}
		var d any
		if err := json.Unmarshal([]byte(x), &d); err != nil {
			return "bad json " + x
		}
		return canon(d, false)
	}
	b, _ := json.Marshal(v) // jsonb as pgx decodes it
	return string(b)
}

// checksum returns the row count and an md5 over the sorted canonical
// rows of a query's result: jsonCols are re-encoded.
func checksum(t *testing.T, rows interface {
	Next() bool
	Err() error
}, scan func() ([]any, error), jsonCols ...int) (int, string) {
	t.Helper()
	var lines []string
	for rows.Next() {
		vals, err := scan()
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = canon(v, slices.Contains(jsonCols, i))
		}
		lines = append(lines, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	sum := md5.Sum([]byte(strings.Join(lines, "\n")))
	return len(lines), hex.EncodeToString(sum[:])
}

func sqliteSum(t *testing.T, db *sql.DB, query string, jsonCols ...int) (int, string) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	return checksum(t, rows, func() ([]any, error) {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		return vals, rows.Scan(ptrs...)
	}, jsonCols...)
}

func pgSum(t *testing.T, pool *pgxpool.Pool, query string, jsonCols ...int) (int, string) {
	t.Helper()
	rows, err := pool.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	return checksum(t, rows, rows.Values, jsonCols...)
}

func pgInt(t *testing.T, pool *pgxpool.Pool, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestCopyDatabaseFromSQLite(t *testing.T) {
	checkLeaks(t)
	src := makeShop(t, 120_000) // big: 2 ranges of more than 50,000 rowids
	pg := pgtest.New(t)
	pool := pg.Pool(t)
	rej := filepath.Join(t.TempDir(), "rejects.jsonl")
	out := mustCopy(t, "sqlite:"+src, pg.URL()+"&schema=shop", "--on-error", "skip", "--reject", rej, "--verify", "--batch", "500", "--workers", "3")
	for _, want := range []string{"verified:", "bottleneck:", "foreign keys (validated)", "rejected 1 records"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	h, err := sqlite.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	userCols := "id, email, name, score, balance, active, born, seen, meta, avatar, boss, qty, note"
	for _, c := range []struct {
		table, cols, where string
		json               []int
	}{
		{"users", userCols, "", []int{8}},
		{"orders", "user_id, n, total", "", nil},
		{"lines", "user_id, n, sku", "", nil},
		{"logs", "msg, at, n", fmt.Sprintf(" WHERE rowid <> %d", misfitID), nil},
		{"big", "id, v, label", "", nil},
	} {
		n1, s1 := sqliteSum(t, h, "SELECT "+c.cols+" FROM "+c.table+c.where, c.json...)
		n2, s2 := pgSum(t, pool, "SELECT "+c.cols+" FROM shop."+c.table, c.json...)
		if n1 != n2 || s1 != s2 {
			t.Errorf("table %s: SQLite has %d rows (md5 %s), PostgreSQL %d (md5 %s)", c.table, n1, s1, n2, s2)
		}
	}

	// Keys, uniques and foreign keys exist and are validated; the index too.
	for _, c := range []struct {
		table, kind string
		want        int64
	}{{"users", "p", 1}, {"users", "u", 1}, {"users", "f", 1}, {"orders", "p", 1}, {"orders", "f", 1}, {"lines", "f", 1}, {"big", "p", 1}, {"logs", "p", 0}} {
		n := pgInt(t, pool, `SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
			WHERE c.relnamespace = 'shop'::regnamespace AND c.relname = $1 AND k.contype = $2 AND k.convalidated`, c.table, c.kind)
		if n != c.want {
			t.Errorf("table %s: %d validated constraints of kind %s, want %d", c.table, n, c.kind, c.want)
		}
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'shop' AND indexname = 'lines_sku'`); n != 1 {
		t.Errorf("index lines_sku: %d, want 1", n)
	}
	// The identity's sequence is past the copied ids.
	var id int64
	if err := pool.QueryRow(t.Context(), `INSERT INTO shop.users (email) VALUES ('new@example.com') RETURNING id`).Scan(&id); err != nil || id != 21 {
		t.Errorf("insert without id: id %d, %v; want 21", id, err)
	}
	if err := pool.QueryRow(t.Context(), `INSERT INTO shop.big (v) VALUES (1) RETURNING id`).Scan(&id); err != nil || id != 120_001 {
		t.Errorf("insert into big without id: id %d, %v; want 120001", id, err)
	}
	// The misfit is in the reject file with its table and rowid.
	f, err := os.Open(rej)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rejects []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rejects = append(rejects, r)
	}
	if len(rejects) != 1 || rejects[0]["source"] != fmt.Sprintf("logs:%d", misfitID) ||
		!strings.Contains(fmt.Sprint(rejects[0]["error"]), `column "n"`) || !strings.Contains(fmt.Sprint(rejects[0]["record"]), `"lots"`) {
		t.Errorf("rejects = %v, want the one log %d with its n", rejects, misfitID)
	}

	// Again, without --if-exists: refused, nothing touched.
	code, _, errOut := weirCmd(t, "copy", "sqlite:"+src, pg.URL()+"&schema=shop", "--progress", "off")
	if code != exitUsage || !strings.Contains(errOut, "already exists") {
		t.Errorf("second run: exit %d, stderr %s; want exit 2 naming a table that exists", code, errOut)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM shop.users`); n != 21 {
		t.Errorf("users holds %d rows after the refused run, want 21 (20 copied, 1 inserted)", n)
	}
}

func TestCopyDatabaseSchemaOnlyThenDataOnly(t *testing.T) {
	src := makeShop(t, 10)
	pg := pgtest.New(t)
	pool := pg.Pool(t)
	// users and orders, not lines (nor logs, big): the include globs pick,
	// the exclude removes.
	mustCopy(t, "sqlite:"+src, pg.URL()+"&schema=s1", "--schema-only", "--include", "u*,orders", "--include", "lines", "--exclude", "lin*")
	tables := pgInt(t, pool, `SELECT count(*) FROM pg_tables WHERE schemaname = 's1'`)
	if tables != 2 {
		t.Errorf("schema s1 has %d tables, want users and orders", tables)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM s1.users`) + pgInt(t, pool, `SELECT count(*) FROM s1.orders`); n != 0 {
		t.Errorf("--schema-only copied %d rows", n)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM pg_constraint WHERE connamespace = 's1'::regnamespace AND contype = 'f' AND convalidated`); n != 2 {
		t.Errorf("%d validated foreign keys, want 2 (users.boss, orders.user_id)", n)
	}
	// Data only into the tables just made (their keys in place).
	out := mustCopy(t, "sqlite:"+src, pg.URL()+"&schema=s1", "--data-only", "--include", "users", "--verify")
	if !strings.Contains(out, "verified:") {
		t.Errorf("output:\n%s", out)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM s1.users`); n != 20 {
		t.Errorf("--data-only loaded %d users, want 20", n)
	}
	// --data-only into a schema without the tables: refused.
	if code, _, errOut := weirCmd(t, "copy", "sqlite:"+src, pg.URL()+"&schema=nothing", "--data-only", "--progress", "off"); code != exitUsage || !strings.Contains(errOut, "does not exist") {
		t.Errorf("--data-only into an empty schema: exit %d, %s", code, errOut)
	}
}

func TestCopyDatabaseFailures(t *testing.T) {
	src := makeShop(t, 10)
	pg := pgtest.New(t)
	pool := pg.Pool(t)

	// The misfit without --on-error skip fails the run, naming it.
	code, out, errOut := weirCmd(t, "copy", "sqlite:"+src, pg.URL()+"&schema=a", "--progress", "off")
	if code != exitFailed || !strings.Contains(errOut, fmt.Sprintf("logs rowid %d", misfitID)) || !strings.Contains(errOut, `column "n"`) {
		t.Errorf("misfit without skip: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	// An orphan line (foreign keys are off in a plain SQLite connection)
	// fails the foreign key's validation, which names it.
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO lines VALUES (99, 1, 'orphan'); UPDATE logs SET n = 0 WHERE rowid = ?`, misfitID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut = weirCmd(t, "copy", "sqlite:"+src, pg.URL()+"&schema=b", "--progress", "off")
	if code != exitFailed || !strings.Contains(errOut, "lines_user_id_n_fkey") || !strings.Contains(errOut, "(99, 1)") {
		t.Errorf("orphan row: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM b.lines`); n != 61 {
		t.Errorf("b.lines holds %d rows, want all 61 loaded before the keys", n)
	}

	// Usage errors write nothing.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sqlite:" + src, pg.URL() + "&schema=c", "--include", "nope*"}, `"nope*" matches no table`},
		{[]string{"sqlite:" + src, pg.URL() + "&schema=c", "--schema-only", "--data-only"}, "pick one"},
		{[]string{"sqlite:" + src, filepath.Join(t.TempDir(), "x.csv")}, "into PostgreSQL"},
		{[]string{"sqlite:" + src + "?table=nope", pg.URL() + "&schema=c"}, `no table "nope"`},
		{[]string{"sqlite:" + src + "?table=users", pg.URL() + "&schema=c", "--include", "x"}, "--include"},
	} {
		code, _, errOut := weirCmd(t, append([]string{"copy", "--progress", "off"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("weir copy %q: exit %d, stderr %s; want exit 2 with %q", c.args, code, errOut, c.want)
		}
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM pg_namespace WHERE nspname = 'c'`); n != 0 {
		t.Errorf("a refused copy created schema c")
	}

	// ?table=T copies one table through the same mapping.
	mustCopy(t, "sqlite:"+src+"?table=big", pg.URL()+"&schema=c")
	if n := pgInt(t, pool, `SELECT count(*) FROM c.big`); n != 10 {
		t.Errorf("?table=big copied %d rows, want 10", n)
	}
	if n := pgInt(t, pool, `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'c' AND table_name = 'big' AND column_name = 'id' AND is_identity = 'YES'`); n != 1 {
		t.Errorf("?table=big: id is not an identity")
	}
}
