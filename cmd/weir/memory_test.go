package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"512MB", 512_000_000}, {"2GiB", 2 << 30}, {"64m", 64 << 20}, {"1.5GB", 1_500_000_000},
		{"100", 100}, {"0", 0}, {" 1 KiB", 1024}, {"3kb", 3000}, {"7B", 7}, {"1T", 1 << 40},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "not a size"}, {"MB", "not a size"}, {"12XB", `unknown unit "XB"`}, {"-5MB", "not a size"},
		{"1.2.3MB", "not a number"}, {"99999999999TB", "too large"}, {"5 M B", "unknown unit"},
	} {
		if _, err := parseSize(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseSize(%q) = %v, want an error saying %q", c.in, err, c.want)
		}
	}
}

// FuzzParseSize: no input panics or gives a negative size, and a plain
// number of bytes reads back as itself.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MB", "2GiB", "1.5g", "0", "12XB", "", ".", "9e99"} {
		f.Add(s, int64(1))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if v, err := parseSize(s); err == nil && v < 0 {
			t.Fatalf("parseSize(%q) = %d", s, v)
		}
		if n >= 0 && n < 1<<53 { // exact in a float64
			if v, err := parseSize(strconv.FormatInt(n, 10)); err != nil || v != n {
				t.Fatalf("parseSize(%d) = %d, %v", n, v, err)
			}
		}
	})
}

// TestMemoryFlagErrorsNameIt: a bad --memory is refused (exit 2) by every
// command that runs a job, naming the flag, before anything is read.
func TestMemoryFlagErrorsNameIt(t *testing.T) {
	src := writeFile(t, "a.csv", "id\n1\n")
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	job := writeFile(t, "j.yaml", "tables:\n  - name: t\n    columns:\n      id: bigint\n")
	for _, args := range [][]string{
		{"copy", src, db},
		{"run", job, "--from", src, "--to", db},
		{"migrate", "--users", "1", "--to", db},
	} {
		code, _, errOut := weirCmd(t, append(args, "--memory", "12XB")...)
		if code != exitUsage || !strings.Contains(errOut, "-memory") || !strings.Contains(errOut, `unknown unit "XB"`) {
			t.Errorf("%s --memory 12XB: exit %d, stderr %q; want %d naming the flag and the unit", args[0], code, errOut, exitUsage)
		}
	}
	// A budget that cannot hold one byte per batch is refused as the flag's.
	code, _, errOut := weirCmd(t, "copy", src, db, "--memory", "3")
	if code != exitUsage || !strings.Contains(errOut, "--memory 3:") {
		t.Errorf("--memory 3: exit %d, stderr %q", code, errOut)
	}
}

// TestCopyUnderMemoryBudget: a copy with --memory loads every row and says
// what the budget allowed; a row larger than a batch's share fails the
// run naming its file and line, with the rows before it loaded.
func TestCopyUnderMemoryBudget(t *testing.T) {
	checkLeaks(t)
	var b strings.Builder
	b.WriteString("id,note\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "%d,%s\n", i, strings.Repeat("n", 300))
	}
	src := writeFile(t, "rows.csv", b.String())
	db := filepath.Join(t.TempDir(), "m.db")
	out := mustCopy(t, src, "sqlite:"+db, "--memory", "1MB", "--batch", "5000")
	for _, want := range []string{"loaded 3000 rows", "memory: budget 976.6 KiB", "batches of ~", "bottleneck:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Line 1502 holds row 1500: 300 KB, more than any batch's share of 1 MB.
	b.Reset()
	b.WriteString("id,note\n")
	for i := range 3000 {
		note := strings.Repeat("n", 300)
		if i == 1500 {
			note = strings.Repeat("n", 300_000)
		}
		fmt.Fprintf(&b, "%d,%s\n", i, note)
	}
	fat := writeFile(t, "fat.csv", b.String())
	db2 := filepath.Join(t.TempDir(), "f.db")
	code, out, errOut := weirCmd(t, "copy", fat, "sqlite:"+db2, "--memory", "1MB", "--progress", "off")
	if code != exitFailed || !strings.Contains(errOut, "fat.csv:1502") || !strings.Contains(errOut, "raise the budget") {
		t.Fatalf("exit %d, want %d naming fat.csv:1502\nstdout:\n%s\nstderr:\n%s", code, exitFailed, out, errOut)
	}
	if !strings.Contains(out, "loaded 1500 rows") {
		t.Errorf("the 1500 rows before the large one were not loaded:\n%s", out)
	}
}

// TestMigrateUnderMemoryBudget: the fat-record migration with the "original"
// config (batch 500, 8 workers) under a budget loads everything in batches
// the budget holds; a budget below one user fails on the first, naming it.
func TestMigrateUnderMemoryBudget(t *testing.T) {
	checkLeaks(t)
	db := filepath.Join(t.TempDir(), "m.db")
	code, out, errOut := weirCmd(t, "migrate", "--users", "60", "--blob-size", "50000", "--batch", "500", "--workers", "8",
		"--memory", "8MiB", "--to", "sqlite:"+db, "--progress", "off")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"loaded 60 users", "memory: budget 8.0 MiB = 35 batches in flight × 234.1 KiB", "verified:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	db2 := filepath.Join(t.TempDir(), "s.db")
	code, out, errOut = weirCmd(t, "migrate", "--users", "60", "--blob-size", "50000", "--batch", "500", "--workers", "8",
		"--memory", "1MiB", "--to", "sqlite:"+db2, "--progress", "off")
	if code != exitFailed || !strings.Contains(errOut, "record 0 is") || !strings.Contains(errOut, "bytes, more than one batch may hold") {
		t.Errorf("--memory 1MiB: exit %d, want %d naming record 0\nstdout:\n%s\nstderr:\n%s", code, exitFailed, out, errOut)
	}
}
