package pgtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weir-etl/weir/internal/testserver"
)

func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	mk := func(path string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	notOnPath := func(string) (string, error) { return "", exec.ErrNotFound }

	t.Run("nothing anywhere names initdb", func(t *testing.T) {
		_, _, err := findBinaries(notOnPath, filepath.Join(root, "missing"))
		var u *unavailableError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "initdb") {
			t.Fatalf("err = %v, want an unavailableError naming initdb", err)
		}
	})

	lib := filepath.Join(root, "lib")
	for _, v := range []string{"9.6", "15", "16"} {
		mk(filepath.Join(lib, v, "bin", "initdb"), 0o755)
		mk(filepath.Join(lib, v, "bin", "postgres"), 0o755)
	}
	mk(filepath.Join(lib, "17", "bin", "initdb"), 0o644) // not executable
	mk(filepath.Join(lib, "notes", "bin", "initdb"), 0o755)

	t.Run("newest version numerically", func(t *testing.T) {
		initdb, postgres, err := findBinaries(notOnPath, lib)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(lib, "16", "bin", "initdb"); initdb != want {
			t.Errorf("initdb = %s, want %s", initdb, want)
		}
		if want := filepath.Join(lib, "16", "bin", "postgres"); postgres != want {
			t.Errorf("postgres = %s, want %s", postgres, want)
		}
	})

	t.Run("PATH first, postgres beside the resolved initdb", func(t *testing.T) {
		bin := filepath.Join(root, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(bin, "initdb")
		if err := os.Symlink(filepath.Join(lib, "15", "bin", "initdb"), link); err != nil {
			t.Fatal(err)
		}
		onPath := func(name string) (string, error) {
			if name == "initdb" {
				return link, nil
			}
			return "", exec.ErrNotFound
		}
		_, postgres, err := findBinaries(onPath, lib)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(lib, "15", "bin", "postgres"); postgres != want {
			t.Errorf("postgres = %s, want %s", postgres, want)
		}
	})

	t.Run("missing postgres is named", func(t *testing.T) {
		lonely := filepath.Join(root, "lonely", "initdb")
		mk(lonely, 0o755)
		onPath := func(name string) (string, error) {
			if name == "initdb" {
				return lonely, nil
			}
			return "", exec.ErrNotFound
		}
		_, _, err := findBinaries(onPath, lib)
		var u *unavailableError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "postgres not found") {
			t.Fatalf("err = %v, want an unavailableError naming postgres", err)
		}
	})
}

// recordingTB records the first Skip or Fatal call instead of stopping.
type recordingTB struct {
	testing.TB
	first string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skip(args ...any) {
	if r.first == "" {
		r.first = "skip"
	}
}
func (r *recordingTB) Fatalf(string, ...any) {
	if r.first == "" {
		r.first = "fatal"
	}
}

func TestUnavailableSkipsUnlessCI(t *testing.T) {
	for _, tc := range []struct {
		ci, want string
	}{{"", "skip"}, {"true", "fatal"}, {"1", "fatal"}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recordingTB{TB: t}
			testserver.Unavailable(r, "pgtest: initdb not found")
			if r.first != tc.want {
				t.Errorf("with CI=%q: %s, want %s", tc.ci, r.first, tc.want)
			}
		})
	}
}

func TestDBName(t *testing.T) {
	got := testserver.DBName("TestCopy/Unicode ünïcode-and a very long subtest name indeed", 7)
	if len(got) > 63 {
		t.Errorf("%q is longer than 63 bytes", got)
	}
	if !strings.HasPrefix(got, "t_testcopy_unicode_") || !strings.HasSuffix(got, "_7") {
		t.Errorf("dbName = %q", got)
	}
	for _, r := range got {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("dbName = %q has %q", got, r)
		}
	}
}

func TestSweepStale(t *testing.T) {
	tmp := t.TempDir()
	mkOwned := func(name, owner string) string {
		dir := filepath.Join(tmp, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	// A process that has exited: its pid is free until reused.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true binary:", err)
	}
	dead := mkOwned(dirPrefix+"dead", strconv.Itoa(cmd.Process.Pid))
	alive := mkOwned(dirPrefix+"alive", strconv.Itoa(os.Getppid()))
	ours := mkOwned(dirPrefix+"ours", strconv.Itoa(os.Getpid()))
	noOwner := mkOwned(dirPrefix+"noowner", "")
	other := mkOwned("unrelated", strconv.Itoa(cmd.Process.Pid))

	sweepStale(tmp)

	for dir, wantGone := range map[string]bool{dead: true, alive: false, ours: false, noOwner: false, other: false} {
		_, err := os.Stat(dir)
		if gone := os.IsNotExist(err); gone != wantGone {
			t.Errorf("%s: gone = %v, want %v", filepath.Base(dir), gone, wantGone)
		}
	}
}
