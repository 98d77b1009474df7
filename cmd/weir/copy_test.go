package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/internal/pgtest"
)

// messyCSV has what real files have: a BOM, CRLF line ends, a quoted
// newline, NULL (unquoted empty) next to the empty string (quoted empty),
// Unicode, zip codes with leading zeros, and a long field.
func messyCSV(long string) string {
	return "\ufeffid,zip,name,amount,active,born,seen,note\r\n" +
		"1,02134,Zoë,12.50,true,1990-01-31,2024-05-01 10:00:00,\"line one\r\nline two\"\r\n" +
		"2,10001,\"Smith, J\",7,false,,2024-05-02T11:30:00.5,\"\"\r\n" +
		"3,00501,日本語,-0.25,TRUE,2000-02-29,,\r\n" +
		"4,99950,\"say \"\"hi\"\"\",100,false,1970-01-01,2024-05-04 00:00:00," + long + "\r\n"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustCopy(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := weirCmd(t, append([]string{"copy"}, append(args, "--progress", "off")...)...)
	if code != exitOK {
		t.Fatalf("weir copy %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
	}
	return out
}

func TestCopyMessyCSVIntoSQLite(t *testing.T) {
	checkLeaks(t)
	long := strings.Repeat("é", 500_000) // a 1 MB field
	src := writeFile(t, "people.csv", messyCSV(long))
	db := filepath.Join(t.TempDir(), "out.db")
	out := mustCopy(t, src, "sqlite:"+db)
	if !strings.Contains(out, "loaded 4 rows") || !strings.Contains(out, "created sqlite:") {
		t.Errorf("output:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	types := columnTypes(t, h, "people")
	// zip keeps its leading zeros as text; amount is exact.
	for col, want := range map[string]string{"id": "INT", "zip": "TEXT", "name": "TEXT", "amount": "NUMERIC", "note": "TEXT"} {
		if !strings.Contains(types[col], want) {
			t.Errorf("column %s has type %q, want one containing %q (all: %v)", col, types[col], want, types)
		}
	}
	var zip, name string
	var note sql.NullString
	var born sql.NullString
	check := func(id int, wantZip, wantName string, wantNote *string) {
		t.Helper()
		if err := h.QueryRow(`SELECT zip, name, note, CAST(born AS TEXT) FROM people WHERE id = ?`, id).Scan(&zip, &name, &note, &born); err != nil {
			t.Fatal(err)
		}
		if zip != wantZip || name != wantName {
			t.Errorf("row %d: zip %q name %q, want %q %q", id, zip, name, wantZip, wantName)
		}
		switch {
		case wantNote == nil && note.Valid:
			t.Errorf("row %d: note %q, want NULL", id, note.String)
		case wantNote != nil && (!note.Valid || note.String != *wantNote):
			t.Errorf("row %d: note %v (%d bytes), want %d bytes", id, note.Valid, len(note.String), len(*wantNote))
		}
	}
	two, empty := "line one\r\nline two", ""
	check(1, "02134", "Zoë", &two)
	check(2, "10001", "Smith, J", &empty) // quoted empty: the empty string
	check(3, "00501", "日本語", nil)         // unquoted empty: NULL
	check(4, "99950", `say "hi"`, &long)
	if born.String != "1970-01-01" {
		t.Errorf("born %q", born.String)
	}

	// The same copy again is refused, changing nothing; append doubles on
	// purpose; truncate starts over.
	if code, _, errOut := weirCmd(t, "copy", src, "sqlite:"+db); code != exitUsage || !strings.Contains(errOut, "already holds 4 rows") {
		t.Errorf("second copy: exit %d, stderr %q", code, errOut)
	}
	mustCopy(t, src, "sqlite:"+db+"?table=people", "--if-exists", "append")
	mustCopy(t, src, "sqlite:"+db, "--if-exists", "truncate")
	var n int
	if err := h.QueryRow(`SELECT count(*) FROM people`).Scan(&n); err != nil || n != 4 {
		t.Errorf("after truncate: %d rows (%v), want 4", n, err)
	}
}

func TestCopyJSONArrayIntoPostgres(t *testing.T) {
	pg := pgtest.New(t)
	checkLeaks(t)
	src := writeFile(t, "events.json", `[
  {"id": 1, "kind": "click", "score": 1, "tags": ["a", "b"], "meta": {"x": 1}, "when": "2024-01-02T03:04:05Z"},
  {"id": 2, "kind": null, "score": 2.5, "tags": [], "meta": {"y": [1, 2]}, "when": "2024-01-02T03:04:05.123+02:00"},
  {"id": 3, "kind": "view", "score": 3, "meta": null, "when": null, "extra": "x"}
]`)
	mustCopy(t, src, pg.URL())
	pool := pg.Pool(t)
	ctx := context.Background()
	var kinds, tags, meta string
	if err := pool.QueryRow(ctx, `SELECT string_agg(coalesce(kind, 'NULL'), ',' ORDER BY id), string_agg(coalesce(tags::text, 'NULL'), ';' ORDER BY id), string_agg(coalesce(meta->>'x', '-'), ',' ORDER BY id) FROM events`).Scan(&kinds, &tags, &meta); err != nil {
		t.Fatal(err)
	}
	if kinds != "click,NULL,view" || tags != `["a", "b"];[];NULL` || meta != "1,-,-" {
		t.Errorf("kinds %q tags %q meta %q", kinds, tags, meta)
	}
	var scoreType, whenType string
	if err := pool.QueryRow(ctx, `SELECT format_type(a.atttypid, a.atttypmod), format_type(b.atttypid, b.atttypmod) FROM pg_attribute a, pg_attribute b
		WHERE a.attrelid = 'events'::regclass AND a.attname = 'score' AND b.attrelid = 'events'::regclass AND b.attname = 'when'`).Scan(&scoreType, &whenType); err != nil {
		t.Fatal(err)
	}
	if scoreType != "numeric" || !strings.HasPrefix(whenType, "timestamp") || !strings.Contains(whenType, "with time zone") {
		t.Errorf("score is %s, when is %s", scoreType, whenType)
	}

	// And back out: a PostgreSQL table to CSV, which reads back the same.
	out := filepath.Join(t.TempDir(), "events.csv")
	mustCopy(t, pg.URL()+"&table=events", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 4 {
		t.Errorf("events.csv has %d lines, want a header and 3 rows:\n%s", lines, b)
	}
	mustCopy(t, out, pg.URL()+"&table=events_again")
	var same bool
	if err := pool.QueryRow(ctx, `SELECT (SELECT array_agg(e ORDER BY id)::text FROM events e) = (SELECT array_agg(e ORDER BY id)::text FROM events_again e)`).Scan(&same); err != nil || !same {
		t.Errorf("events → CSV → events_again changed the rows (%v)", err)
	}
}

// TestCopyValueThatDoesNotFitNamesLineAndColumn: integers that turn into
// decimals after the sample fail the run naming the line and column, or,
// under --on-error skip, go to the reject file with their line.
func TestCopyValueThatDoesNotFitNamesLineAndColumn(t *testing.T) {
	checkLeaks(t)
	var b strings.Builder
	b.WriteString("id,qty\n")
	for i := 1; i <= 50; i++ {
		qty := fmt.Sprint(i)
		if i == 40 {
			qty = "4.5"
		}
		fmt.Fprintf(&b, "%d,%s\n", i, qty)
	}
	src := writeFile(t, "orders.csv", b.String())
	db := filepath.Join(t.TempDir(), "o.db")
	code, out, errOut := weirCmd(t, "copy", src, "sqlite:"+db, "--sample", "10", "--progress", "off")
	if code != exitFailed || !strings.Contains(errOut, "orders.csv:41") || !strings.Contains(errOut, `"qty"`) {
		t.Fatalf("exit %d, want %d naming orders.csv:41 and qty\nstdout:\n%s\nstderr:\n%s", code, exitFailed, out, errOut)
	}
	reject := filepath.Join(t.TempDir(), "rejects.jsonl")
	out = mustCopy(t, src, "sqlite:"+db, "--sample", "10", "--on-error", "skip", "--reject", reject, "--if-exists", "truncate")
	if !strings.Contains(out, "loaded 49 rows") || !strings.Contains(out, "rejected 1 records") {
		t.Errorf("output:\n%s", out)
	}
	lines := readLines(t, reject)
	if len(lines) != 1 || !strings.Contains(lines[0], `"line":41`) || !strings.Contains(lines[0], "qty") {
		t.Errorf("reject file: %q", lines)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if !json.Valid(s.Bytes()) {
			t.Errorf("%s: not JSON: %s", path, s.Bytes())
		}
		out = append(out, s.Text())
	}
	return out
}

// TestCopyRefusesBadInputWithoutWriting: every problem that can be found
// before a row moves exits 2 and leaves the target as it was.
func TestCopyRefusesBadInputWithoutWriting(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	src := writeFile(t, "a.csv", "id,name\n1,x\n")
	db := filepath.Join(dir, "t.db")
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Exec(`CREATE TABLE other (id INTEGER, nom TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{src}, "SOURCE and TARGET"},
		{[]string{filepath.Join(dir, "missing.csv"), "sqlite:" + db}, "missing.csv"},
		{[]string{src, "sqlite:" + db + "?table=other"}, `has no column "name"`},
		{[]string{src, "sqlite:" + db, "--key", "nope"}, `no column "nope"`},
		{[]string{src, "sqlite:" + db, "--if-exists", "sometimes"}, "--if-exists"},
		{[]string{"-", "sqlite:" + db}, "--format"},
		{[]string{src, "ftp://x/y"}, "unknown scheme"},
		{[]string{"mysql://u:pw@127.0.0.1:1/db?table=t", "out.csv"}, "copies into postgres:// only"},
		{[]string{src, "sqlite:" + db, "--batch", "-5"}, "--batch must be"},
		{[]string{src, "sqlite:" + db, "--workers", "-1"}, "--workers must be"},
		{[]string{src, "sqlite:" + db, "--reject", "r.jsonl"}, "--on-error skip"},
		{[]string{src, "sqlite:" + db, "--schema", writeFile(t, "s.yaml", "colums:\n  - {name: id, type: bigint}\n")}, `s.yaml:1:1: unknown field "colums" (did you mean "columns"?)`},
		{[]string{src, "sqlite:" + db, "--schema", writeFile(t, "s2.yaml", "columns:\n  - {name: id, type: bigintt}\n")}, "s2.yaml:2:"},
	} {
		code, _, errOut := weirCmd(t, append([]string{"copy"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("copy %q: exit %d, stderr %q; want %d mentioning %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
	var tables int
	if err := h.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name <> 'other'`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("the refused copies left %d tables behind (%v)", tables, err)
	}
}

func TestCopyNeverPrintsPasswords(t *testing.T) {
	src := writeFile(t, "a.csv", "id\n1\n")
	for _, target := range []string{
		"postgres://weir:s3cretpw@127.0.0.1:1/db?table=t",
		"postgres://weir@127.0.0.1:1/db?password=s3cretpw&table=t",
	} {
		code, out, errOut := weirCmd(t, "copy", src, target, "--progress", "off")
		if code != exitUsage || strings.Contains(out+errOut, "s3cretpw") || !strings.Contains(errOut, "cannot reach") {
			t.Errorf("copy to %s: exit %d, output:\n%s%s", target, code, out, errOut)
		}
	}
	// Targets weir cannot even recognise, and a password with an
	// unencoded '@' that the driver splits: still masked.
	for _, target := range []string{
		"host=127.0.0.1 port=1 user=u password=s3cretpw dbname=app",
		"postgres//weir:s3cretpw@127.0.0.1:1/db",
		"postgres://weir:xy@s3cretpw@127.0.0.1:1/db?table=t",
	} {
		code, out, errOut := weirCmd(t, "copy", src, target, "--progress", "off")
		if code != exitUsage || strings.Contains(out+errOut, "s3cretpw") {
			t.Errorf("copy to %s: exit %d, output:\n%s%s", target, code, out, errOut)
		}
	}
}

// TestCopyResumeWithKeyDoublesNothing: a copy with --key killed half way
// (here: stopped by --max-errors) and resumed loads every row once.
func TestCopyResumeWithKeyDoublesNothing(t *testing.T) {
	checkLeaks(t)
	var b strings.Builder
	b.WriteString("id,v\n")
	for i := 1; i <= 5000; i++ {
		fmt.Fprintf(&b, "%d,%d\n", i, i*i)
	}
	src := writeFile(t, "sq.csv", b.String())
	db := filepath.Join(t.TempDir(), "sq.db")
	mustCopy(t, src, "sqlite:"+db, "--key", "id", "--batch", "100")
	out := mustCopy(t, src, "sqlite:"+db, "--key", "id", "--batch", "100", "--resume")
	if !strings.Contains(out, "loaded 0 rows") {
		t.Errorf("a resumed finished copy loaded rows again:\n%s", out)
	}
	// A run that is not a --resume starts from the beginning, whatever an
	// earlier run saved: after emptying the table, it loads every row.
	out = mustCopy(t, src, "sqlite:"+db, "--key", "id", "--batch", "100", "--if-exists", "truncate")
	if !strings.Contains(out, "loaded 5000 rows") {
		t.Errorf("a copy that starts over after --if-exists truncate:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n, s int64
	if err := h.QueryRow(`SELECT count(*), sum(v) FROM sq`).Scan(&n, &s); err != nil || n != 5000 {
		t.Errorf("%d rows (%v), want 5000", n, err)
	}
}

// TestCopyFromStandardInput: "-" reads standard input in the --format
// given, into a table named stdin unless TARGET names one.
func TestCopyFromStandardInput(t *testing.T) {
	in, err := os.Open(writeFile(t, "in.jsonl", "{\"id\": 1, \"v\": \"a\"}\n{\"id\": 2, \"v\": null}\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	old := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = old }()
	db := filepath.Join(t.TempDir(), "s.db")
	out := mustCopy(t, "-", "sqlite:"+db+"?table=piped", "--format", "jsonl")
	if !strings.Contains(out, "loaded 2 rows") {
		t.Errorf("output:\n%s", out)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n int
	if err := h.QueryRow(`SELECT count(*) FROM piped WHERE v IS NULL AND id = 2`).Scan(&n); err != nil || n != 1 {
		t.Errorf("row 2: %d (%v)", n, err)
	}
}

// TestCopyResumeIntoPostgresWithoutAKey: without --key, --resume loads each
// batch and its checkpoint in one transaction, so a second --resume of a
// finished copy loads nothing and the table holds every row once.
func TestCopyResumeIntoPostgresWithoutAKey(t *testing.T) {
	pg := pgtest.New(t)
	checkLeaks(t)
	var b strings.Builder
	b.WriteString("n,sq\n")
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "%d,%d\n", i, i*i)
	}
	src := writeFile(t, "sq.csv", b.String())
	out := mustCopy(t, src, pg.URL()+"&table=sq", "--resume", "--batch", "250")
	if !strings.Contains(out, "loaded 3000 rows") {
		t.Fatalf("first run:\n%s", out)
	}
	out = mustCopy(t, src, pg.URL()+"&table=sq", "--resume", "--batch", "250")
	if !strings.Contains(out, "resuming after position") || !strings.Contains(out, "loaded 0 rows") {
		t.Errorf("second --resume:\n%s", out)
	}
	var n, distinct int
	if err := pg.Pool(t).QueryRow(context.Background(), `SELECT count(*), count(DISTINCT n) FROM sq`).Scan(&n, &distinct); err != nil || n != 3000 || distinct != 3000 {
		t.Errorf("%d rows, %d distinct (%v); want 3000 of each", n, distinct, err)
	}
}

// TestCopyToAMissingDatabaseSaysSo: a server that answers with an error
// was reached; the message is the server's, not "cannot reach".
func TestCopyToAMissingDatabaseSaysSo(t *testing.T) {
	pg := pgtest.New(t)
	u, err := url.Parse(pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_db"
	code, _, errOut := weirCmd(t, "copy", writeFile(t, "a.csv", "id\n1\n"), u.String(), "--progress", "off")
	if code != exitUsage || !strings.Contains(errOut, `refused the connection: database "no_such_db" does not exist (SQLSTATE 3D000)`) {
		t.Errorf("exit %d, stderr %s; want %d and the server's reason alone", code, errOut, exitUsage)
	}
}

// TestCopyResumeWithoutACheckpointRefuses: a table loaded by a copy that
// saved no positions (no --resume, no --key) cannot be "continued": that
// would load every row again. --resume refuses, naming the way out, and
// leaves the table as it was.
func TestCopyResumeWithoutACheckpointRefuses(t *testing.T) {
	pg := pgtest.New(t)
	src := writeFile(t, "few.csv", "n\n1\n2\n3\n")
	mustCopy(t, src, pg.URL()+"&table=few")
	code, _, errOut := weirCmd(t, "copy", src, pg.URL()+"&table=few", "--resume", "--progress", "off")
	if code != exitUsage || !strings.Contains(errOut, "no checkpoint of this copy") || !strings.Contains(errOut, "--if-exists truncate") {
		t.Errorf("--resume after a run without checkpoints: exit %d, stderr %s; want %d naming the missing checkpoint", code, errOut, exitUsage)
	}
	var n int
	if err := pg.Pool(t).QueryRow(context.Background(), `SELECT count(*) FROM few`).Scan(&n); err != nil || n != 3 {
		t.Errorf("few holds %d rows (%v), want the 3 of the first run", n, err)
	}
}

// TestCopyWithASchemaFile: --schema declares the columns' types and the
// key, instead of inferring them; the key makes the load an upsert, so a
// second run changes nothing.
func TestCopyWithASchemaFile(t *testing.T) {
	checkLeaks(t)
	schemaFile := writeFile(t, "zip.yaml", `columns:
  - {name: zip, type: text}
  - {name: city, type: text}
  - {name: state, type: text}
  - {name: population, type: bigint}
  - {name: lat, type: double}
  - {name: lon, type: double}
  - {name: incorporated, type: text}
key: [zip]
`)
	db := filepath.Join(t.TempDir(), "z.db")
	for range 2 {
		mustCopy(t, "../../examples/data/zipcodes.csv", "sqlite:"+db, "--schema", schemaFile, "--if-exists", "append")
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n int
	var latType, pk string
	if err := h.QueryRow(`SELECT count(*), (SELECT type FROM pragma_table_info('zipcodes') WHERE name = 'lat'), (SELECT name FROM pragma_table_info('zipcodes') WHERE pk = 1) FROM zipcodes`).Scan(&n, &latType, &pk); err != nil {
		t.Fatal(err)
	}
	if n != 5 || latType != "REAL" || pk != "zip" {
		t.Errorf("%d rows, lat %s, key %q; want 5 rows (upserted twice), REAL, zip", n, latType, pk)
	}
}

// columnTypes returns the declared type of each column of an SQLite table,
// in upper case.
func columnTypes(t *testing.T, h *sql.DB, table string) map[string]string {
	t.Helper()
	rows, err := h.Query(`SELECT name, type FROM pragma_table_info(?)`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var n, ty string
		if err := rows.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		types[n] = strings.ToUpper(ty)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return types
}
