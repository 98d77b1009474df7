// Package testserver is what the throwaway-server packages for tests
// (internal/pgtest, internal/mariatest) share: one server per test binary,
// started by the first test that needs it and stopped after the last, and
// the rule that a missing server skips a test except under CI, where it
// fails.
package testserver

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode"
)

// Tests is what [Shared.Run] runs: a *testing.M, or another server's Run
// wrapped around one (see [Shared.Wrap]), so that one test binary can share
// several servers:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(mariatest.Wrap(m))) }
type Tests interface{ Run() int }

// Shared is one test binary's server of type S. The zero value is not
// usable: set Name, Start and Stop.
type Shared[S any] struct {
	// Name prefixes messages, e.g. "pgtest".
	Name string
	// Start starts a server. An error that wraps an [UnavailableError]
	// skips (or, under CI, fails) the test instead of failing it.
	Start func() (S, error)
	// Stop stops a server Start returned and removes its files.
	Stop func(S) error

	mainCalled atomic.Bool
	once       sync.Once
	started    atomic.Bool
	srv        S
	err        error
}

// UnavailableError says a server cannot run on this machine (its binaries
// are missing); Msg says which and how to install them.
type UnavailableError struct{ Msg string }

func (e *UnavailableError) Error() string { return e.Msg }

// Run runs the tests, then stops the server if a test started it, and
// returns the status to exit with: the tests', or 1 if stopping failed
// (reported on standard error, as there is no one to return it to).
func (sh *Shared[S]) Run(m Tests) (code int) {
	sh.mainCalled.Store(true)
	defer func() {
		if !sh.started.Load() || sh.err != nil {
			return
		}
		if err := sh.Stop(sh.srv); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", sh.Name, err)
			if code == 0 {
				code = 1
			}
		}
	}()
	return m.Run()
}

// Wrap returns tests that [Shared.Run] m when run.
func (sh *Shared[S]) Wrap(m Tests) Tests { return wrapped[S]{sh, m} }

type wrapped[S any] struct {
	sh *Shared[S]
	m  Tests
}

func (w wrapped[S]) Run() int { return w.sh.Run(w.m) }

// Get returns the server, starting it on first use; later calls return at
// once. It skips t (fails it under CI) when the server is unavailable, and
// fails t if it cannot start or if TestMain does not call Run (the server
// would outlive the tests). Safe for concurrent use.
func (sh *Shared[S]) Get(t testing.TB) S {
	t.Helper()
	if !sh.mainCalled.Load() {
		t.Fatalf("%s: TestMain must call %s.Main(m) (or Run) so the server is stopped after the tests", sh.Name, sh.Name)
	}
	sh.once.Do(func() {
		sh.srv, sh.err = sh.Start()
		sh.started.Store(true)
	})
	if sh.err != nil {
		var u *UnavailableError
		if errors.As(sh.err, &u) {
			Unavailable(t, u.Error())
		}
		t.Fatalf("%s: %v", sh.Name, sh.err)
	}
	return sh.srv
}

// Unavailable skips t, or fails it when the CI environment variable is set,
// so that a CI machine missing a server cannot pass by skipping.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set: failing instead of skipping)", msg)
	}
	t.Skip(msg)
}

// DBName makes a database name from a test's name and a sequence number:
// "t_", then lower-case ASCII letters, digits and underscores (40 bytes at
// most), then "_" and seq, within the name limits of PostgreSQL (63
// bytes) and MariaDB (64 characters).
func DBName(test string, seq int64) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	fmt.Fprintf(&b, "_%d", seq)
	return b.String()
}
