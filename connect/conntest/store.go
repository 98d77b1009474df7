package conntest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
)

// CheckpointStoreCase is the checkpoint store [CheckpointStore] checks.
type CheckpointStoreCase struct {
	// Open returns a store on the same storage on every call, opened anew
	// (a new store on the same file, the same database), so that the kit
	// can check that positions survive a reopen. Create the storage once,
	// outside Open, new to the test (in t.TempDir, a fresh database): the
	// kit takes a job it has not saved for unknown. Its job names contain
	// "conntest-". Required.
	Open func(t *testing.T) weir.CheckpointStore
}

// CheckpointStore checks the store c.Open returns against the contract of
// [weir.CheckpointStore]. It blocks until every check has run, as
// subtests of t named after what they check:
//
//   - Load of an unknown job returns nil: nil itself, with no error, which
//     the engine takes for "start from the beginning".
//   - Load returns what Save saved.
//   - Save replaces the job's position: also with a shorter one.
//   - positions are kept byte for byte: JSON that is not compact, with
//     keys out of order or numbers a float64 would round; text that is
//     not UTF-8; every byte value; 64 KiB.
//   - jobs are kept apart: names that differ in case, in a trailing
//     space, by a suffix, or hold "/", "%", "_" or quotes.
//   - positions survive a reopen: a store from another Open call loads
//     what the first saved.
//   - an empty position is refused or kept apart from none: Save of
//     []byte{} fails, or Load returns it empty but not nil.
//   - concurrent Saves of different jobs are all kept: the pipelines of a
//     weir.Manager may share one store.
//
// Cost: 9 Opens, about 50 Saves and as many Loads.
func CheckpointStore(t *testing.T, c CheckpointStoreCase) {
	testStore(testingT{t}, c)
}

func testStore(t tester, c CheckpointStoreCase) {
	if c.Open == nil {
		t.Fatalf("conntest: CheckpointStoreCase.Open is nil")
	}
	open := func(t tester) weir.CheckpointStore {
		s := c.Open(t.Test())
		if s == nil {
			t.Fatalf("Open returned a nil store")
		}
		return s
	}
	t.Run("Load of an unknown job returns nil", func(t tester) {
		store := open(t)
		if pos, err := store.Load(t.Context(), "conntest-never-saved"); pos != nil || err != nil {
			t.Errorf("Load of a job never saved = %s, %v; want nil, nil", describe(pos), err)
		}
	})
	t.Run("Load returns what Save saved", func(t tester) {
		saveLoad(t, open(t), map[string][]byte{"conntest-saved": []byte(`{"line":12}`)})
	})
	t.Run("Save replaces the job's position", func(t tester) {
		store := open(t)
		for _, pos := range []string{`{"line":1}`, `{"line":1234567}`, `{"line":7}`} {
			save(t, store, "conntest-replaced", []byte(pos))
		}
		if got := load(t, store, "conntest-replaced"); string(got) != `{"line":7}` {
			t.Errorf("Load after Saves of `{\"line\":1}`, `{\"line\":1234567}` and `{\"line\":7}` = %s; want the last one", describe(got))
		}
	})
	t.Run("positions are kept byte for byte", func(t tester) {
		jobs := map[string][]byte{}
		for i, pos := range trickyPositions() {
			jobs[fmt.Sprintf("conntest-bytes-%d", i)] = pos
		}
		saveLoad(t, open(t), jobs)
	})
	t.Run("jobs are kept apart", func(t tester) {
		jobs := map[string][]byte{}
		for i, name := range []string{
			"conntest-apart", "conntest-Apart", "conntest-APART", "conntest-apart ", " conntest-apart",
			"conntest-apart2", "conntest-apar", "conntest-apart/2", "conntest-apart.2", "conntest-apärt",
			"conntest-apart%", "conntest-apart_", "conntest-apart'\"`; --", "conntest-" + strings.Repeat("long", 50),
		} {
			jobs[name] = fmt.Appendf(nil, `{"job":%d}`, i)
		}
		saveLoad(t, open(t), jobs)
	})
	t.Run("positions survive a reopen", func(t tester) {
		jobs := map[string][]byte{
			"conntest-reopen-a": []byte(`{"line":1}`),
			"conntest-reopen-b": []byte("\x00\xff binary"),
		}
		first := open(t)
		save(t, first, "conntest-reopen-a", []byte(`{"line":999}`))
		for job, pos := range jobs {
			save(t, first, job, pos)
		}
		second := open(t)
		for job, pos := range jobs {
			if got := load(t, second, job); !bytes.Equal(got, pos) {
				t.Errorf("a store from another Open loads %s for %q; want %s, saved by the first", describe(got), job, describe(pos))
			}
		}
	})
	t.Run("an empty position is refused or kept apart from none", func(t tester) {
		store := open(t)
		if err := store.Save(t.Context(), "conntest-empty", []byte{}); err != nil {
			return // refused
		}
		if got := load(t, store, "conntest-empty"); got == nil || len(got) != 0 {
			t.Errorf("Save of an empty position succeeded, but Load returns %s; want it empty and not nil (nil means no position): refuse it or keep it", describe(got))
		}
	})
	t.Run("concurrent Saves of different jobs are all kept", func(t tester) {
		const writers, saves = 4, 20
		store := open(t)
		ctx := t.Context()
		errs := make([]error, writers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				<-start
				for i := range saves {
					if err := store.Save(ctx, fmt.Sprintf("conntest-concurrent-%d", w), fmt.Appendf(nil, `{"line":%d}`, i)); err != nil {
						errs[w] = fmt.Errorf("Save #%d of conntest-concurrent-%d: %w", i+1, w, err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Saves: %v; want nil", err)
		}
		for w := range writers {
			job := fmt.Sprintf("conntest-concurrent-%d", w)
			if got, want := load(t, store, job), fmt.Sprintf(`{"line":%d}`, saves-1); string(got) != want {
				t.Errorf("after %d goroutines saved %d positions each, Load(%q) = %s; want its last Save, `%s`", writers, saves, job, describe(got), want)
			}
		}
	})
}

// trickyPositions are positions a store might not keep exactly.
func trickyPositions() [][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	large := make([]byte, 64<<10)
	x := uint32(1)
	for i := range large {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		large[i] = byte(x)
	}
	return [][]byte{
		[]byte(`{"key":"42"}`),
		[]byte(`{ "spaced" : [1, 2] }`),
		[]byte(`{"b":1,"a":2}`),                        // a store that decodes JSON into a map sorts keys
		[]byte(`{"n":123456789012345678901234567890}`), // and rounds numbers
		[]byte(`{"n":1.0}`),
		[]byte(`{"k":"<tag> & more"}`), // and escapes HTML
		[]byte(`{"k":"\u00fc"}`),
		[]byte(`{"k":"ünïcødé ✓ 日本語"}`),
		[]byte(`"just a string"`),
		[]byte("{\"line\":1}\n"),
		[]byte(" 1"),
		[]byte("\xc3\x28 not UTF-8"),
		[]byte("\x00\xff\xfe binary"),
		all,
		large,
	}
}

// describe formats a position for a message: in backquotes if it can be,
// as JSON positions can, else quoted; its length and first bytes if it is
// long.
func describe(pos []byte) string {
	switch {
	case len(pos) > 80:
		return fmt.Sprintf("%d bytes starting %s", len(pos), describe(pos[:32]))
	case pos == nil:
		return "nil"
	case len(pos) == 0:
		return "[]byte{}"
	case strconv.CanBackquote(string(pos)):
		return "`" + string(pos) + "`"
	}
	return fmt.Sprintf("%q", pos)
}

func save(t tester, store weir.CheckpointStore, job string, pos []byte) {
	if err := store.Save(t.Context(), job, pos); err != nil {
		t.Fatalf("Save(%q, %s) = %v, want nil", job, describe(pos), err)
	}
}

// saveLoad saves each job's position, then loads them all back.
func saveLoad(t tester, store weir.CheckpointStore, jobs map[string][]byte) {
	for job, pos := range jobs {
		save(t, store, job, pos)
	}
	for job, pos := range jobs {
		got := load(t, store, job)
		if bytes.Equal(got, pos) {
			continue
		}
		at := 0
		for at < min(len(got), len(pos)) && got[at] == pos[at] {
			at++
		}
		t.Errorf("Load(%q) = %s; want %s, as saved (they differ from byte %d)", job, describe(got), describe(pos), at)
	}
}
