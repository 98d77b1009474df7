package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/connect/sqlite"
)

// TestBrokenLineStopsCleanlyAndResumeFinishes: a JSON Lines file whose line
// 250 is broken, loaded with the default fail policy and --resume, loads
// the 249 users before it and fails naming the line; with the line fixed,
// the same command resumes after user 249 and finishes, nothing doubled.
func TestBrokenLineStopsCleanlyAndResumeFinishes(t *testing.T) {
	dir := t.TempDir()
	path := writeUsers(t, 300, 3)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	lines[249] = []byte("{\"id\": 250, broken\n")
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}

	db := filepath.Join(dir, "w.db")
	args := []string{"migrate", "--from", "jsonl:" + path, "--to", "sqlite:" + db, "--resume", "--batch", "64", "--progress", "off"}
	code, out, errOut := weirCmd(t, args...)
	if code == exitOK || !strings.Contains(errOut, "users.jsonl:250:") {
		t.Fatalf("broken line 250: exit %d, want a failure naming the line\n%s%s", code, out, errOut)
	}
	if n := countUsers(t, db); n != 249 {
		t.Fatalf("%d users loaded before the broken line, want 249", n)
	}

	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weirCmd(t, args...)
	if code != exitOK || !strings.Contains(out, "loaded 51 users") {
		t.Fatalf("resume with the line fixed: exit %d, want the 51 remaining users loaded\n%s%s", code, out, errOut)
	}
	if n := countUsers(t, db); n != 300 {
		t.Fatalf("%d users after the resume, want 300", n)
	}
	if code, _, errOut := weirCmd(t, "migrate", "--from", "jsonl:"+path, "--to", "sqlite:"+db, "--verify", "--progress", "off"); code != exitOK {
		t.Errorf("--verify after the resume: exit %d: %s", code, errOut)
	}
}

func countUsers(t *testing.T, path string) int {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
