package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/postgres"
)

// events records what the steps of a test did, in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

func (e *events) index(s string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Index(e.log, s)
}

// twoTables is a copy of parent and child (child references parent), one
// range each, with parent's index, primary key and identity and child's
// foreign key: the plan PlanBuild makes for them.
func twoTables() (*dbCopy, []loadJob, postgres.BuildPlan) {
	parent := &dbTable{Table: catalog.Table{Name: "parent", Columns: []catalog.Column{{Name: "id", Identity: true}},
		PrimaryKey: []string{"id"}, Rows: 10}, create: true, res: &tableResult{ranges: 1}}
	child := &dbTable{Table: catalog.Table{Name: "child", Columns: []catalog.Column{{Name: "pid"}},
		ForeignKeys: []catalog.ForeignKey{{Columns: []string{"pid"}, RefTable: "parent", RefColumns: []string{"id"}}}, Rows: 1000},
		create: true, res: &tableResult{ranges: 1}}
	c := &dbCopy{tables: []*dbTable{parent, child}}
	plan := postgres.PlanBuild("s", []catalog.Table{parent.Table, child.Table})
	return c, []loadJob{{t: child}, {t: parent}}, plan
}

// TestStepsBuildKeysWhileOtherTablesLoad: the parent's index is built
// while the child still loads. The child's load returns only once the
// index is built: were the keys built after every load, the steps would
// wait on each other for ever, which synctest reports as a deadlock.
func TestStepsBuildKeysWhileOtherTablesLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, jobs, plan := twoTables()
		var ev events
		indexBuilt := make(chan struct{})
		load := func(ctx context.Context, j loadJob) error {
			if j.t.Name == "child" {
				<-indexBuilt
			}
			ev.add("loaded " + j.t.Name)
			return nil
		}
		build := func(ctx context.Context, s postgres.BuildStep) error {
			ev.add(s.What + " " + s.Table)
			if s.What == "index" && s.Table == "parent" {
				close(indexBuilt)
			}
			return nil
		}
		loadErr, buildErr := runSteps(t.Context(), 2, c.steps(jobs, plan, nil, load, build))
		if loadErr != nil || buildErr != nil {
			t.Fatal(loadErr, buildErr)
		}
		// The order each table's keys need.
		for _, before := range [][2]string{
			{"loaded parent", "index parent"}, {"index parent", "primary key parent"}, {"loaded parent", "identity parent"},
			{"index parent", "loaded child"}, {"loaded child", "foreign key child"}, {"primary key parent", "foreign key child"},
			{"foreign key child", "validate child"},
		} {
			if i, j := ev.index(before[0]), ev.index(before[1]); i < 0 || j < 0 || i > j {
				t.Errorf("%q at %d, %q at %d: want the first before the second (%v)", before[0], i, before[1], j, ev.log)
			}
		}
	})
}

// TestStepsLoadParentsFirst: with parents given (--data-only into tables
// with foreign keys), the child's load starts only once the parent is
// loaded, though a loader is free; the parent's load is held until every
// goroutine is blocked, so a child started early would see it unfinished.
func TestStepsLoadParentsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, jobs, _ := twoTables()
		gate := make(chan struct{})
		var mu sync.Mutex
		parentDone, childEarly := false, false
		load := func(ctx context.Context, j loadJob) error {
			mu.Lock()
			defer mu.Unlock()
			if j.t.Name == "parent" {
				mu.Unlock()
				<-gate
				mu.Lock()
				parentDone = true
			} else if !parentDone {
				childEarly = true
			}
			return nil
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			runSteps(t.Context(), 2, c.steps(jobs, postgres.BuildPlan{}, map[string][]string{"child": {"parent"}}, load, nil))
		}()
		synctest.Wait()
		close(gate)
		<-done
		if childEarly {
			t.Errorf("the child's rows were loaded before its parent's")
		}
	})
}

// TestRunSteps checks the runner's contract, with failures.
func TestRunSteps(t *testing.T) {
	t.Run("at most n at once, after what they wait for", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			running, peak := 0, 0
			var ev events
			release := make(chan struct{})
			mk := func(name string, after ...*step) *step {
				return &step{name: name, after: after, run: func(context.Context) error {
					mu.Lock()
					running++
					peak = max(peak, running)
					mu.Unlock()
					<-release
					ev.add(name)
					mu.Lock()
					running--
					mu.Unlock()
					return nil
				}}
			}
			a, b, c := mk("a"), mk("b"), mk("c")
			d := mk("d", a, b, c)
			var loadErr, buildErr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				loadErr, buildErr = runSteps(t.Context(), 2, []*step{d, a, b, c})
			}()
			synctest.Wait() // every step that may start has started
			mu.Lock()
			if running != 2 {
				t.Errorf("%d steps running, want 2", running)
			}
			mu.Unlock()
			close(release)
			<-done
			if loadErr != nil || buildErr != nil {
				t.Fatal(loadErr, buildErr)
			}
			if peak != 2 || ev.index("d") != 3 {
				t.Errorf("peak %d, order %v: want 2 at once, d after a, b and c", peak, ev.log)
			}
		})
	})
	t.Run("a build failure stops the builds, not the loads", func(t *testing.T) {
		boom := errors.New("boom")
		var ev events
		ok := func(name string, build bool, after ...*step) *step {
			return &step{name: name, build: build, after: after, run: func(context.Context) error { ev.add(name); return nil }}
		}
		bad := &step{name: "bad", build: true, run: func(context.Context) error { return boom }}
		load1 := ok("load1", false)
		load2 := ok("load2", false, bad)
		later := ok("later", true, load1, bad)
		loadErr, buildErr := runSteps(t.Context(), 1, []*step{bad, load1, later, load2})
		if loadErr != nil || !errors.Is(buildErr, boom) {
			t.Errorf("runSteps = %v, %v; want nil, boom", loadErr, buildErr)
		}
		if ev.index("load1") < 0 || ev.index("later") >= 0 || ev.index("load2") >= 0 {
			t.Errorf("ran %v: want load1 only (load2 and later wait on the failed step)", ev.log)
		}
	})
	t.Run("a load failure cancels the others", func(t *testing.T) {
		boom := errors.New("boom")
		started := make(chan struct{})
		waiter := &step{name: "waiter", run: func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() }}
		failer := &step{name: "failer", run: func(context.Context) error { <-started; return boom }}
		never := &step{name: "never", run: func(context.Context) error { t.Error("a step started after a load failed"); return nil }}
		loadErr, _ := runSteps(t.Context(), 2, []*step{waiter, failer, never})
		if !errors.Is(loadErr, boom) {
			t.Errorf("loadErr = %v, want boom", loadErr)
		}
	})
	t.Run("a cycle is an error, not a hang", func(t *testing.T) {
		a := &step{name: "a", run: func(context.Context) error { return nil }}
		b := &step{name: "b", run: func(context.Context) error { return nil }, after: []*step{a}}
		a.after = []*step{b}
		if _, err := runSteps(t.Context(), 2, []*step{a, b}); err == nil {
			t.Errorf("runSteps of a cycle = nil, want an error")
		}
	})
}
