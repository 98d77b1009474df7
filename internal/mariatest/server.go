package mariatest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/weir-etl/weir/internal/testserver"
)

const (
	readyWait  = time.Minute      // how long a start may take
	stopWait   = 30 * time.Second // how long a shutdown may take before SIGKILL
	startTries = 3                // fresh ports tried when a start fails
)

// Server is a running MariaDB server started by this package. Get the
// shared one with [Shared]; [Start] starts one of your own.
type Server struct {
	dir  string // temporary root: data/, socket, log
	port int
	seq  atomic.Int64
	cmd  *exec.Cmd
	done chan struct{} // closed when mariadbd has exited
	err  error         // cmd.Wait's result, valid after done
}

// UnavailableError means the MariaDB binaries are missing: skip, not fail.
type UnavailableError = testserver.UnavailableError

// Port returns the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Socket returns the path of the server's Unix socket.
func (s *Server) Socket() string { return filepath.Join(s.dir, "mysqld.sock") }

// URL returns a mysql://root@127.0.0.1:PORT/DBNAME URL.
func (s *Server) URL(dbname string) string {
	u := url.URL{Scheme: "mysql", User: url.User("root"),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + dbname}
	return u.String()
}

// findBinary returns the first of names found on PATH or in /usr/sbin or
// /usr/bin.
func findBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", &UnavailableError{Msg: fmt.Sprintf("mariatest: MariaDB binary %s not found on PATH or in /usr/sbin, /usr/bin", names[0])}
}

// Start creates a data directory and starts a server on it, blocking until
// it accepts connections (a few seconds). Stop it with [Server.Stop].
// Missing binaries are an [*UnavailableError].
func Start() (_ *Server, err error) {
	mariadbd, err := findBinary("mariadbd", "mysqld")
	if err != nil {
		return nil, err
	}
	install, err := findBinary("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "weir-mariatest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	var out bytes.Buffer
	cmd := exec.Command(install, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("mariadb-install-db: %w\n%s", err, out.Bytes())
	}
	for try := 1; ; try++ {
		s := &Server{dir: dir}
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = s.start(mariadbd); err == nil {
			return s, nil
		}
		if try == startTries {
			return nil, err
		}
	}
}

// start runs mariadbd and waits until it accepts connections.
func (s *Server) start(mariadbd string) error {
	logPath := filepath.Join(s.dir, "mariadb.log")
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(s.dir, "data"),
		"--socket=" + s.Socket(), "--port=" + strconv.Itoa(s.port), "--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(s.dir, "mariadb.pid"), "--log-error=" + logPath,
		"--skip-name-resolve", "--skip-log-bin", "--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci", "--innodb-flush-log-at-trx-commit=0",
		"--innodb-doublewrite=0", "--innodb-buffer-pool-size=256M", "--max-connections=300",
		"--max-allowed-packet=64M", "--local-infile=1"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	s.cmd = exec.Command(mariadbd, args...)
	s.cmd.Dir = s.dir
	s.cmd.SysProcAttr = sysProcAttr()
	s.done = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// The parent-death signal follows the thread that forked the
		// child: keep it until mariadbd exits, when this goroutine ends.
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	if err := s.waitReady(); err != nil {
		s.Stop()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\n%s", err, log)
	}
	return nil
}

// waitReady pings the server until it answers, exits, or readyWait passes.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyWait)
	defer cancel()
	c, err := mysql.NewConnector(s.config(""))
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("mariadbd exited during start-up: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("mariadbd not ready after %v: %w", readyWait, err)
		case <-tick.C:
		}
	}
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 30 s), waits for
// it and removes its directory. It is for the server [Start] returned;
// [Main] stops the shared one.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(sigTerm)
		t := time.NewTimer(stopWait)
		select {
		case <-s.done:
			t.Stop()
		case <-t.C:
			s.cmd.Process.Kill()
			<-s.done
			err = errors.New("mariadbd ignored SIGTERM and was killed")
		}
	}
	if rerr := os.RemoveAll(s.dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("stop server in %s: %w", s.dir, err)
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
