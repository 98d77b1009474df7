package bucket_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/bucket"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestProducersAndWorkersProcessEveryRecordOnce(t *testing.T) {
	b, err := bucket.New[int](weir.Config{BatchSize: 64, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int]int{}
	runErr := make(chan error)
	go func() {
		runErr <- b.Run(context.Background(), func(_ context.Context, batch []int) error {
			mu.Lock()
			defer mu.Unlock()
			for _, v := range batch {
				seen[v]++
			}
			return nil
		})
	}()
	var producers sync.WaitGroup
	for p := range 4 {
		producers.Go(func() {
			for i := range 10_000 {
				if err := b.Add(context.Background(), p*10_000+i); err != nil {
					t.Errorf("Add: %v", err)
					return
				}
			}
		})
	}
	producers.Wait()
	b.Close()
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(seen) != 40_000 {
		t.Fatalf("processed %d distinct records, want 40000", len(seen))
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("record %d processed %d times", v, n)
		}
	}
	if b.Pending() != 0 {
		t.Errorf("Pending = %d after a clean run", b.Pending())
	}
	if err := b.Add(context.Background(), 1); !errors.Is(err, bucket.ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
}

func TestFlushRules(t *testing.T) {
	cases := []struct {
		name  string
		cfg   weir.Config
		size  func(int) int
		adds  []time.Duration // gap after each Add, on the fake clock
		close bool
		want  []int
	}{
		{"size", weir.Config{BatchSize: 3, Workers: 1}, nil, gaps(7, 0), true, []int{3, 3, 1}},
		{"bytes", weir.Config{BatchSize: 100, BatchBytes: 20, Workers: 1}, func(int) int { return 10 }, gaps(5, 0), true, []int{2, 2, 1}},
		{"interval", weir.Config{BatchSize: 100, FlushInterval: 50 * time.Millisecond, Workers: 1}, nil,
			[]time.Duration{10 * time.Millisecond, 100 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}, false, []int{2, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b, err := bucket.New[int](c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if c.size != nil {
					b.WithSize(c.size)
				}
				var sizes []int
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				runErr := make(chan error)
				go func() {
					runErr <- b.Run(ctx, func(_ context.Context, batch []int) error {
						sizes = append(sizes, len(batch))
						return nil
					})
				}()
				for i, gap := range c.adds {
					if err := b.Add(ctx, i); err != nil {
						t.Fatal(err)
					}
					time.Sleep(gap) // fake clock
				}
				if c.close {
					b.Close()
				} else {
					synctest.Wait()
					cancel()
				}
				err = <-runErr
				if c.close && err != nil {
					t.Fatalf("Run: %v", err)
				}
				if !slices.Equal(sizes, c.want) {
					t.Errorf("batch sizes = %v, want %v", sizes, c.want)
				}
			})
		})
	}
}

func gaps(n int, d time.Duration) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}

// TestWorkerFailureReleasesBlockedProducers is the seed's Go sibling's
// deadlock: workers exit on an error while producers are blocked adding to a
// full buffer. Here every blocked Add returns an error wrapping ErrRunEnded.
func TestWorkerFailureReleasesBlockedProducers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bucket.New[int](weir.Config{BatchSize: 4, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("load failed")
		release := make(chan struct{})
		runErr := make(chan error)
		go func() {
			runErr <- b.Run(context.Background(), func(context.Context, []int) error {
				<-release
				return boom
			})
		}()
		const producers = 3
		addErrs := make(chan error, producers)
		for p := range producers {
			go func() {
				for i := 0; ; i++ {
					if err := b.Add(context.Background(), p*1000+i); err != nil {
						addErrs <- err
						return
					}
				}
			}()
		}
		synctest.Wait() // every producer is now blocked in Add: the pipeline is full
		close(release)
		if err := <-runErr; !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want the worker's error", err)
		}
		for range producers {
			if err := <-addErrs; !errors.Is(err, bucket.ErrRunEnded) || !errors.Is(err, boom) {
				t.Fatalf("blocked Add returned %v, want ErrRunEnded wrapping the run's error", err)
			}
		}
		if b.Pending() <= 0 {
			t.Errorf("Pending = %d, want the records the failure left unprocessed", b.Pending())
		}
	})
}

// TestRunRefusedReleasesBlockedProducers: a Run that cannot start (here
// BatchBytes without record sizes, found by weir.New) still wakes the
// producers waiting in Add, with its error.
func TestRunRefusedReleasesBlockedProducers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bucket.New[int](weir.Config{BatchSize: 2, BatchBytes: 10})
		if err != nil {
			t.Fatal(err)
		}
		addErr := make(chan error)
		go func() {
			for i := 0; ; i++ {
				if err := b.Add(context.Background(), i); err != nil {
					addErr <- err
					return
				}
			}
		}()
		synctest.Wait() // the producer is blocked: the buffer of 2 is full
		runErr := b.Run(context.Background(), func(context.Context, []int) error { return nil })
		if runErr == nil || !strings.Contains(runErr.Error(), "BatchBytes") {
			t.Fatalf("Run = %v, want New's error about BatchBytes", runErr)
		}
		if err := <-addErr; !errors.Is(err, bucket.ErrRunEnded) || !strings.Contains(err.Error(), "BatchBytes") {
			t.Fatalf("blocked Add returned %v, want ErrRunEnded wrapping Run's error", err)
		}
	})
}

func TestAddHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bucket.New[int](weir.Config{BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		// No Run: the buffer of 2 fills and the third Add waits for ctx.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for i := range 2 {
			if err := b.Add(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Add(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Add on a full bucket = %v, want the context's deadline", err)
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := bucket.New[int](weir.Config{BatchSize: -1}); err == nil {
		t.Error("negative BatchSize accepted")
	}
	if _, err := bucket.New[int](weir.Config{LoadConcurrency: 2}); err == nil {
		t.Error("LoadConcurrency accepted")
	}
}
