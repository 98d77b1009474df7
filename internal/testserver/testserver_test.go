package testserver

import (
	"errors"
	"testing"
)

// tests is a test run: it calls get (or not) and returns code.
type tests struct {
	get  func()
	code int
}

func (m tests) Run() int {
	if m.get != nil {
		m.get()
	}
	return m.code
}

func TestRunStopsOnlyAServerATestStarted(t *testing.T) {
	var starts, stops int
	newShared := func() *Shared[int] {
		return &Shared[int]{Name: "x",
			Start: func() (int, error) { starts++; return 7, nil },
			Stop:  func(s int) error { stops++; return nil }}
	}
	sh := newShared()
	if code := sh.Run(tests{code: 0}); code != 0 || starts != 0 || stops != 0 {
		t.Fatalf("no test asked: code %d, %d starts, %d stops; want 0, 0, 0", code, starts, stops)
	}
	sh = newShared()
	code := sh.Run(tests{get: func() {
		if s := sh.Get(t); s != 7 || sh.Get(t) != 7 {
			t.Errorf("Get = %d, want 7", s)
		}
	}, code: 3})
	if code != 3 || starts != 1 || stops != 1 {
		t.Fatalf("two Gets: code %d, %d starts, %d stops; want 3 (the tests'), 1, 1", code, starts, stops)
	}
}

func TestRunFailsWhenStopFails(t *testing.T) {
	sh := &Shared[int]{Name: "x", Start: func() (int, error) { return 1, nil },
		Stop: func(int) error { return errors.New("still running") }}
	if code := sh.Run(tests{get: func() { sh.Get(t) }}); code != 1 {
		t.Fatalf("code %d, want 1: a server that did not stop fails the binary", code)
	}
}

func TestWrapRunsBothServers(t *testing.T) {
	var stopped []string
	mk := func(name string) *Shared[string] {
		return &Shared[string]{Name: name, Start: func() (string, error) { return name, nil },
			Stop: func(s string) error { stopped = append(stopped, s); return nil }}
	}
	a, b := mk("a"), mk("b")
	a.Run(b.Wrap(tests{get: func() { a.Get(t); b.Get(t) }}))
	if len(stopped) != 2 || stopped[0] != "b" || stopped[1] != "a" {
		t.Fatalf("stopped %v, want [b a]: the inner server first, then the outer", stopped)
	}
}
