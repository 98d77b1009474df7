package weir_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/weir-etl/weir"
)

type user struct {
	ID    int
	Name  string
	Email string
}

type row struct {
	ID     int
	Domain string
}

// Run a pipeline: users from a slice, mapped to rows, loaded by a sink that
// here just collects them.
func Example() {
	users := []user{{1, "ada", "ada@example.com"}, {2, "bob", "bob@example.org"}, {3, "cy", "cy@example.com"}}
	var mu sync.Mutex
	var loaded []row
	p, err := weir.New(
		weir.FromSlice(users),
		weir.Map(func(_ context.Context, u user) (row, error) {
			_, domain, _ := strings.Cut(u.Email, "@")
			return row{u.ID, domain}, nil
		}),
		weir.SinkFunc[row](func(_ context.Context, batch []row) error {
			mu.Lock()
			defer mu.Unlock()
			loaded = append(loaded, batch...)
			return nil
		}),
		weir.Config{BatchSize: 2, Workers: 1},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loaded)
	st := p.Stats()
	fmt.Println(st.Extract.Records, "extracted,", st.Load.Records, "loaded in", st.Load.Batches, "batches")
	// Output:
	// [{1 example.com} {2 example.org} {3 example.com}]
	// 3 extracted, 3 loaded in 2 batches
}

// printSink is a sink for the examples: one line per batch. With Workers 1 the
// batches arrive in extract order.
func printSink[T any]() weir.Sink[T] {
	return weir.SinkFunc[T](func(_ context.Context, batch []T) error {
		fmt.Println(batch)
		return nil
	})
}

func run[E, T any](src weir.Source[E], tr weir.Transform[E, T], cfg weir.Config) {
	cfg.Workers = 1
	p, err := weir.New(src, tr, printSink[T](), cfg)
	if err == nil {
		err = p.Run(context.Background())
	}
	if err != nil {
		fmt.Println("error:", err)
	}
}

func ExampleMap() {
	run(weir.FromSlice([]int{1, 2, 3, 4}), weir.Map(func(_ context.Context, v int) (string, error) {
		return strings.Repeat("*", v), nil
	}), weir.Config{BatchSize: 4})
	// Output: [* ** *** ****]
}

func ExampleFilter() {
	run(weir.FromSlice([]int{1, 2, 3, 4, 5, 6}), weir.Filter(func(v int) bool { return v%2 == 0 }), weir.Config{BatchSize: 3})
	// Output:
	// [2]
	// [4 6]
}

func ExampleFlatMap() {
	// One order becomes one row per line item; an order with none, zero rows.
	orders := [][]string{{"tea", "milk"}, {}, {"bread"}}
	run(weir.FromSlice(orders), weir.FlatMap(func(_ context.Context, items []string, out []string) ([]string, error) {
		return append(out, items...), nil
	}), weir.Config{})
	// Output: [tea milk bread]
}

func ExampleMapBatch() {
	// One lookup for the whole batch instead of one per record.
	prices := map[string]int{"tea": 3, "milk": 2}
	lookup := func(keys []string) []int {
		out := make([]int, len(keys))
		for i, k := range keys {
			out[i] = prices[k]
		}
		return out
	}
	run(weir.FromSlice([]string{"tea", "milk", "tea"}), weir.MapBatch(func(_ context.Context, in []string, out []int) ([]int, error) {
		return append(out, lookup(in)...), nil
	}), weir.Config{})
	// Output: [3 2 3]
}

func ExampleInPlace() {
	// Edits records where they stand: no output batch is allocated.
	run(weir.FromSlice([]user{{1, "ada", "ADA@EXAMPLE.COM"}}), weir.InPlace(func(_ context.Context, u *user) error {
		u.Email = strings.ToLower(u.Email)
		return nil
	}), weir.Config{})
	// Output: [{1 ada ada@example.com}]
}

func ExampleThen() {
	tr := weir.Then(
		weir.Filter(func(u user) bool { return u.Email != "" }),
		weir.Map(func(_ context.Context, u user) (string, error) { return u.Name, nil }),
	)
	run(weir.FromSlice([]user{{1, "ada", "a@x"}, {2, "ghost", ""}, {3, "cy", "c@x"}}), tr, weir.Config{})
	// Output: [ada cy]
}

func ExampleFromSeq() {
	run(weir.FromSeq(slices.Values([]string{"a", "b", "c"})), weir.Identity[string](), weir.Config{BatchSize: 2})
	// Output:
	// [a b]
	// [c]
}

func ExampleWithHooks() {
	p, _ := weir.New(weir.FromSlice([]int{1, 2, 3}), weir.Identity[int](), weir.SinkFunc[int](func(context.Context, []int) error {
		return errors.New("database is read-only")
	}), weir.Config{}, weir.WithHooks(weir.Hooks{
		Before: func(context.Context) error { fmt.Println("before"); return nil },
		After: func(_ context.Context, st weir.Stats, err error) error {
			fmt.Printf("after: %d loaded, error: %v\n", st.Load.Records, err)
			return nil
		},
	}))
	_ = p.Run(context.Background())
	// Output:
	// before
	// after: 0 loaded, error: weir: load batch 0 (records 0-2): database is read-only
}

func ExampleManager() {
	m := &weir.Manager{Limit: 2}
	for _, name := range []string{"users", "orders"} {
		p, _ := weir.New(weir.FromSlice([]int{1, 2, 3}), weir.Identity[int](),
			weir.SinkFunc[int](func(context.Context, []int) error { return nil }), weir.Config{})
		m.Add(name, p)
	}
	m.Add("broken", weir.RunnerFunc(func(context.Context) error { return errors.New("no such table") }))
	fmt.Println(m.Run(context.Background()))
	// Output: pipeline "broken": no such table
}

// New finds contradictions before anything runs: here a Skip policy with
// nowhere to put the skipped records.
func ExampleNew_contradiction() {
	_, err := weir.New(weir.FromSlice([]int{1, 2, 3}), weir.Identity[int](),
		weir.SinkFunc[int](func(context.Context, []int) error { return nil }),
		weir.Config{OnLoadError: weir.Skip})
	fmt.Println(err)
	// Output: weir: New: an error policy is Skip but there is no dead-letter sink: pass WithDeadLetter
}

// Records that fail under the Skip policy go to the dead-letter sink, each
// with its stage, position and error.
func ExampleWithDeadLetter() {
	var failed []weir.Failure
	dl := weir.SinkFunc[weir.Failure](func(_ context.Context, fs []weir.Failure) error {
		failed = append(failed, fs...)
		return nil
	})
	parse := weir.Map(func(_ context.Context, s string) (int, error) {
		var n int
		_, err := fmt.Sscanf(s, "%d", &n)
		return n, err
	})
	var sum int
	p, err := weir.New(weir.FromSlice([]string{"1", "two", "3"}), parse,
		weir.SinkFunc[int](func(_ context.Context, b []int) error {
			for _, v := range b {
				sum += v
			}
			return nil
		}),
		weir.Config{Workers: 1, OnTransformError: weir.Skip}, weir.WithDeadLetter(dl))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sum", sum)
	for _, f := range failed {
		fmt.Printf("%s record %d (%v): %s\n", f.Stage, f.Position, f.Record, f.Error)
	}
	// Output:
	// sum 4
	// transform record 1 (two): expected integer
}
