package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/pgtest"
)

// writeUsers writes users 1..n generated with seed to a JSON Lines file, in
// id order (line k is user k), as mongoexport would, and returns its path.
func writeUsers(t testing.TB, n, seed int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.jsonl")
	sink, err := file.CreateJSONL[users.User](path, file.JSONLSinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := users.NewGenerator(n, users.GenOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	p, err := weir.New[users.User, users.User](g, weir.Identity[users.User](), sink, weir.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUsersJobMatchesMigrate: examples/users/job.yaml, run by `weir run`,
// makes exactly the 15 tables `weir migrate` makes from the same file:
// the same row counts and the same values (a checksum of every row's text,
// per table).
func TestUsersJobMatchesMigrate(t *testing.T) {
	checkLeaks(t)
	path := writeUsers(t, 200, 7)
	viaMigrate, viaJob := pgtest.New(t), pgtest.New(t)
	if code, out, errOut := weirCmd(t, "migrate", "--from", "jsonl:"+path, "--to", viaMigrate.URL(), "--progress", "off"); code != exitOK {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := weirCmd(t, "run", "../../examples/users/job.yaml", "--from", path, "--to", viaJob.URL(), "--progress", "off")
	if code != exitOK || !strings.Contains(out, "loaded 25200 rows into 15 tables") {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	a, b := viaMigrate.Pool(t), viaJob.Pool(t)
	ctx := context.Background()
	for _, table := range users.TableNames() {
		q := `SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM "` + table + `" t`
		var na, nb int64
		var sa, sb string
		if err := a.QueryRow(ctx, q).Scan(&na, &sa); err != nil {
			t.Fatal(err)
		}
		if err := b.QueryRow(ctx, q).Scan(&nb, &sb); err != nil {
			t.Fatal(err)
		}
		if na != nb || sa != sb {
			t.Errorf("%s: migrate made %d rows (checksum %s), the job %d (%s)", table, na, sa, nb, sb)
		}
	}

	// Run again, emptying the tables first: a run that is not a --resume
	// starts from the beginning, whatever the last one saved.
	again := filepath.Join(t.TempDir(), "job.yaml")
	spec, err := os.ReadFile("../../examples/users/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(again, []byte(strings.Replace(string(spec), "on_error: fail", "on_error: fail\n  if_exists: truncate", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weirCmd(t, "run", again, "--from", path, "--to", viaJob.URL(), "--progress", "off")
	if code != exitOK || !strings.Contains(out, "loaded 25200 rows into 15 tables") {
		t.Fatalf("run again with if_exists: truncate: exit %d\n%s%s", code, out, errOut)
	}

	// plan checks the same job against the loaded target and loads nothing.
	code, out, errOut = weirCmd(t, "plan", "../../examples/users/job.yaml", "--from", path, "--to", viaJob.URL())
	if code != exitOK || !strings.Contains(out, "table attachments: exists, ") || !strings.Contains(out, "nothing loaded") {
		t.Errorf("plan: exit %d\n%s%s", code, out, errOut)
	}
}

// TestJobErrorsNameFileLineAndColumn: a mistake in a job file exits 2
// with its place, before the source is read or the target touched.
func TestJobErrorsNameFileLineAndColumn(t *testing.T) {
	src := writeFile(t, "a.csv", "id,name\n1,x\n")
	db := filepath.Join(t.TempDir(), "j.db")
	for _, c := range []struct{ job, want string }{
		{"source: a.csv\ntarget: sqlite:j.db\ntabels: []\n", `j.yaml:3:1: unknown key "tabels"`},
		{"tables:\n  - name: t\n    columns:\n      id: bigint\n      nom: {type: text, expr: nme}\n", `j.yaml:5:`},
		{"tables:\n  - name: t\n    columns:\n      id: {type: bigint, expr: 'id +'}\n", `j.yaml:4:`},
	} {
		jf := writeFile(t, "j.yaml", c.job)
		code, _, errOut := weirCmd(t, "run", jf, "--from", src, "--to", "sqlite:"+db)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("job %q: exit %d, stderr %q; want %d mentioning %q", c.job, code, errOut, exitUsage, c.want)
		}
	}
	jf := writeFile(t, "k.yaml", "tables:\n  - name: t\n    columns:\n      id: bigint\n")
	if code, _, errOut := weirCmd(t, "run", jf, "--from", src, "--to", "sqlite:"+db, "--resume"); code != exitUsage || !strings.Contains(errOut, "declares none") {
		t.Errorf("--resume on a table without a key: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := weirCmd(t, "schema"); code != exitOK || !strings.Contains(out, `"$schema"`) {
		t.Errorf("schema: exit %d\n%s", code, out)
	}
}
