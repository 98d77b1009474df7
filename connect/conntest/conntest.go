// Package conntest checks that a connector keeps the contracts weir's engine
// relies on, in the spirit of [testing/fstest.TestFS]: one call per
// interface, from the connector's own tests, and the kit runs every check of
// that interface's contract as a named subtest.
//
//	func TestSource(t *testing.T) {
//		conntest.Source(t, conntest.SourceCase[User]{
//			Open: func(t *testing.T) weir.Source[User] { return openUsers(t) },
//			Want: users,
//		})
//	}
//
// The entry points are [Source] (a [weir.Source], and the [weir.Positioner]
// and [weir.Closer] it may implement), [Sink] (a [weir.Sink] and its
// [weir.Closer]), [CheckpointStore] (a [weir.CheckpointStore]),
// [CheckpointSink] (a [weir.CheckpointSink]), and [Config] for the
// Validate method every connector config has. Each takes a case struct of
// funcs that open the connector under test, and data to compare with. The
// doc comment of each entry point lists its checks; a failure names the
// check and says what was expected and what was got.
//
// # What the kit asks of a connector's test
//
// An Open func is called many times, once or more per check, and must
// return a new connector each time: for a source, over the same data; for a
// sink, over fresh, empty storage; for a checkpoint store, over the same
// storage (the kit checks that positions survive a reopen). Open runs on
// the subtest's goroutine and may call t.Fatal; it may register its own
// t.Cleanup. The kit closes what it opens, if it implements [weir.Closer].
//
// Records are compared with the case's Equal func, or [reflect.DeepEqual]
// when it is nil. Messages print them with %+v.
//
// The checks of one call run one after another, never in parallel, so an
// Open may share a database between them; calls from parallel tests are
// independent. The kit calls no sleep and makes no timing assertion but
// one: a Read (or Write) given a cancelled context must return within 5
// seconds, a bound meant to catch a call that ignores its context, not a
// slow one. A call stuck past it is left running: the check fails and does
// not close that connector.
//
// # Beyond the interfaces' doc comments
//
// A few checks hold connectors to what the engine's use implies rather
// than to a sentence of weir's doc comments: Read keeps returning io.EOF after the end; a Read given a
// cancelled context returns the context's error even when it would not
// have blocked; Position before any Read means the start; a failed Write
// leaves the sink usable (the engine retries and splits failed batches);
// Close may be called twice; a checkpoint store is safe for concurrent use
// and refuses an empty position or keeps it apart from none.
package conntest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
)

// promptly bounds how long a Read or Write given a cancelled context may
// take to return: generous enough for a loaded CI machine, since it is there
// to catch a call that ignores its context. It is the kit's only timing
// assertion.
const promptly = 5 * time.Second

// tester is what the checks need of a *testing.T. The entry points adapt
// their *testing.T to it; the kit's own tests pass a recorder, to watch it
// fail on broken connectors.
type tester interface {
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(f func())
	Context() context.Context
	// Run runs f as the subtest name, waiting for it.
	Run(name string, f func(t tester)) bool
	// Test is the *testing.T handed to the connector's Open funcs.
	Test() *testing.T
}

// testingT adapts a *testing.T to tester.
type testingT struct{ *testing.T }

func (t testingT) Run(name string, f func(tester)) bool {
	return t.T.Run(name, func(t *testing.T) { f(testingT{t}) })
}

func (t testingT) Test() *testing.T { return t.T }

// equalFunc returns eq, or reflect.DeepEqual when eq is nil.
func equalFunc[E any](eq func(a, b E) bool) func(a, b E) bool {
	if eq != nil {
		return eq
	}
	return func(a, b E) bool { return reflect.DeepEqual(a, b) }
}

// diffSeq describes how got differs from want, element by element, or
// returns "" if they are equal.
func diffSeq[E any](eq func(a, b E) bool, got, want []E) string {
	for i := range min(len(got), len(want)) {
		if !eq(got[i], want[i]) {
			return fmt.Sprintf("record %d = %+v, want %+v (got %s, want %d)", i, got[i], want[i], records(len(got)), len(want))
		}
	}
	switch {
	case len(got) > len(want):
		return fmt.Sprintf("got %s, want %d; the first extra one is %+v", records(len(got)), len(want), got[len(want)])
	case len(got) < len(want):
		return fmt.Sprintf("got %s, want %d; the first missing one is %+v", records(len(got)), len(want), want[len(got)])
	}
	return ""
}

// diffBag is diffSeq ignoring order: it pairs each record got with an equal
// one of want, and lists those left over on either side.
func diffBag[E any](eq func(a, b E) bool, got, want []E) string {
	used := make([]bool, len(want))
	var extra []E
next:
	for i, g := range got {
		// Storage read back in the order written pairs at once.
		if i < len(want) && !used[i] && eq(g, want[i]) {
			used[i] = true
			continue
		}
		for j, w := range want {
			if !used[j] && eq(g, w) {
				used[j] = true
				continue next
			}
		}
		extra = append(extra, g)
	}
	var missing []E
	for j, w := range want {
		if !used[j] {
			missing = append(missing, w)
		}
	}
	if len(extra) == 0 && len(missing) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "got %s, want %d", records(len(got)), len(want))
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; %d missing: %s", len(missing), some(missing))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "; %d unexpected (extra copies or wrong values): %s", len(extra), some(extra))
	}
	return b.String()
}

// some formats up to five records.
func some[E any](recs []E) string {
	const most = 5
	if len(recs) <= most {
		return fmt.Sprintf("%+v", recs)
	}
	return fmt.Sprintf("%+v and %d more", recs[:most], len(recs)-most)
}

// records formats a count of records.
func records(n int) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

// chunks splits recs into n parts of about the same size (fewer if recs is
// shorter), none empty.
func chunks[E any](recs []E, n int) [][]E {
	n = max(1, min(n, len(recs)))
	var out [][]E
	for i := range n {
		lo, hi := i*len(recs)/n, (i+1)*len(recs)/n
		if lo < hi {
			out = append(out, recs[lo:hi])
		}
	}
	return out
}

// within runs f on a goroutine of its own and waits for it for at most
// [promptly]. It reports false if f had not returned by then; f is left
// running (nothing can stop it), which is why callers use it only where f
// was given a cancelled context and had every reason to return.
func within(f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(promptly)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// closing tracks a source or sink the kit opened. A cleanup closes it, if
// it is a [weir.Closer], unless done is set by then: a check closed it
// already, or left it in a call that would not return (closing it would
// race with that call).
type closing struct {
	closer weir.Closer // nil if the connector is not one
	done   bool
}

// closeLater returns the closing of v, a source or sink.
func closeLater(t tester, v any, what string) *closing {
	c := &closing{}
	c.closer, _ = v.(weir.Closer)
	if c.closer != nil {
		t.Cleanup(func() {
			if c.done {
				return
			}
			if err := c.closer.Close(context.Background()); err != nil {
				t.Errorf("Close of a %s the kit opened = %v, want nil", what, err)
			}
		})
	}
	return c
}

// closeTwice closes the connector twice, as a run and its caller may, and
// checks that both calls return nil. The connector must be a weir.Closer.
func (c *closing) closeTwice(t tester) {
	c.done = true
	if err := c.closer.Close(t.Context()); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if err := c.closer.Close(t.Context()); err != nil {
		t.Errorf("second Close = %v, want nil: Close must be idempotent", err)
	}
}
