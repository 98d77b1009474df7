package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// usersFile writes n generated users as JSON Lines into dir, with the
// lines in broken (1-based) replaced by broken JSON and the user on line
// noAt given an email without '@' (which the transform refuses). It
// returns the path.
func usersFile(t *testing.T, dir string, n int64, broken []int, noAt int) string {
	t.Helper()
	path := filepath.Join(dir, "users.jsonl")
	if err := os.Rename(writeUsers(t, n, 3), path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, l := range broken {
		lines[l-1] = []byte("{\"id\": " + string(rune('0'+l%10)) + ", broken\n")
	}
	if noAt > 0 {
		lines[noAt-1] = regexp.MustCompile(`"email":"[^"]*"`).ReplaceAll(lines[noAt-1], []byte(`"email":"nobody"`))
	}
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type rejectLine struct {
	Stage  string `json:"stage"`
	Record any    `json:"record"`
	Error  string `json:"error"`
	Source string `json:"source"`
}

func readRejectFile(t *testing.T, path string) []rejectLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rejectLine
	for line := range strings.Lines(string(data)) {
		var r rejectLine
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("reject file line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// TestMigrateSkipsBadRecordsIntoTheRejectFile: `weir migrate --on-error
// skip --reject PATH` on a JSON Lines file with three broken lines (the
// last line among them) and one invalid document loads every other user
// into SQLite, exits 0, reports the four rejects and where they are, and
// the reject file holds each with its file and line. A second run
// (--truncate) empties the reject file first; --max-errors below the count
// fails the run; a --resume that would empty an earlier run's rejects is
// refused.
func TestMigrateSkipsBadRecordsIntoTheRejectFile(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	path := usersFile(t, dir, 300, []int{50, 173, 300}, 120)
	db := filepath.Join(dir, "w.db")
	rejects := filepath.Join(dir, "rejects.jsonl")
	args := []string{"migrate", "--from", "jsonl:" + path, "--to", "sqlite:" + db, "--batch", "32", "--progress", "off",
		"--on-error", "skip", "--reject", rejects}

	for run := range 2 {
		runArgs := args
		if run == 1 {
			runArgs = append(slices.Clone(args), "--truncate")
		}
		code, out, errOut := weirCmd(t, runArgs...)
		if code != exitOK {
			t.Fatalf("run %d: exit %d, want 0 with rejects\n%s%s", run, code, out, errOut)
		}
		for _, want := range []string{"loaded 296 users", "rejected 4 records (3 unreadable, 1 refused by the transform, 0 by the target): see " + rejects} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: output lacks %q:\n%s", run, want, out)
			}
		}
		if n := countUsers(t, db); n != 296 {
			t.Fatalf("run %d: %d users in the target, want 296", run, n)
		}
		got := readRejectFile(t, rejects)
		var where []string
		for _, r := range got {
			where = append(where, r.Stage+" "+strings.TrimPrefix(r.Source, path))
		}
		// users.User does not know its line (it is not a weir.Locatable):
		// the transform's reject has no source, but its record has the id.
		want := []string{"extract :50", "extract :173", "extract :300", "transform "}
		slices.Sort(where)
		slices.Sort(want)
		if !slices.Equal(where, want) {
			t.Fatalf("run %d: reject file holds %q, want %q (each once: the file is fresh per run)", run, where, want)
		}
		for _, r := range got {
			if r.Stage == "extract" && (r.Record != "{\"id\": 0, broken" && !strings.HasSuffix(r.Record.(string), ", broken") || !strings.HasPrefix(r.Error, r.Source+": ")) {
				t.Errorf("run %d: reject %+v: want the broken line's text and an error naming it", run, r)
			}
			if rec, _ := r.Record.(map[string]any); r.Stage == "transform" && (!strings.Contains(r.Error, `has no '@'`) || rec["email"] != "nobody") {
				t.Errorf("run %d: reject %+v: want the transform's error", run, r)
			}
		}
	}

	// --max-errors below the count stops the run: exit 1, naming the limit.
	code, out, errOut := weirCmd(t, append(slices.Clone(args), "--truncate", "--max-errors", "2")...)
	if code != exitFailed || !strings.Contains(errOut, "more than 2 (--max-errors)") {
		t.Errorf("--max-errors 2: exit %d, want 1 naming the limit\n%s%s", code, out, errOut)
	}
	if got := readRejectFile(t, rejects); len(got) != 2 {
		t.Errorf("--max-errors 2: %d rejects written, want 2", len(got))
	}
	// A resume would empty the rejects of the run it continues.
	code, _, errOut = weirCmd(t, append(slices.Clone(args), "--resume")...)
	if code != exitUsage || !strings.Contains(errOut, "--reject-append") {
		t.Errorf("--resume over a non-empty reject file: exit %d, want 2 suggesting --reject-append: %s", code, errOut)
	}
}

func TestRejectFlagsAreChecked(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--on-error", "ignore"}, `--on-error must be fail or skip, got "ignore"`},
		{[]string{"--on-error", "skip"}, "--on-error skip needs --reject PATH"},
		{[]string{"--reject", "r.jsonl"}, "only rejected with --on-error skip"},
		{[]string{"--on-error", "skip", "--reject-append"}, "--on-error skip needs --reject PATH"},
		{[]string{"--max-errors", "3"}, "needs --on-error skip"},
		{[]string{"--on-error", "skip", "--reject", "r.jsonl", "--max-errors", "-1"}, "--max-errors must be >= 0"},
		{[]string{"--on-error", "skip", "--reject", "r.jsonl", "--verify"}, "--verify loads nothing"},
	} {
		code, _, errOut := weirCmd(t, append([]string{"migrate", "--to", "sqlite:" + filepath.Join(t.TempDir(), "w.db")}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}
