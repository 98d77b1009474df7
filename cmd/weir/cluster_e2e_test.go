package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weir-etl/weir/internal/cluster"
	"github.com/weir-etl/weir/internal/pgtest"
)

// natsProc is a real nats-server process with JetStream, its store in a
// directory of the test's, which a restart keeps.
type natsProc struct {
	t        *testing.T
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func startNATS(t *testing.T) *natsProc {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr == nil {
			bin, err = "/usr/sbin/nats-server", nil
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nats-server not found (Debian package nats-server); .ci/run installs it")
		}
		t.Skip("nats-server not found; install Debian's nats-server to run this test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	n := &natsProc{t: t, bin: bin, dir: t.TempDir(), port: port}
	n.start()
	t.Cleanup(func() { n.stop(syscall.SIGTERM) })
	return n
}

func (n *natsProc) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func (n *natsProc) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-sd", n.dir)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	// Ready when JetStream answers (a client retries the connection).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		nc, _, err := cluster.Connect(ctx, n.url(), "probe")
		if err == nil {
			nc.Close()
			return
		}
		if ctx.Err() != nil {
			n.t.Fatalf("nats-server not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling a starting server, with a deadline
	}
}

func (n *natsProc) stop(sig syscall.Signal) {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(sig)
	_ = n.cmd.Wait()
	n.cmd = nil
}

// proc is a weir process whose standard output the test reads line by
// line.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
	err   error
}

func startWeir(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: cliCommand(t, args...), done: make(chan struct{})}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	p.cmd.Stderr = &stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, s.Text())
			p.mu.Unlock()
		}
		p.err = p.cmd.Wait()
		if p.err != nil {
			p.mu.Lock()
			p.lines = append(p.lines, "stderr: "+stderr.String())
			p.mu.Unlock()
		}
		close(p.done)
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done })
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

var runningPart = regexp.MustCompile(`^partition (\S+) \(\d+ of \d+\): running`)

// current is the partition the worker said it runs last, if it has not
// said it finished.
func (p *proc) current() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.lines) - 1; i >= 0; i-- {
		if m := runningPart.FindStringSubmatch(p.lines[i]); m != nil {
			return m[1]
		}
		if strings.HasPrefix(p.lines[i], "partition ") {
			return "" // done, failed or handed back
		}
	}
	return ""
}

// clusterRows is the size of the end-to-end tests' CSV: WEIR_CLUSTER_ROWS,
// default 300,000 (docs/CLUSTER.md reports a 2,000,000-row run).
func clusterRows(t *testing.T) int {
	if s := os.Getenv("WEIR_CLUSTER_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			t.Fatalf("WEIR_CLUSTER_ROWS=%q: want a number >= 1000", s)
		}
		return n
	}
	return 300_000
}

// writeClusterCSV writes n rows with ids 1..n; every 97th has a quoted
// field spanning two lines, which a partition cut must not split.
func writeClusterCSV(t *testing.T, n int) string {
	path := filepath.Join(t.TempDir(), "rows.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,name,score")
	for i := 1; i <= n; i++ {
		if i%97 == 0 {
			fmt.Fprintf(w, "%d,\"line one\nline two %d\",%d.5\n", i, i, i%1000)
		} else {
			fmt.Fprintf(w, "%d,name %d,%d.5\n", i, i, i%1000)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestClusterCopySurvivesWorkerKill copies a CSV into PostgreSQL with a
// coordinator and 3 worker processes, SIGKILLs a worker once its partition
// has committed rows and before it finished, and checks that the table
// holds every id exactly once (it has no key: a doubled batch would show)
// and that the killed partition was run again.
func TestClusterCopySurvivesWorkerKill(t *testing.T) {
	testClusterCopy(t, "kill", func(t *testing.T, pg *pgtest.DB, nats *natsProc, workers []*proc) {
		// Kill a worker whose current partition has a checkpoint (rows
		// committed) and which has not said it finished; if the state
		// shows it finished after all (a race with the poll), try again.
		pool := pg.Pool(t)
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			for _, w := range workers[:1] {
				part := w.current()
				if part == "" {
					continue
				}
				var n int
				if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM weir_checkpoints WHERE job = $1", part).Scan(&n); err != nil || n == 0 {
					continue
				}
				_ = w.cmd.Process.Signal(syscall.SIGKILL)
				<-w.done
				if w.current() == part {
					t.Logf("killed the worker mid-partition %s", part)
					t.Cleanup(func() {
						again := regexp.MustCompile(`(?m)^partition ` + part + ` \(.*running \(attempt [2-9]`)
						if !again.MatchString(workers[1].output() + "\n" + workers[2].output()) {
							t.Errorf("no worker ran %s again:\n%s\n%s", part, workers[1].output(), workers[2].output())
						}
					})
					return
				}
				t.Fatalf("the worker finished %s before the kill; the test needs larger partitions", part)
			}
			time.Sleep(20 * time.Millisecond) // polling the target, with a deadline
		}
		t.Fatal("no partition with a checkpoint to kill the worker in")
	})
}

// TestClusterCopySurvivesNATSRestart stops the NATS server once a third of
// the rows are in and starts it again on the same store: workers and
// coordinator reconnect and the table holds every id exactly once.
func TestClusterCopySurvivesNATSRestart(t *testing.T) {
	testClusterCopy(t, "restart", func(t *testing.T, pg *pgtest.DB, nats *natsProc, workers []*proc) {
		pool := pg.Pool(t)
		want := int64(clusterRows(t) / 3)
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var n int64
			_ = pool.QueryRow(context.Background(), "SELECT count(*) FROM rows").Scan(&n)
			if n > want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the table holds %d rows after 2 minutes", n)
			}
			time.Sleep(20 * time.Millisecond) // polling the target, with a deadline
		}
		nats.stop(syscall.SIGKILL)
		nats.start()
		t.Log("restarted nats-server")
	})
}

func testClusterCopy(t *testing.T, job string, fault func(*testing.T, *pgtest.DB, *natsProc, []*proc)) {
	pg := pgtest.New(t)
	nats := startNATS(t)
	n := clusterRows(t)
	csv := writeClusterCSV(t, n)
	var workers []*proc
	for i := range 3 {
		workers = append(workers, startWeir(t, "worker", "--nats", nats.url(), "--name", fmt.Sprintf("w%d", i)))
	}
	coord := startWeir(t, "copy", csv, pg.URL(), "--nats", nats.url(), "--job", job, "--ack-wait", "3s",
		"--partition-size", strconv.Itoa(n/12*17), "--batch", "1000", "--progress", "off")
	fault(t, pg, nats, workers)
	select {
	case <-coord.done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("the coordinator did not finish:\n%s", coord.output())
	}
	if coord.err != nil {
		t.Fatalf("coordinator: %v\n%s", coord.err, coord.output())
	}
	var rows, ids, lo, hi, multiline int64
	if err := pg.Pool(t).QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT id), min(id), max(id), count(*) FILTER (WHERE name LIKE 'line one%') FROM rows`).Scan(&rows, &ids, &lo, &hi, &multiline); err != nil {
		t.Fatal(err)
	}
	if rows != int64(n) || ids != int64(n) || lo != 1 || hi != int64(n) || multiline != int64(n/97) {
		t.Errorf("rows %d, distinct ids %d in [%d, %d], multi-line names %d; want %d rows, ids 1..%d each once, %d multi-line",
			rows, ids, lo, hi, multiline, n, n, n/97)
	}
	t.Logf("coordinator:\n%s", coord.output())
}
