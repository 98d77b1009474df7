package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/examples/users"
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

// restartingSink restarts PostgreSQL once, after a few batches, under the
// writes of a running migration.
type restartingSink struct {
	weir.Sink[users.User]
	srv     *pgtest.Server
	t       *testing.T
	batches atomic.Int64
}

func (s *restartingSink) Write(ctx context.Context, b []users.User) error {
	if s.batches.Add(1) == 20 {
		s.srv.Restart(s.t)
	}
	return s.Sink.Write(ctx, b)
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

func TestMigrationSurvivesAPostgresRestart(t *testing.T) {
	pg := pgtest.New(t)
	checkLeaks(t)
	ctx := context.Background()
	tgt, err := openTarget(ctx, pg.URL(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.close()
	if err := tgt.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	sink, err := tgt.Sink(false)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	g, err := users.NewGenerator(n, users.GenOptions{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	rs := &restartingSink{Sink: sink, srv: pg.Server(), t: t}
	p, err := weir.New[users.User, users.User](g, users.Validated(), rs, weir.Config{
		BatchSize: 50, Workers: 2, LoadConcurrency: 2,
		Retry: weir.RetryPolicy{MaxAttempts: 20, InitialBackoff: 50 * time.Millisecond, MaxElapsed: time.Minute},
	}, weir.WithRetryable(postgres.Retryable))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run across a restart: %v", err)
	}
	if p.Stats().Load.Retries == 0 {
		t.Errorf("no write was retried: the restart did not hit a write")
	}
	got, err := tgt.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bad := compareCounts(users.ExpectedRows(n), got); bad != "" {
		t.Fatalf("after a restart: %s", bad)
	}
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
