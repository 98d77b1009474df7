package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/connect/sqlite"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/mariatest"
	"github.com/weir-etl/weir/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(mariatest.Wrap(m))) }

// weirCmd runs the command in-process and returns its exit code and output.
func weirCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMigrateIntoSQLite(t *testing.T) {
	checkLeaks(t)
	db := filepath.Join(t.TempDir(), "w.db")
	code, out, errOut := weirCmd(t, "migrate", "--users", "300", "--to", "sqlite:"+db, "--progress", "log", "--batch", "32")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"loaded 300 users as 37800 rows", "bottleneck:", "verified: every table holds exactly"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The target holds exactly the expected rows, and a spot check of values.
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for table, want := range users.ExpectedRows(300) {
		var n int64
		if err := h.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	u := users.Generate(42, users.GenOptions{Seed: 1})
	var email, city string
	if err := h.QueryRow(`SELECT u.email, a.city FROM users u JOIN addresses a ON a.user_id = u.id WHERE u.id = 42`).Scan(&email, &city); err != nil {
		t.Fatal(err)
	}
	if email != u.Email || city != u.Address.City {
		t.Errorf("user 42: email %q city %q, want %q %q", email, city, u.Email, u.Address.City)
	}

	// A second run is refused (exit 2) and changes nothing; --verify agrees;
	// --truncate starts over.
	if code, _, errOut := weirCmd(t, "migrate", "--users", "300", "--to", "sqlite:"+db); code != exitUsage || !strings.Contains(errOut, "already holds 300 users") {
		t.Errorf("second run: exit %d, stderr %q", code, errOut)
	}
	if code, out, errOut := weirCmd(t, "migrate", "--users", "300", "--to", "sqlite:"+db, "--verify"); code != exitOK || !strings.Contains(out, "verified:") {
		t.Errorf("--verify: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := weirCmd(t, "migrate", "--users", "301", "--to", "sqlite:"+db, "--verify"); code != exitFailed || !strings.Contains(out, "differs") {
		t.Errorf("--verify against 301 users: exit %d, want %d with a difference shown\n%s", code, exitFailed, out)
	}
	if code, _, errOut := weirCmd(t, "migrate", "--users", "100", "--to", "sqlite:"+db, "--truncate", "--progress", "off"); code != exitOK {
		t.Errorf("--truncate: exit %d: %s", code, errOut)
	}
	if code, _, _ := weirCmd(t, "migrate", "--users", "100", "--to", "sqlite:"+db, "--verify"); code != exitOK {
		t.Errorf("after --truncate the target does not hold exactly 100 users")
	}
}

func TestMigrateFromJSONL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.jsonl")
	sink, err := file.CreateJSONL[users.User](path, file.JSONLSinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := users.NewGenerator(50, users.GenOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	p, err := weir.New[users.User, users.User](g, weir.Identity[users.User](), sink, weir.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "w.db")
	code, out, errOut := weirCmd(t, "migrate", "--from", "jsonl:"+path, "--to", "sqlite:"+db, "--progress", "off")
	if code != exitOK || !strings.Contains(out, "loaded 50 users as 6300 rows") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := weirCmd(t, "migrate", "--from", "jsonl:"+path, "--to", "sqlite:"+db, "--verify"); code != exitOK {
		t.Errorf("--verify from the same file: exit %d: %s", code, errOut)
	}
}

func TestMigrateIntoPostgres(t *testing.T) {
	pg := pgtest.New(t)
	checkLeaks(t)
	code, out, errOut := weirCmd(t, "migrate", "--users", "500", "--to", pg.URL(), "--load-concurrency", "2", "--progress", "off")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "loaded 500 users as 63000 rows") || !strings.Contains(out, "verified:") {
		t.Errorf("output:\n%s", out)
	}
	pool := pg.Pool(t)
	var n int64
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM posts WHERE user_id = 250`).Scan(&n); err != nil || n != 25 {
		t.Errorf("user 250 has %d posts (err %v), want 25", n, err)
	}
	var title string
	u := users.Generate(250, users.GenOptions{Seed: 1})
	if err := pool.QueryRow(context.Background(), `SELECT username FROM users WHERE id = 250`).Scan(&title); err != nil || title != u.Username {
		t.Errorf("user 250 username %q (err %v), want %q", title, err, u.Username)
	}
	checkForeignKeys(t, pool)
}

func TestMigrateRefusesBadInputWithoutWriting(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "untouched.db")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"negative batch", []string{"--batch", "-5"}, "--batch must be"},
		{"zero users", []string{"--users", "0"}, "--users"},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"unknown target", []string{"--to", "mysql://x"}, "want sqlite:PATH or postgres://"},
		{"missing directory", []string{"--to", "sqlite:" + filepath.Join(dir, "no", "x.db")}, "does not exist"},
		{"missing file", []string{"--from", "jsonl:" + filepath.Join(dir, "none.jsonl")}, "no such file"},
		{"unreachable postgres", []string{"--to", "postgres://nobody@127.0.0.1:1/x"}, "cannot reach PostgreSQL"},
		{"bad progress", []string{"--progress", "fancy"}, "--progress"},
		{"sqlite with two writers", []string{"--load-concurrency", "2"}, "one writer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"migrate", "--to", "sqlite:" + db}, c.args...)
			code, _, errOut := weirCmd(t, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr %q lacks %q", errOut, c.want)
			}
			if c.name != "sqlite with two writers" && c.name != "unknown flag" && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
	// Only the case that got as far as opening SQLite may have created it,
	// and it must hold no tables.
	if _, err := os.Stat(db); err == nil {
		h, err := sqlite.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		var n int
		if err := h.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("refused runs left %d tables behind (err %v)", n, err)
		}
	}
}

func TestHelpAndUnknownCommand(t *testing.T) {
	if code, out, _ := weirCmd(t, "help"); code != exitOK || !strings.Contains(out, "weir migrate") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	if code, _, errOut := weirCmd(t, "migrate", "-h"); code != exitOK || !strings.Contains(errOut, "-users") {
		t.Errorf("migrate -h: exit %d, %q", code, errOut)
	}
	if code, _, errOut := weirCmd(t, "frobnicate"); code != exitUsage || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
}

// TestMigrateNeverPrintsPasswords gives migrate targets and sources that
// cannot be reached or parsed, with a password in every form a URL can
// carry one: the command fails, names what it could not use, and neither
// its output nor its error shows the password.
func TestMigrateNeverPrintsPasswords(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	// Server selection gives up at once instead of after the driver's 30s.
	const fast = "serverSelectionTimeoutMS=50"
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"postgres query parameter", []string{"--to", "postgres://u@127.0.0.1:1/db?password=s3cret"}, "cannot reach PostgreSQL at postgres://u@127.0.0.1:1/db?password=xxxxx"},
		{"postgres userinfo", []string{"--to", "postgres://u:s3cret@127.0.0.1:1/db"}, "cannot reach PostgreSQL at postgres://u:xxxxx@127.0.0.1:1/db"},
		{"postgresql both", []string{"--to", "postgresql://u:s3cret@127.0.0.1:1/db?sslmode=disable&password=s3cret"}, "postgresql://u:xxxxx@127.0.0.1:1/db?sslmode=disable&password=xxxxx"},
		{"postgres percent-encoded", []string{"--to", "postgres://u:s3cr%65t@127.0.0.1:1/db?password=s3cr%65t"}, "postgres://u:xxxxx@127.0.0.1:1/db?password=xxxxx"},
		{"postgres unparsable", []string{"--to", "postgres://u:s3cret@127.0.0.1:bad/db?password=s3cret"}, "not a valid PostgreSQL URL"},
		{"unknown target", []string{"--to", "mysql://u:s3cret@127.0.0.1:1/db"}, "mysql://u:xxxxx@127.0.0.1:1/db"},
		{"mongodb query parameter", []string{"--to", "sqlite:" + db, "--from", "mongodb://u@127.0.0.1:1/app.users?password=s3cret&" + fast}, "--from mongodb://u@127.0.0.1:1/app.users?password=xxxxx&" + fast},
		{"mongodb userinfo", []string{"--to", "sqlite:" + db, "--from", "mongodb://u:s3cret@127.0.0.1:1/app.users?" + fast}, "--from mongodb://u:xxxxx@127.0.0.1:1/app.users"},
		{"mongodb no database", []string{"--to", "sqlite:" + db, "--from", "mongodb://u:s3cret@127.0.0.1:1/"}, "name the database"},
		{"mongodb unparsable", []string{"--to", "sqlite:" + db, "--from", "mongodb://u:s3cret@127.0.0.1:bad/app.users"}, "not a valid MongoDB URL"},
		{"mongodb bad escape", []string{"--to", "sqlite:" + db, "--from", "mongodb://u:s3cret%zz@127.0.0.1:1/app.users"}, "not a valid MongoDB URL"},
		{"unknown source", []string{"--to", "sqlite:" + db, "--from", "mysql://u:s3cret@127.0.0.1:1/db"}, "mysql://u:xxxxx@127.0.0.1:1/db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := weirCmd(t, append([]string{"migrate", "--progress", "off"}, c.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, errOut)
			}
			if strings.Contains(out+errOut, "s3cret") {
				t.Errorf("the password is shown:\nstdout: %s\nstderr: %s", out, errOut)
			}
		})
	}
}

// TestMigrateRefusesNonUserDocumentsBeforeCreatingTables: a JSON Lines file
// of something other than users is refused with a usage error naming the
// file and the line, and the target is left without a table.
func TestMigrateRefusesNonUserDocumentsBeforeCreatingTables(t *testing.T) {
	dir := t.TempDir()
	good := func(id int64) string {
		b, err := json.Marshal(users.Generate(id, users.GenOptions{Seed: 1, BlobSize: 16}))
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	pg := pgtest.New(t)
	cases := []struct {
		name, data, line string
	}{
		{"other documents", "{\"a\":1}\n{\"a\":2}\n", "line 1 "},
		{"after a blank line", "\n{\"a\":1}\n", "line 2 "},
		{"third user has no email", good(1) + good(2) + "{\"id\": 3}\n", "line 3 "},
		{"not JSON", good(1) + "{\"id\": 2,\n", ":2:"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".jsonl")
		if err := os.WriteFile(path, []byte(c.data), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{"sqlite", "postgres"} {
			t.Run(c.name+"/"+to, func(t *testing.T) {
				target := "sqlite:" + filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".db")
				if to == "postgres" {
					target = pg.URL()
				}
				code, out, errOut := weirCmd(t, "migrate", "--from", "jsonl:"+path, "--to", target, "--progress", "off")
				if code != exitUsage {
					t.Errorf("exit %d, want %d\n%s%s", code, exitUsage, out, errOut)
				}
				for _, want := range []string{path, c.line} {
					if !strings.Contains(errOut, want) {
						t.Errorf("stderr lacks %q: %s", want, errOut)
					}
				}
				if n := countTables(t, target); n != 0 {
					t.Errorf("%s holds %d tables after the refusal, want none", to, n)
				}
			})
		}
	}
}

// countTables returns the tables in target (sqlite:PATH, none if PATH does
// not exist, or a postgres:// URL).
func countTables(t *testing.T, target string) int {
	t.Helper()
	var n int
	if path, ok := strings.CutPrefix(target, "sqlite:"); ok {
		if _, err := os.Stat(path); err != nil {
			return 0
		}
		h, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := h.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	pool, err := pgxpool.New(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
