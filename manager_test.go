package weir_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/weir-etl/weir"
)

func TestManagerLimitsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan string, 10)
		release := make(chan struct{})
		m := &weir.Manager{Limit: 2}
		for _, name := range []string{"a", "b", "c", "d", "e"} {
			m.Add(name, weir.RunnerFunc(func(ctx context.Context) error {
				started <- name
				<-release
				return nil
			}))
		}
		done := make(chan error)
		go func() { done <- m.Run(context.Background()) }()
		synctest.Wait() // everyone that can start has started and blocked
		if n := len(started); n != 2 {
			t.Fatalf("%d runners in flight with Limit 2", n)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if n := len(started); n != 5 {
			t.Fatalf("%d runners ran, want 5", n)
		}
	})
}

func TestManagerJoinsEveryFailure(t *testing.T) {
	errA, errC := errors.New("a broke"), errors.New("c broke")
	m := &weir.Manager{Limit: 1}
	m.Add("a", weir.RunnerFunc(func(context.Context) error { return errA }))
	m.Add("b", weir.RunnerFunc(func(context.Context) error { return nil }))
	m.Add("c", weir.RunnerFunc(func(context.Context) error { return errC }))
	err := m.Run(context.Background())
	if !errors.Is(err, errA) || !errors.Is(err, errC) {
		t.Fatalf("Run = %v, want both failures", err)
	}
	for _, want := range []string{`pipeline "a": a broke`, `pipeline "c": c broke`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Run error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Run error %q names the pipeline that succeeded", err)
	}
}

func TestManagerFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		fail := make(chan struct{})
		m := &weir.Manager{Limit: 2, FailFast: true}
		m.Add("slow", weir.RunnerFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}))
		m.Add("bad", weir.RunnerFunc(func(context.Context) error {
			<-fail
			return boom
		}))
		var ranLate bool
		m.Add("late", weir.RunnerFunc(func(context.Context) error { ranLate = true; return nil }))
		done := make(chan error)
		go func() { done <- m.Run(context.Background()) }()
		synctest.Wait()
		close(fail)
		err := <-done
		if !errors.Is(err, boom) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want boom and the cancellation of the others", err)
		}
		if ranLate {
			t.Errorf("a runner started after FailFast cancelled the run")
		}
		for _, want := range []string{`pipeline "bad": boom`, `pipeline "slow"`, `pipeline "late": skipped`, `pipeline "bad" failed`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Run error %q lacks %q", err, want)
			}
		}
	})
}

func TestManagerRunsRealPipelinesAndRecoversPanics(t *testing.T) {
	var sink collector[int]
	p := mustNew(t, weir.FromSlice(ints(500)), weir.Identity[int](), &sink, weir.Config{})
	m := &weir.Manager{}
	m.Add("copy", p)
	m.Add("panics", weir.RunnerFunc(func(context.Context) error { panic("oops") }))
	err := m.Run(context.Background())
	var pe *weir.PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), `pipeline "panics"`) {
		t.Fatalf("Run = %v, want the panic as an error naming its pipeline", err)
	}
	if got := len(sink.all()); got != 500 {
		t.Errorf("pipeline loaded %d records, want 500", got)
	}
	if err := m.Run(context.Background()); err == nil {
		t.Errorf("second Run succeeded")
	}
}

func TestManagerAddPanicsOnMisuse(t *testing.T) {
	for name, add := range map[string]func(m *weir.Manager){
		"empty name": func(m *weir.Manager) { m.Add("", weir.RunnerFunc(nil)) },
		"nil runner": func(m *weir.Manager) { m.Add("x", nil) },
		"duplicate": func(m *weir.Manager) {
			r := weir.RunnerFunc(func(context.Context) error { return nil })
			m.Add("x", r)
			m.Add("x", r)
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Add did not panic")
				}
			}()
			add(&weir.Manager{})
		})
	}
}
