package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
	"github.com/weir-etl/weir/internal/pgproxy"
)

const readingsDDL = `CREATE TABLE readings (id bigint PRIMARY KEY, value bigint NOT NULL);
	CREATE TABLE keyless (id bigint NOT NULL, value bigint NOT NULL)`

func readingSink(t *testing.T, db postgres.DB, table string, on connect.Conflict, wait time.Duration) *postgres.Sink[reading] {
	t.Helper()
	s, err := postgres.NewSink(db, postgres.SinkConfig[reading]{
		Table:      connect.Table{Name: table, Columns: []string{"id", "value"}, Key: []string{"id"}},
		Values:     func(r reading, row []any) []any { return append(row, r.ID, r.Value) },
		OnConflict: on, InDoubtTimeout: wait,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLostCommitAnswerSink loses every third COMMIT answer, after the
// server committed, under a plain retrying run: the run succeeds, every
// row is there exactly once — in a table with a key, in every conflict
// mode, and in a table with no key at all — and no batch is retried,
// since each Write finds that its transaction committed.
func TestLostCommitAnswerSink(t *testing.T) {
	const n = 20_000
	for _, tc := range []struct {
		table string
		on    connect.Conflict
	}{
		{"readings", connect.ConflictError},
		{"readings", connect.ConflictIgnore},
		{"readings", connect.ConflictUpdate},
		{"keyless", connect.ConflictError},
	} {
		t.Run(tc.table+"/"+tc.on.String(), func(t *testing.T) {
			direct, proxy, pool := proxied(t, readingsDDL)
			sink := readingSink(t, pool, tc.table, tc.on, 0)
			lost := proxy.DropCommitAnswer(func(n int) bool { return n%3 == 0 })
			p := retrying(t, readings(n), sink)
			if err := p.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			c := count(t, direct, `SELECT count(*) FROM `+tc.table)
			distinct := count(t, direct, `SELECT count(DISTINCT id) FROM `+tc.table)
			if c != n || distinct != n {
				t.Fatalf("%d rows, %d distinct ids; want %d of each", c, distinct, n)
			}
			if lost.Fired() < 5 {
				t.Fatalf("%d COMMIT answers lost, want several", lost.Fired())
			}
			if r, st := sink.Rows(), p.Stats(); r != n || st.Load.Retries != 0 {
				t.Errorf("Rows() = %d, retries %d; want %d and 0", r, st.Load.Retries, n)
			}
		})
	}
}

// TestLostCommitAnswerMultiSink does the same to a MultiSink, with Write
// and, under WithExactlyOnce, with WriteCheckpoint: every order and line
// once, the checkpoint at the end.
func TestLostCommitAnswerMultiSink(t *testing.T) {
	orders, lines := makeOrders(1, 3000)
	for _, exactlyOnce := range []bool{false, true} {
		t.Run("exactlyOnce="+strconv.FormatBool(exactlyOnce), func(t *testing.T) {
			direct, proxy, pool := proxied(t, ordersDDL)
			sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}})
			if err != nil {
				t.Fatal(err)
			}
			var opts []weir.Option
			if exactlyOnce {
				store, err := postgres.NewCheckpointStore(context.Background(), pool)
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, weir.WithExactlyOnce(store, "orders"))
			}
			opts = append(opts, weir.WithRetryable(postgres.Retryable))
			lost := proxy.DropCommitAnswer(func(n int) bool { return n%2 == 0 })
			cfg := weir.Config{BatchSize: 100, Workers: 2, LoadConcurrency: 2,
				Retry: weir.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond}}
			if exactlyOnce {
				cfg.LoadConcurrency = 0 // batches commit in order on the workers
			}
			p, err := weir.New[order, order](&orderSource{orders: orders}, weir.Identity[order](), sink, cfg, opts...)
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
			if lost.Fired() < 5 || p.Stats().Load.Retries != 0 {
				t.Errorf("%d answers lost, %d retries; want several and 0", lost.Fired(), p.Stats().Load.Retries)
			}
			if exactlyOnce {
				if c := count(t, direct, `SELECT count(*) FROM `+postgres.CheckpointTable+` WHERE position = '3000'`); c != 1 {
					t.Errorf("checkpoint not at the end")
				}
			}
		})
	}
}

// TestCommitThatNeverArrivedIsRetried: the COMMIT is lost on its way, so
// the server keeps the transaction open ("in progress") until it notices
// the closed socket, then aborts it. The Write waits for that, returns a
// retryable error with nothing loaded, and writing again loads the batch
// once.
func TestCommitThatNeverArrivedIsRetried(t *testing.T) {
	direct, proxy, pool := proxied(t, readingsDDL)
	sink := readingSink(t, pool, "readings", connect.ConflictError, 0)
	f := proxy.LoseCommit(1)
	// Release the held transaction once the sink has asked about it twice:
	// the first answer, given while it was held, was "in progress".
	var asks atomic.Int32
	proxy.Delay(func(m pgproxy.Message) bool {
		if m.FromClient && m.Type == 'Q' && strings.Contains(string(m.Body), "pg_xact_status") && asks.Add(1) == 2 {
			f.Release()
		}
		return false
	}, 0)
	batch := []reading{{1, 1}, {2, 2}, {3, 3}}
	err := sink.Write(context.Background(), batch)
	if err == nil || !postgres.Retryable(err) {
		t.Fatalf("Write = %v, want a retryable error", err)
	}
	if c := count(t, direct, `SELECT count(*) FROM readings`); c != 0 || asks.Load() < 2 {
		t.Fatalf("%d rows after %d asks, want 0 after at least 2", c, asks.Load())
	}
	if err := sink.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if c := count(t, direct, `SELECT count(*) FROM readings`); c != 3 || sink.Rows() != 3 {
		t.Fatalf("%d rows, Rows() %d; want 3 and 3", c, sink.Rows())
	}
}

// TestServerUnreachableWhileInDoubt: after the COMMIT answer is lost the
// server cannot be reached for a while; the Write keeps asking and
// succeeds once it can.
func TestServerUnreachableWhileInDoubt(t *testing.T) {
	direct, proxy, pool := proxied(t, readingsDDL)
	sink := readingSink(t, pool, "readings", connect.ConflictError, 0)
	if err := pool.Ping(t.Context()); err != nil { // the Write's connection, made before the refusals
		t.Fatal(err)
	}
	lost := proxy.DropAfterCommit(1)
	refused := proxy.RefuseConns(3)
	if err := sink.Write(context.Background(), []reading{{1, 1}, {2, 2}}); err != nil {
		t.Fatalf("Write = %v, want nil: the batch committed", err)
	}
	if c := count(t, direct, `SELECT count(*) FROM readings`); c != 2 || sink.Rows() != 2 {
		t.Fatalf("%d rows, Rows() %d; want 2 and 2", c, sink.Rows())
	}
	if lost.Fired() != 1 || refused.Fired() != 3 {
		t.Fatalf("lost %d, refused %d; want 1 and 3", lost.Fired(), refused.Fired())
	}
}

// TestInDoubtTimeout: when the server stays unreachable, the Write gives
// up after InDoubtTimeout with an error that is not retryable and says
// the batch may be loaded — and it is.
func TestInDoubtTimeout(t *testing.T) {
	direct, proxy, pool := proxied(t, readingsDDL)
	sink := readingSink(t, pool, "readings", connect.ConflictError, 200*time.Millisecond)
	if err := pool.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	proxy.DropAfterCommit(1)
	proxy.RefuseConns(1 << 30)
	err := sink.Write(context.Background(), []reading{{1, 1}})
	var inDoubt *postgres.InDoubtError
	if !errors.As(err, &inDoubt) || inDoubt.XID == 0 {
		t.Fatalf("Write = %v, want an *InDoubtError with the transaction id", err)
	}
	if postgres.Retryable(err) {
		t.Errorf("Retryable(%v) = true: the batch may be loaded", err)
	}
	for _, want := range []string{"copy readings", "may or may not be loaded", "ConflictIgnore", "--resume"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if c := count(t, direct, `SELECT count(*) FROM readings`); c != 1 || sink.Rows() != 0 {
		t.Fatalf("%d rows, Rows() %d; want 1 (committed) and 0 (unknown to the sink)", c, sink.Rows())
	}
}

// TestLostCommitAnswerOnAConn: a sink on a single *pgx.Conn, which dies
// with the lost answer, asks on a new connection of the same config.
func TestLostCommitAnswerOnAConn(t *testing.T) {
	direct, proxy, pool := proxied(t, readingsDDL)
	conn, err := pgx.ConnectConfig(t.Context(), pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	sink := readingSink(t, conn, "readings", connect.ConflictError, 0)
	lost := proxy.DropAfterCommit(1)
	if err := sink.Write(context.Background(), []reading{{1, 1}, {2, 2}}); err != nil {
		t.Fatalf("Write = %v, want nil: the batch committed", err)
	}
	if c := count(t, direct, `SELECT count(*) FROM readings`); c != 2 || sink.Rows() != 2 || lost.Fired() != 1 || !conn.IsClosed() {
		t.Fatalf("%d rows, Rows() %d, %d answers lost, conn closed %v; want 2, 2, 1, true", c, sink.Rows(), lost.Fired(), conn.IsClosed())
	}
}
