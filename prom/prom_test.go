package prom_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/goleak"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/internal/promtest"
	"github.com/weir-etl/weir/prom"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gatedSource yields first records, then blocks until open is closed, then
// yields the rest.
type gatedSource struct {
	first, rest int
	open        chan struct{}
	sent        int
}

func (s *gatedSource) Read(ctx context.Context, buf []int) (int, error) {
	if s.sent == s.first {
		select {
		case <-s.open:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	total := s.first + s.rest
	if s.sent == total {
		return 0, io.EOF
	}
	limit := total
	if s.sent < s.first {
		limit = s.first
	}
	n := min(len(buf), limit-s.sent)
	for i := range n {
		buf[i] = s.sent + i
	}
	s.sent += n
	return n, nil
}

// flakySink fails its first write with a retryable error, and refuses
// record bad wherever it is, so that retries and dead letters have
// something to count.
type flakySink struct {
	bad    int
	mu     sync.Mutex
	failed bool
}

func (s *flakySink) Write(_ context.Context, b []int) error {
	s.mu.Lock()
	first := !s.failed
	s.failed = true
	s.mu.Unlock()
	if first {
		return weir.Transient(errors.New("connection reset"))
	}
	if i := slices.Index(b, s.bad); i >= 0 {
		return &weir.RecordError{Index: i, Err: errors.New("refused")}
	}
	return nil
}

// TestMetricsFollowARunningJob scrapes /metrics while a run is held half
// way, then at its end: the counters move with the run and end equal to
// its final statistics, and promtool accepts the page both times.
func TestMetricsFollowARunningJob(t *testing.T) {
	reg := prometheus.NewRegistry()
	var c prom.Collector
	reg.MustRegister(&c)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	src := &gatedSource{first: 1000, rest: 2000, open: make(chan struct{})}
	p, err := weir.New[int, int](src, weir.Identity[int](), &flakySink{bad: 2500},
		weir.Config{BatchSize: 100, Workers: 2, LoadConcurrency: 2, OnLoadError: weir.Skip,
			Retry: weir.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond}},
		weir.WithDeadLetter(weir.SinkFunc[weir.Failure](func(context.Context, []weir.Failure) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	c.Watch("held", p)
	load := map[string]string{"pipeline": "held", "stage": "load"}

	before := promtest.Parse(t, promtest.Get(t, srv.URL))
	if v, ok := promtest.Value(before, "weir_running", map[string]string{"pipeline": "held"}); !ok || v != 0 {
		t.Errorf("before the run: weir_running = %v (present %v), want 0", v, ok)
	}

	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	// The source holds after 1000 records: wait until they are loaded.
	var page []byte
	err = promtest.Poll(30*time.Second, func() (bool, error) {
		page = promtest.Get(t, srv.URL)
		v, _ := promtest.Value(promtest.Parse(t, page), "weir_records_total", load)
		return v == 1000, nil
	})
	if err != nil {
		t.Fatalf("weir_records_total{stage=load} never reached 1000 while the run held: %v\n%s", err, page)
	}
	mid := promtest.Parse(t, page)
	if v, _ := promtest.Value(mid, "weir_running", map[string]string{"pipeline": "held"}); v != 1 {
		t.Errorf("while running: weir_running = %v, want 1", v)
	}
	if v, _ := promtest.Value(mid, "weir_retries_total", load); v != 1 {
		t.Errorf("while running: weir_retries_total{stage=load} = %v, want 1 (the first write failed once)", v)
	}
	promtest.CheckMetrics(t, page)

	close(src.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	page = promtest.Get(t, srv.URL)
	promtest.CheckMetrics(t, page)
	end := promtest.Parse(t, page)
	st := p.Stats()
	for _, s := range []struct {
		name string
		st   weir.StageStats
	}{{"extract", st.Extract}, {"transform", st.Transform}, {"load", st.Load}} {
		labels := map[string]string{"pipeline": "held", "stage": s.name}
		for metric, want := range map[string]int64{
			"weir_records_total":     s.st.Records,
			"weir_batches_total":     s.st.Batches,
			"weir_dead_letter_total": s.st.DeadLettered,
			"weir_retries_total":     s.st.Retries,
			"weir_stage_seconds":     s.st.Latency.Count,
		} {
			if got, ok := promtest.Value(end, metric, labels); !ok || got != float64(want) {
				t.Errorf("%s{stage=%s} = %v (present %v), want %d", metric, s.name, got, ok, want)
			}
		}
	}
	if st.Load.Records != 2999 || st.Load.DeadLettered != 1 {
		t.Errorf("final stats: %d loaded, %d dead-lettered, want 2999 and 1", st.Load.Records, st.Load.DeadLettered)
	}
	if v, _ := promtest.Value(end, "weir_running", map[string]string{"pipeline": "held"}); v != 0 {
		t.Errorf("after the run: weir_running = %v, want 0", v)
	}
	if v, _ := promtest.Value(end, "weir_batch_size", map[string]string{"pipeline": "held"}); v != 100 {
		t.Errorf("weir_batch_size = %v, want 100", v)
	}
}

// TestWatchReplacesAndForgets: a name watched twice reports the newer run
// once (a duplicate series would fail the whole scrape), and Forget
// removes it.
func TestWatchReplacesAndForgets(t *testing.T) {
	reg := prometheus.NewRegistry()
	var c prom.Collector
	reg.MustRegister(&c)
	run := func(n int) *weir.Pipeline[int, int] {
		p, err := weir.New(weir.FromSlice(make([]int, n)), weir.Identity[int](),
			weir.SinkFunc[int](func(context.Context, []int) error { return nil }), weir.Config{BatchSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c.Watch("job", run(10))
	c.Watch("job", run(20))
	c.Watch("other", run(5))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	byName := map[string]int{}
	for _, f := range fams {
		if f.GetName() == "weir_records_total" {
			for _, m := range f.GetMetric() {
				if m.GetLabel()[1].GetValue() == "load" {
					byName[m.GetLabel()[0].GetValue()] = int(m.GetCounter().GetValue())
				}
			}
		}
	}
	if byName["job"] != 20 || byName["other"] != 5 || len(byName) != 2 {
		t.Errorf("loaded per pipeline = %v, want job 20 (the newer run) and other 5", byName)
	}
	c.Forget("job")
	fams, _ = reg.Gather()
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == "job" {
				t.Fatalf("%s still reports the forgotten pipeline", f.GetName())
			}
		}
	}
}
