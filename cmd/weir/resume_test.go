package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/weir-etl/weir/connect/sqlite"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/weir-etl/weir/examples/users"
	"github.com/weir-etl/weir/internal/pgproxy"
	"github.com/weir-etl/weir/internal/pgtest"
)

// childEnv makes the test binary act as the weir command (see TestMain's
// helper below), so the kill test runs the real CLI in its own process.
const childEnv = "WEIR_TEST_RUN_CLI"

func init() {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
}

func cliCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd
}

// TestClosedStdoutDoesNotStopACopy: a copy whose output pipe was closed
// (weir … | head) still loads every row and exits 0.
func TestClosedStdoutDoesNotStopACopy(t *testing.T) {
	src := writeFile(t, "n.csv", "n\n1\n2\n3\n")
	db := filepath.Join(t.TempDir(), "n.db")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := cliCommand(t, "copy", src, "sqlite:"+db, "--progress", "off")
	cmd.Stdout = w
	err = cmd.Run()
	w.Close()
	if err != nil {
		t.Fatalf("weir copy with a closed stdout: %v (want exit 0)", err)
	}
	h, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n int
	if err := h.QueryRow(`SELECT count(*) FROM n`).Scan(&n); err != nil || n != 3 {
		t.Errorf("table n holds %d rows (%v), want 3", n, err)
	}
}

// TestMigrateSurvivesSIGKILL kills `weir migrate --resume` into PostgreSQL
// at seeded random moments, reruns it each time, and checks that the
// final tables hold exactly the expected rows: nothing lost, nothing
// doubled (every table has a primary key, and the counts must match).
//
// It also checks the checkpoint itself, which the counts alone would not
// (--resume loads with upserts, so replaying from zero also ends right):
// each rerun says where it resumes, that position is never past the users
// already in the target, and it is behind them by no more than the batches
// a run can have in flight — so a rerun reloads at most those.
func TestMigrateSurvivesSIGKILL(t *testing.T) {
	pg := pgtest.New(t)
	checkLeaks(t)
	const n = 4000
	args := []string{"migrate", "--users", "4000", "--to", pg.URL(), "--resume", "--progress", "off", "--batch", "50", "--load-concurrency", "2"}
	rng := rand.New(rand.NewPCG(2026, 11))
	killed, midway := 0, 0
	pool := pg.Pool(t)
	usersNow := func() int64 {
		var c int64
		// Before the first run creates it, the table does not exist: 0.
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&c)
		return c
	}
	// The most batches alive in a run (Config's memory formula with these
	// flags and GOMAXPROCS workers), plus the ones the checkpoint's
	// background save may not have caught up with: loose, but far below
	// what replaying from zero would reload.
	maxBehind := int64(50 * (2 + 2*2*runtime.GOMAXPROCS(0) + 2*runtime.GOMAXPROCS(0) + 2 + 8))
	resumedAt := func(out string) (int64, bool) {
		_, rest, ok := strings.Cut(out, "resuming after position ")
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		if err != nil {
			t.Fatalf("resume position in %q: %v", out, err)
		}
		return v, true
	}
	resumedPositive := 0
	for round := range 6 {
		before := usersNow()
		cmd := cliCommand(t, args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The kill moment is the fault being injected, not a wait for a
		// state: any moment must leave a resumable target.
		delay := time.Duration(100+rng.IntN(900)) * time.Millisecond
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		stopped := timer.Stop()
		if pos, ok := resumedAt(out.String()); ok {
			if pos > before || before-pos > maxBehind {
				t.Errorf("round %d: resumed after user %d with %d users in the target: want a position at most %d behind, never ahead", round, pos, before, maxBehind)
			}
			if pos > 0 {
				resumedPositive++
			}
		} else if before > maxBehind && strings.Contains(out.String(), "weir migrate:") {
			t.Errorf("round %d: %d users in the target but the run did not say it resumes:\n%s", round, before, out.String())
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			t.Logf("round %d: finished before the kill at %v", round, delay)
		case errors.As(err, &exit) && !stopped:
			killed++
			c := usersNow()
			if c > 0 && c < n {
				midway++
			}
			t.Logf("round %d: started with %d users, killed after %v with %d users loaded", round, before, delay, c)
		default:
			t.Fatalf("round %d: %v\n%s", round, err, out.String())
		}
	}
	if killed < 5 || midway == 0 {
		t.Fatalf("%d of 6 runs killed, %d with the load part done: the kills did not land mid-load", killed, midway)
	}
	if resumedPositive == 0 {
		t.Fatalf("no rerun resumed after a saved position: checkpoints were not kept")
	}
	cmd := cliCommand(t, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "verified: every table holds exactly") {
		t.Fatalf("final run did not verify:\n%s", out)
	}
	for table, want := range users.ExpectedRows(n) {
		var got int64
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM "`+table+`"`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	checkForeignKeys(t, pool)
}

// checkForeignKeys: the foreign keys a load defers are all back.
func checkForeignKeys(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) {
	t.Helper()
	var fks int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_constraint WHERE contype = 'f'`).Scan(&fks); err != nil {
		t.Fatal(err)
	}
	if want := strings.Count(users.SchemaPostgres, "FOREIGN KEY"); fks != want {
		t.Errorf("%d foreign keys in the target, want the schema's %d", fks, want)
	}
}

// checkLeaks fails t if goroutines started after the call are still
// running once t's cleanups have run (pools close in cleanups).
func checkLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt, pgtestIgnore) })
}

// pgtestIgnore: the throwaway server's own process watcher restarts with
// the server; it belongs to the test helper, not to weir.
var pgtestIgnore = goleak.IgnoreAnyFunction("os/exec.(*Cmd).Wait")

// TestMigrationSurvivesAPostgresRestart restarts PostgreSQL while a proxy
// withholds the answer to a batch's COMMIT: the server has committed the
// batch, the loader does not know it, and its connection dies with the
// restart — the one moment where retrying the batch would load it twice.
// Both a plain `weir migrate` (COPY: a second copy would fail on the keys)
// and `weir migrate --resume` (upserts: a second copy would be skipped, and
// not counted) finish with exactly the expected rows in every table and in
// the report, because the sink asks the restarted server whether the batch
// committed instead of loading it again.
func TestMigrationSurvivesAPostgresRestart(t *testing.T) {
	for _, resume := range []bool{false, true} {
		t.Run(fmt.Sprintf("resume=%v", resume), func(t *testing.T) {
			pg := pgtest.New(t)
			checkLeaks(t)
			u, err := url.Parse(pg.URL())
			if err != nil {
				t.Fatal(err)
			}
			proxy, err := pgproxy.New(u.Host)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { proxy.Close() })
			dsn, err := proxy.URL(pg.URL())
			if err != nil {
				t.Fatal(err)
			}
			const n = 3000
			args := []string{"migrate", "--users", strconv.Itoa(n), "--to", dsn, "--progress", "off", "--batch", "50", "--load-concurrency", "2"}
			if resume {
				args = append(args, "--resume")
			}
			// The 20th COMMIT is a batch's, well inside the load's 60.
			held := proxy.HoldCommitAnswer(20)
			var out syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(args, &out, &out) }()
			select {
			case <-held.Held():
			case code := <-done:
				t.Fatalf("migrate exited %d before its 20th COMMIT:\n%s", code, out.String())
			}
			pg.Server().Restart(t)
			held.Release() // the answer is lost; the server is back
			if code := <-done; code != 0 {
				t.Fatalf("migrate across a restart exited %d:\n%s", code, out.String())
			}
			if held.Fired() != 1 || !strings.Contains(out.String(), "verified: every table holds exactly") {
				t.Fatalf("held %d COMMIT answers, output:\n%s", held.Fired(), out.String())
			}
			want := users.ExpectedRows(n)
			var total int64
			pool := pg.Pool(t)
			for table, w := range want {
				total += w
				var got int64
				if err := pool.QueryRow(context.Background(), countSQL(table)).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != w {
					t.Errorf("%s: %d rows, want %d", table, got, w)
				}
			}
			if loaded := fmt.Sprintf("loaded %d users as %d rows", n, total); !strings.Contains(out.String(), loaded) {
				t.Errorf("report does not say %q:\n%s", loaded, out.String())
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the CLI's goroutines and the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInterruptSavesTheCheckpointAndSaysHowToResume sends SIGINT to a
// running `weir migrate --resume` as soon as its run has started: it stops
// reading, loads what it read, keeps its checkpoint, prints the report and
// how to continue, and exits 1; the rerun finishes the job exactly.
func TestInterruptSavesTheCheckpointAndSaysHowToResume(t *testing.T) {
	pg := pgtest.New(t)
	args := []string{"migrate", "--users", "4000", "--to", pg.URL(), "--resume", "--progress", "off", "--batch", "50"}
	cmd := cliCommand(t, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The command prints its first line just before the run starts: that
	// line, not a timer, is the moment to interrupt.
	r := bufio.NewReader(stdout)
	first, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "weir migrate:") {
		t.Fatalf("first line %q, %v", first, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	err = cmd.Wait()
	out := first + string(rest) + stderr.String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailed {
		t.Fatalf("interrupted run: %v, want exit %d\n%s", err, exitFailed, out)
	}
	for _, want := range []string{"stopping: loading the batches already read", "interrupted", "--resume", "loaded"} {
		if !strings.Contains(out, want) {
			t.Errorf("interrupted run's output lacks %q:\n%s", want, out)
		}
	}
	again := cliCommand(t, args...)
	b, err := again.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "verified: every table holds exactly") {
		t.Fatalf("rerun: %v\n%s", err, b)
	}
}
