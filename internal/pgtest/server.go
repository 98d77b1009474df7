package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weir-etl/weir/internal/testserver"
)

const (
	dirPrefix  = "weir-pgtest-"
	ownerFile  = "owner.pid"
	superuser  = "postgres"
	libRoot    = "/usr/lib/postgresql"
	readyWait  = time.Minute      // how long a start may take
	stopWait   = 30 * time.Second // how long a fast shutdown may take before SIGQUIT
	startTries = 3                // fresh ports tried when a start fails (another process took the port)
)

// Server is a running PostgreSQL server started by this package. Get the
// shared one with [Shared] or [DB.Server]. Its methods are safe for
// concurrent use.
type Server struct {
	postgres string // path of the postgres binary
	dir      string // temporary root: sockets, log, data/
	data     string
	port     int
	as       *runAs // nil: run as the current user
	seq      atomic.Int64

	mu   sync.Mutex // guards proc; held for a whole restart
	proc *process   // nil when stopped
}

// runAs is the user PostgreSQL runs as when the tests run as root.
type runAs struct {
	name     string
	uid, gid uint32
}

// process is one postmaster.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the postmaster has exited
	err  error         // cmd.Wait's result, valid after done
}

// unavailableError means the PostgreSQL binaries are missing: skip, not fail.
type unavailableError = testserver.UnavailableError

// Port returns the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// SocketDir returns the directory holding the server's Unix socket.
func (s *Server) SocketDir() string { return s.dir }

// ConnString returns a keyword/value connection string for database dbname
// over the Unix socket, as the superuser.
func (s *Server) ConnString(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quote(s.dir), s.port, superuser, quote(dbname))
}

// URL returns a postgres:// URL for database dbname over TCP, as the
// superuser.
func (s *Server) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// quote quotes a keyword/value connection string value.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Restart stops the server with a fast shutdown (what `pg_ctl restart -m
// fast` does: open transactions are rolled back and every connection is
// closed) and starts it again on the same port and socket, for tests that
// inject a server failure. It blocks until the server accepts connections
// again, typically well under a second; it fails t if the server does not
// come back. Existing connections are broken: a pool replaces them on
// demand, and the errors the broken ones return are what such a test checks.
//
// Restart affects every test of the binary, so do not call it while
// parallel tests use the server.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.restart(); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

func (s *Server) restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("server is stopped")
	}
	if err := s.stopLocked(); err != nil {
		return err
	}
	return s.startLocked()
}

// start finds the binaries, creates and starts a cluster. On failure it
// removes what it created.
func start() (_ *Server, err error) {
	initdb, postgres, err := findBinaries(exec.LookPath, libRoot)
	if err != nil {
		return nil, err
	}
	as, err := pickUser()
	if err != nil {
		return nil, err
	}
	sweepStale(os.TempDir())

	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if as != nil {
		if err := os.Chown(dir, int(as.uid), int(as.gid)); err != nil {
			return nil, fmt.Errorf("give %s to user %s: %w", dir, as.name, err)
		}
	}
	s := &Server{postgres: postgres, dir: dir, data: filepath.Join(dir, "data"), as: as}

	var out bytes.Buffer
	cmd := exec.Command(initdb, "-D", s.data, "-U", superuser, "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, childEnv(), &out, &out
	cmd.SysProcAttr = sysProcAttr(as, false)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out.Bytes())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 1; ; try++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = s.startLocked(); err == nil {
			return s, nil
		}
		if try == startTries {
			return nil, err
		}
	}
}

// startLocked starts the postmaster and waits until it accepts connections.
func (s *Server) startLocked() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy of the descriptor
	logStart, _ := logf.Seek(0, 2)
	cmd := exec.Command(s.postgres, "-D", s.data,
		"-k", s.dir, "-h", "127.0.0.1", "-p", strconv.Itoa(s.port),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.dir, childEnv(), logf, logf
	cmd.SysProcAttr = sysProcAttr(s.as, true)

	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Lock the thread and keep it until the postmaster exits: the
		// kernel sends the parent-death signal when the thread that forked
		// the child ends, not when the process does. The goroutine ends
		// when the postmaster does.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if err := s.waitReady(p); err != nil {
		stopProcess(p)
		return fmt.Errorf("%w\n%s", err, s.logSince(logStart))
	}
	s.proc = p
	return nil
}

// waitReady polls the socket until the server accepts a connection, the
// postmaster exits, or readyWait passes.
func (s *Server) waitReady(p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited during start-up: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready after %v: %w", readyWait, err)
		case <-tick.C:
		}
	}
}

// logSince returns the server log written from offset on, for error messages.
func (s *Server) logSince(offset int64) string {
	b, err := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if err != nil || offset > int64(len(b)) {
		return ""
	}
	return string(b[offset:])
}

// stopLocked shuts the postmaster down fast and waits for it.
func (s *Server) stopLocked() error {
	p := s.proc
	s.proc = nil
	if p == nil {
		return nil
	}
	return stopProcess(p)
}

// stopProcess asks for a fast shutdown, escalating to an immediate one and
// then to SIGKILL if the postmaster does not exit in time. It returns once
// the postmaster has exited.
func stopProcess(p *process) error {
	for _, sig := range []os.Signal{sigFast, sigImmediate, os.Kill} {
		if err := p.cmd.Process.Signal(sig); err != nil {
			if errors.Is(err, os.ErrProcessDone) {
				<-p.done
				return nil
			}
			continue
		}
		t := time.NewTimer(stopWait)
		select {
		case <-p.done:
			t.Stop()
			if sig == os.Kill {
				return errors.New("postgres ignored shutdown requests and was killed")
			}
			return nil
		case <-t.C:
		}
	}
	<-p.done
	return errors.New("postgres ignored shutdown requests and was killed")
}

// shutdown stops the server and removes its directory.
func (s *Server) shutdown() error {
	s.mu.Lock()
	err := s.stopLocked()
	s.mu.Unlock()
	if rerr := os.RemoveAll(s.dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("stop server in %s: %w", s.dir, err)
	}
	return nil
}

// adminExec runs one statement as superuser in the postgres database.
func (s *Server) adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// findBinaries returns the paths of initdb and postgres: initdb from PATH
// (through lookPath) or else the newest version directory under root, and
// postgres from initdb's resolved directory, else PATH.
func findBinaries(lookPath func(string) (string, error), root string) (initdb, postgres string, err error) {
	initdb, err = lookPath("initdb")
	if err != nil {
		initdb = newestInLib(root, "initdb")
	}
	if initdb == "" {
		return "", "", &unavailableError{Msg: fmt.Sprintf("pgtest: PostgreSQL binary initdb not found on PATH or in %s/*/bin", root)}
	}
	if real, err := filepath.EvalSymlinks(initdb); err == nil {
		initdb = real
	}
	postgres = filepath.Join(filepath.Dir(initdb), "postgres")
	if !isExecutable(postgres) {
		if postgres, err = lookPath("postgres"); err != nil {
			return "", "", &unavailableError{Msg: fmt.Sprintf("pgtest: PostgreSQL binary postgres not found next to %s or on PATH", initdb)}
		}
	}
	return initdb, postgres, nil
}

// newestInLib returns root/<version>/bin/name for the highest version that
// has it, comparing versions numerically ("16" > "9.6"), or "".
func newestInLib(root, name string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	var best string
	var bestV []int
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		p := filepath.Join(root, e.Name(), "bin", name)
		if !ok || !isExecutable(p) {
			continue
		}
		if best == "" || slices.Compare(v, bestV) > 0 {
			best, bestV = p, v
		}
	}
	return best
}

func parseVersion(s string) ([]int, bool) {
	var v []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// pickUser returns the user to run PostgreSQL as: nil unless we are root.
func pickUser() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &runAs{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

// childEnv is the environment of initdb and postgres: ours without PG*
// variables (PGDATA, PGPORT... must not redirect them) and with the C locale.
func childEnv() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=")
	})
	return append(env, "LC_ALL=C")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before postgres binds it; start then retries
// with a new one.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sweepStale removes server directories under tmp left by test binaries
// that died without cleaning up (their postmaster died with them).
func sweepStale(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being created right now
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			os.RemoveAll(dir)
		}
	}
}
