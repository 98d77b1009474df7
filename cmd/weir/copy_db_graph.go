package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/weir-etl/weir/connect/postgres"
)

// buildTimes is when the key phase's steps ran: its busy time summed over
// the steps, and when the last one ended.
type buildTimes struct {
	mu   sync.Mutex
	busy time.Duration
	last time.Time
}

// timed returns a function running a build step through db and adding
// its time to b.
func (b *buildTimes) timed(db postgres.DB) func(context.Context, postgres.BuildStep) error {
	return func(ctx context.Context, s postgres.BuildStep) error { return b.run(ctx, db, s) }
}

func (b *buildTimes) run(ctx context.Context, db postgres.DB, s postgres.BuildStep) error {
	t0 := time.Now()
	err := s.Run(ctx, db)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busy += time.Since(t0)
	b.last = time.Now()
	return err
}

// steps lays out the whole copy as steps for runSteps: each range of each
// table a load step; once a table's ranges are loaded, its indexes (in
// parallel), then its primary key and unique constraints, and its
// identities; once a table's constraints and those of every table it
// references are in place, its foreign keys, added NOT VALID and
// validated. So the keys of a table are built while other tables still
// load. jobs are the load steps, biggest first; parents, when set, are
// the tables each table's loads must wait for (see loadWaves). load runs a
// load step, build a build step.
func (c *dbCopy) steps(jobs []loadJob, plan postgres.BuildPlan, parents map[string][]string, load func(context.Context, loadJob) error, build func(context.Context, postgres.BuildStep) error) []*step {
	var all []*step
	loaded := map[string]*step{}
	keys := map[string]*step{}
	fks := map[string]*step{}
	for _, t := range c.tables {
		loaded[t.Name] = &step{name: t.Name + " loaded"}
		keys[t.Name] = &step{name: t.Name + " keys", build: true}
	}
	for _, j := range jobs {
		s := &step{name: fmt.Sprintf("load %s/%d", j.t.Name, j.i), run: func(ctx context.Context) error { return load(ctx, j) }}
		for _, p := range parents[j.t.Name] {
			s.after = append(s.after, loaded[p])
		}
		loaded[j.t.Name].after = append(loaded[j.t.Name].after, s)
		all = append(all, s)
	}
	buildStep := func(s postgres.BuildStep, after ...*step) *step {
		return &step{name: s.What + " " + s.Name, build: true, after: after,
			run: func(ctx context.Context) error { return build(ctx, s) }}
	}
	for _, s := range plan.Indexes {
		b := buildStep(s, loaded[s.Table])
		keys[s.Table].after = append(keys[s.Table].after, b)
		all = append(all, b)
	}
	for _, t := range c.tables {
		k := keys[t.Name]
		k.after = append(k.after, loaded[t.Name])
		var cons []postgres.BuildStep
		for _, s := range plan.Constraints {
			if s.Table == t.Name {
				cons = append(cons, s)
			}
		}
		if len(cons) > 0 {
			// One after the other: each takes the table's exclusive lock.
			k.run = func(ctx context.Context) error { return runEach(ctx, build, cons) }
		}
		all = append(all, loaded[t.Name], k)
	}
	for _, s := range plan.Identities {
		all = append(all, buildStep(s, loaded[s.Table]))
	}
	// A table's foreign keys, added one table at a time (adding one locks
	// both tables: two tables referencing each other would deadlock), then
	// validated; after those of the tables it references that come before
	// it, so that no validation holds a table another one must lock.
	var adding sync.Mutex
	for _, t := range c.tables {
		var add, validate []postgres.BuildStep
		for j, s := range plan.ForeignKeys {
			if s.Table == t.Name {
				add, validate = append(add, s), append(validate, plan.Validate[j])
			}
		}
		if len(add) == 0 {
			continue
		}
		f := &step{name: t.Name + " foreign keys", build: true, after: []*step{keys[t.Name]}}
		for _, s := range add {
			f.after = append(f.after, keys[s.Ref])
			if p := fks[s.Ref]; p != nil { // set for the tables before t only
				f.after = append(f.after, p)
			}
		}
		f.run = func(ctx context.Context) error {
			adding.Lock()
			err := runEach(ctx, build, add)
			adding.Unlock()
			if err != nil {
				return err
			}
			return runEach(ctx, build, validate)
		}
		fks[t.Name] = f
		all = append(all, f)
	}
	return all
}

// runEach runs steps one after the other, stopping at the first failure.
func runEach(ctx context.Context, build func(context.Context, postgres.BuildStep) error, steps []postgres.BuildStep) error {
	for _, s := range steps {
		if err := build(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// fkSQL lists the foreign keys among the tables of schema $1 as they are
// in the target: the referencing table and the referenced one.
const fkSQL = `SELECT c.relname::text, r.relname::text FROM pg_constraint k
	JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
	WHERE k.contype = 'f' AND c.relnamespace = $1::regnamespace AND r.relnamespace = $1::regnamespace`

// loadWaves returns, for the tables the copy loads without creating them
// (--data-only, --if-exists truncate or append), the tables their loads
// must wait for: the tables they reference by the target's foreign keys,
// so that no child row arrives before its parent. Tables referencing each
// other in a cycle wait in the catalog's order, the cycle broken where it
// closes. It also returns the tables that reference themselves, which are
// loaded in one range, in key order.
func (c *dbCopy) loadWaves(ctx context.Context) (parents map[string][]string, selfRef map[string]bool, err error) {
	existing := map[string]int{} // name → position in c.tables
	for i, t := range c.tables {
		if !t.create {
			existing[t.Name] = i
		}
	}
	if len(existing) == 0 || c.f.db.schemaOnly {
		return nil, nil, nil
	}
	rows, err := c.pool.Query(ctx, fkSQL, c.schema)
	if err != nil {
		return nil, nil, fmt.Errorf("read the foreign keys of schema %s: %w", c.schema, err)
	}
	refs := map[string][]string{}
	var child, parent string
	for rows.Next() {
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the foreign keys of schema %s: %w", c.schema, err)
		}
		if _, ok := existing[child]; ok {
			refs[child] = append(refs[child], parent)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read the foreign keys of schema %s: %w", c.schema, err)
	}
	// Order the tables parents first (Kahn's algorithm, ties and cycles
	// in the catalog's order); keep only the references to earlier ones.
	selfRef, parents = map[string]bool{}, map[string][]string{}
	placed := map[string]bool{}
	for len(placed) < len(c.tables) {
		pick := ""
		for _, t := range c.tables {
			if !placed[t.Name] && readyTable(t.Name, refs, placed, existing) {
				pick = t.Name
				break
			}
		}
		if pick == "" { // a cycle: the first table left goes next
			for _, t := range c.tables {
				if !placed[t.Name] {
					pick = t.Name
					break
				}
			}
		}
		for _, p := range refs[pick] {
			switch {
			case p == pick:
				selfRef[pick] = true
			case placed[p]:
				parents[pick] = append(parents[pick], p)
			}
		}
		placed[pick] = true
	}
	return parents, selfRef, nil
}

// readyTable reports whether every table name references, among those the
// copy loads into existing tables, is placed (or is name itself).
func readyTable(name string, refs map[string][]string, placed map[string]bool, existing map[string]int) bool {
	for _, p := range refs[name] {
		if _, copied := existing[p]; copied && p != name && !placed[p] {
			return false
		}
	}
	return true
}
