package postgres_test

import (
	"context"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/pgproxy"
	"github.com/weir-etl/weir/internal/pgtest"
)

// proxied returns a fresh database holding the tables of ddl, a pool
// straight to it (for checking), and a pool through a fault-injecting
// proxy (for the sink under test). The test fails if a goroutine outlives
// it: the pools and the proxy close in its cleanups.
func proxied(t *testing.T, ddl string) (direct *pgxpool.Pool, p *pgproxy.Proxy, pool *pgxpool.Pool) {
	t.Helper()
	db := pgtest.New(t)
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt, goleak.IgnoreAnyFunction("os/exec.(*Cmd).Wait")) })
	direct = db.Pool(t)
	if err := postgres.Exec(t.Context(), direct, ddl); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(db.URL())
	if err != nil {
		t.Fatal(err)
	}
	if p, err = pgproxy.New(u.Host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	dsn, err := p.URL(db.URL())
	if err != nil {
		t.Fatal(err)
	}
	if pool, err = pgxpool.New(context.Background(), dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return direct, p, pool
}

// readings is a source of n readings, ids 0..n-1.
func readings(n int64) weir.Source[reading] {
	next := int64(0)
	return weir.SourceFunc[reading](func(_ context.Context, buf []reading) (int, error) {
		k := 0
		for k < len(buf) && next < n {
			buf[k] = reading{ID: next, Value: next}
			next++
			k++
		}
		if next >= n {
			return k, io.EOF
		}
		return k, nil
	})
}

// retrying is the engine set-up of a plain `weir migrate`: transient
// errors retried, as postgres.Retryable classifies them.
func retrying(t *testing.T, src weir.Source[reading], sink weir.Sink[reading]) *weir.Pipeline[reading, reading] {
	t.Helper()
	p, err := weir.New(src, weir.Identity[reading](), sink, weir.Config{
		BatchSize: 1000, Workers: 2, LoadConcurrency: 2,
		Retry: weir.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
	}, weir.WithRetryable(postgres.Retryable))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTransientFailuresAreRetriedExactlyOnce breaks connections where a
// retry could double a batch: one COMMIT answer in ten is lost after the
// server committed, and one COPY in seven (of the first 28) is cut
// mid-stream. Every record
// is loaded exactly once (the primary key would refuse a second copy, and
// the count is exact), a lost answer is not retried (the sink finds that
// the batch committed), and each cut COPY is retried once.
func TestTransientFailuresAreRetriedExactlyOnce(t *testing.T) {
	direct, proxy, pool := proxied(t, `CREATE TABLE readings (id bigint PRIMARY KEY, value bigint NOT NULL)`)
	const n = 200_000
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[reading]{
		Table:  connect.Table{Name: "readings", Columns: []string{"id", "value"}},
		Values: func(r reading, row []any) []any { return append(row, r.ID, r.Value) },
	})
	if err != nil {
		t.Fatal(err)
	}
	lost := proxy.DropCommitAnswer(func(n int) bool { return n%10 == 0 })
	// Four cuts, fewer than the five attempts: however the two loaders'
	// COPYs interleave, no batch runs out of attempts.
	cut := proxy.DropInCopy(func(n int) bool { return n%7 == 3 && n < 28 }, 0)
	p := retrying(t, readings(n), sink)
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := count(t, direct, `SELECT count(*) FROM readings`); c != n {
		t.Fatalf("table holds %d rows, want %d", c, n)
	}
	if c := count(t, direct, `SELECT count(DISTINCT id) FROM readings`); c != n {
		t.Fatalf("%d distinct ids, want %d", c, n)
	}
	if lost.Fired() == 0 || cut.Fired() == 0 {
		t.Fatalf("faults fired: %d lost answers, %d cut COPYs; want both", lost.Fired(), cut.Fired())
	}
	if st := p.Stats(); st.Load.Retries != int64(cut.Fired()) || sink.Rows() != n {
		t.Errorf("Stats.Load.Retries = %d, Rows() = %d; want %d (one per cut COPY, none per lost answer) and %d",
			st.Load.Retries, sink.Rows(), cut.Fired(), n)
	}
}

// TestDropMidCopyIsRetried cuts one COPY in five of a MultiSink mid-stream
// (the orders' or the lines'): the batch's transaction rolls back whole,
// the retry loads it, and every order and line is there once.
func TestDropMidCopyIsRetried(t *testing.T) {
	direct, proxy, pool := proxied(t, ordersDDL)
	sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}})
	if err != nil {
		t.Fatal(err)
	}
	orders, lines := makeOrders(1, 3000)
	// Six cuts at most, and more attempts than cuts: however the two
	// loaders' COPYs interleave, no batch can run out of attempts.
	cut := proxy.DropInCopy(func(n int) bool { return n%5 == 2 && n <= 30 }, 0)
	p, err := weir.New[order, order](&orderSource{orders: orders}, weir.Identity[order](), sink, weir.Config{
		BatchSize: 100, Workers: 2, LoadConcurrency: 2,
		Retry: weir.RetryPolicy{MaxAttempts: 8, InitialBackoff: time.Millisecond},
	}, weir.WithRetryable(postgres.Retryable))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := count(t, direct, `SELECT count(*) FROM orders`); c != 3000 {
		t.Errorf("orders: %d, want 3000", c)
	}
	if c := count(t, direct, `SELECT count(*) FROM order_lines`); c != lines {
		t.Errorf("order lines: %d, want %d", c, lines)
	}
	if cut.Fired() < 5 || p.Stats().Load.Retries != int64(cut.Fired()) {
		t.Errorf("%d COPYs cut, %d retries; want several, one retry each", cut.Fired(), p.Stats().Load.Retries)
	}
}
