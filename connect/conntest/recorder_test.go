package conntest_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir/connect/conntest"
)

// report is what a run of the kit under a recorder reported.
type report struct {
	mu       sync.Mutex
	failed   map[string]bool // checks that reported a failure themselves
	messages []string        // "check: message", in order
}

// failedChecks returns the names of the checks that reported a failure,
// sorted; the top level is "".
func (r *report) failedChecks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name := range r.failed {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func (r *report) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.messages, "\n")
}

// recorder is a conntest.Tester that writes failures to a report instead
// of failing the test. Like a *testing.T, it runs each subtest on a
// goroutine of its own, which Fatalf and Skipf end with runtime.Goexit; it
// cancels the subtest's context, then runs its cleanups, when the subtest
// returns.
type recorder struct {
	t      *testing.T // handed to the connector's Open funcs
	name   string
	report *report
	ctx    context.Context

	mu       sync.Mutex
	failed   bool
	cleanups []func()
}

// record runs f, the kit's entry point, under a recorder and returns what
// the checks reported.
func record(t *testing.T, f func(conntest.Tester)) *report {
	root := &recorder{t: t, report: &report{failed: map[string]bool{}}}
	root.run(f)
	return root.report
}

// run runs f on a goroutine of its own and waits for it and its cleanups.
func (r *recorder) run(f func(conntest.Tester)) {
	ctx, cancel := context.WithCancel(context.Background())
	r.ctx = ctx
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.runCleanups()
		defer cancel()
		f(r)
	}()
	<-done
}

func (r *recorder) runCleanups() {
	for {
		r.mu.Lock()
		if len(r.cleanups) == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[len(r.cleanups)-1]
		r.cleanups = r.cleanups[:len(r.cleanups)-1]
		r.mu.Unlock()
		f()
	}
}

func (r *recorder) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.report.mu.Lock()
	r.report.failed[r.name] = true
	r.report.messages = append(r.report.messages, r.name+": "+msg)
	r.report.mu.Unlock()
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) { runtime.Goexit() }

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

func (r *recorder) Context() context.Context { return r.ctx }

func (r *recorder) Test() *testing.T { return r.t }

func (r *recorder) Run(name string, f func(conntest.Tester)) bool {
	if r.name != "" {
		name = r.name + "/" + name
	}
	sub := &recorder{t: r.t, name: name, report: r.report}
	sub.run(f)
	sub.mu.Lock()
	failed := sub.failed
	sub.mu.Unlock()
	if failed {
		r.mu.Lock()
		r.failed = true
		r.mu.Unlock()
	}
	return !failed
}

// catches runs f, a kit entry point, under a recorder as the subtest name,
// and checks that exactly the checks want failed.
func catches(t *testing.T, name string, f func(conntest.Tester), want ...string) {
	t.Helper()
	t.Run(name, func(t *testing.T) { checkReport(t, record(t, f), want...) })
}

// checkReport checks that exactly the checks want failed, and logs the
// kit's messages so that a reader of -v output can judge them.
func checkReport(t *testing.T, rep *report, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := rep.failedChecks(); !slices.Equal(got, want) {
		t.Errorf("failed checks:\n\t%s\nwant:\n\t%s\nthe kit said:\n%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"), rep)
		return
	}
	if len(want) > 0 {
		t.Logf("the kit said:\n%s", rep)
	}
}
