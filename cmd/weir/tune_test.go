package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/weir-etl/weir/connect/sqlite"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir/internal/pgtest"
)

// tuneArgs keep the tests' searches small: 2 × 2 × (1 or 2) cells.
var tuneArgs = []string{"--sample", "1500", "--batches", "100,500", "--worker-counts", "1,2"}

// writeTuneCSV writes n records (id, name, score) to dir/d.csv; with dup,
// every id appears twice, which a table keyed on id refuses.
func writeTuneCSV(t *testing.T, dir string, n int, dup bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,name,score\n")
	for i := range n {
		id := i
		if dup {
			id = i / 2
		}
		fmt.Fprintf(&b, "%d,name %d,%d.5\n", id, i, i%100)
	}
	path := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeTuneJob writes a job loading the CSV into table t keyed on id.
func writeTuneJob(t *testing.T, dir, target string) string {
	t.Helper()
	job := fmt.Sprintf(`source: d.csv
target: %s
tables:
  - name: t
    key: [id]
    columns:
      id: bigint
      label: {type: text, expr: 'upper(name) + "/" + score'}
`, target)
	path := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(path, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var recommended = regexp.MustCompile(`recommended: (--batch \d+ --workers \d+ --load-concurrency \d+)`)

// checkRecommendation asserts tune printed flags that weir copy's own
// parser takes, with values from the searched space.
func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"data.csv":                     "data.csv",
		"postgres://u:xxxxx@h:5432/db": "postgres://u:xxxxx@h:5432/db",
		"postgres://h/db?table=t&x=1":  "'postgres://h/db?table=t&x=1'",
		"my file.csv":                  "'my file.csv'",
		"it's.csv":                     `'it'\''s.csv'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func checkRecommendation(t *testing.T, out string) {
	t.Helper()
	m := recommended.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no recommendation in:\n%s", out)
	}
	f, err := parseCopyFlags(append([]string{"a.csv", "sqlite:b.db"}, strings.Fields(m[1])...), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("copy does not parse %q: %v", m[1], err)
	}
	if (f.batch != 100 && f.batch != 500) || (f.workers != 1 && f.workers != 2) {
		t.Errorf("recommended %q is outside the searched space", m[1])
	}
	if !strings.Contains(out, "options:\n  batch: ") || !strings.Contains(out, "bottleneck: ") {
		t.Errorf("no job-file snippet or bottleneck in:\n%s", out)
	}
}

// scratchFiles lists what tune may leave in dir or in the temporary
// directory.
func scratchFiles(t *testing.T, dirs ...string) []string {
	t.Helper()
	var left []string
	for _, dir := range dirs {
		for _, pat := range []string{".weir-tune-*", "weir-tune-*"} {
			m, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				t.Fatal(err)
			}
			left = append(left, m...)
		}
	}
	return left
}

func scratchSchemas(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'weir_tune_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestTuneCopyIntoSQLite(t *testing.T) {
	checkLeaks(t)
	dir, tmp := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	src := writeTuneCSV(t, dir, 3000, false)
	db := filepath.Join(dir, "out.db")
	chart := filepath.Join(dir, "tune.png")
	code, out, errOut := weirCmd(t, append([]string{"tune", src, "sqlite:" + db, "--chart", chart}, tuneArgs...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	checkRecommendation(t, out)
	if !strings.Contains(out, "1,500 records in memory") || !strings.Contains(out, "--load-concurrency 1") {
		t.Errorf("sample or SQLite's single loader missing:\n%s", out)
	}
	if !strings.Contains(out, "only 1,500 records: trials this short measure start-up") {
		t.Errorf("no warning that 1,500 records are too few to measure:\n%s", out)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tune touched the real target %s: %v", db, err)
	}
	if st, err := os.Stat(chart); err != nil || st.Size() == 0 {
		t.Errorf("chart: %v", err)
	}
	if left := scratchFiles(t, dir, tmp); len(left) > 0 {
		t.Errorf("scratch left behind: %v", left)
	}
}

func TestTuneCopyIntoPostgres(t *testing.T) {
	checkLeaks(t)
	pg := pgtest.New(t)
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	src := writeTuneCSV(t, dir, 3000, false)
	code, out, errOut := weirCmd(t, append([]string{"tune", src, pg.URL() + "&table=t", "--loader-counts", "0,2"}, tuneArgs...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	checkRecommendation(t, out)
	if !strings.Contains(out, "PostgreSQL schema weir_tune_") || !strings.Contains(out, "load concurrency {0,2}") {
		t.Errorf("scratch schema or space not shown:\n%s", out)
	}
	pool := pg.Pool(t)
	if s := scratchSchemas(t, pool); len(s) > 0 {
		t.Errorf("scratch schemas left behind: %v", s)
	}
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("tune created %d tables in public (%v)", n, err)
	}
}

// TestTuneCleansUpAfterAFailedTrial: a job whose key the data breaks fails
// its first trial in the target; tune fails and leaves nothing behind.
func TestTuneCleansUpAfterAFailedTrial(t *testing.T) {
	checkLeaks(t)
	pg := pgtest.New(t)
	for _, target := range []string{"sqlite:out.db", pg.URL()} {
		t.Run(strings.SplitN(target, ":", 2)[0], func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			t.Setenv("TMPDIR", tmp)
			writeTuneCSV(t, dir, 600, true)
			job := writeTuneJob(t, dir, target)
			code, out, errOut := weirCmd(t, append([]string{"tune", job}, tuneArgs...)...)
			if code != exitFailed || !strings.Contains(errOut, "trial 1") {
				t.Fatalf("exit %d, want %d with the failed trial named\n%s%s", code, exitFailed, out, errOut)
			}
			if left := scratchFiles(t, dir, tmp); len(left) > 0 {
				t.Errorf("scratch left behind: %v", left)
			}
			if s := scratchSchemas(t, pg.Pool(t)); len(s) > 0 {
				t.Errorf("scratch schemas left behind: %v", s)
			}
		})
	}
}

// TestTuneJob tunes an expression job file into SQLite.
func TestTuneJob(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	writeTuneCSV(t, dir, 3000, false)
	job := writeTuneJob(t, dir, "sqlite:out.db")
	code, out, errOut := weirCmd(t, append([]string{"tune", job}, tuneArgs...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	checkRecommendation(t, out)
	if left := scratchFiles(t, dir, tmp); len(left) > 0 {
		t.Errorf("scratch left behind: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tune touched the job's target: %v", err)
	}
}

// TestTuneCancelCleansUp cancels the context as the third trial starts,
// with the scratch table created and its pipeline about to run, as a
// Ctrl-C does: tune returns the cancellation and removes the scratch.
func TestTuneCancelCleansUp(t *testing.T) {
	checkLeaks(t)
	pg := pgtest.New(t)
	for _, target := range []string{"sqlite:", pg.URL() + "&table=t"} {
		t.Run(strings.SplitN(target, ":", 2)[0], func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			t.Setenv("TMPDIR", tmp)
			src := writeTuneCSV(t, dir, 3000, false)
			if target == "sqlite:" {
				target += filepath.Join(dir, "out.db")
			}
			f, err := parseTuneFlags(append([]string{src, target}, tuneArgs...), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			trials := 0
			var out bytes.Buffer
			err = tune(ctx, f, &out, func() {
				if trials++; trials == 3 {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled\n%s", err, out.String())
			}
			if left := scratchFiles(t, dir, tmp); len(left) > 0 {
				t.Errorf("scratch left behind: %v", left)
			}
			if s := scratchSchemas(t, pg.Pool(t)); len(s) > 0 {
				t.Errorf("scratch schemas left behind: %v", s)
			}
		})
	}
}

// TestFreshScratchEmptiesTheSQLiteFile: before each trial into SQLite the
// scratch file is returned to the size of an empty database, so that no
// trial runs on a file that earlier trials grew.
func TestFreshScratchEmptiesTheSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	tgt, err := openCopyTarget(t.Context(), "sqlite:"+path, "t", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.close()
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	empty := size()
	if err := sqlite.Exec(t.Context(), mustOpenSQLite(t, path), `CREATE TABLE t (v text);
		WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) INSERT INTO t SELECT printf('%0100d', i) FROM s`); err != nil {
		t.Fatal(err)
	}
	if err := freshScratch(t.Context(), tgt, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if _, exists, err := tgt.columns(t.Context(), "t"); err != nil || exists {
		t.Errorf("table t still exists (%v)", err)
	}
	if got := size(); got > 4*empty+8192 {
		t.Errorf("the file holds %d bytes after freshScratch, an empty one %d: not compacted", got, empty)
	}
}

func mustOpenSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
