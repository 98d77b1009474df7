package pgproxy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/weir-etl/weir/internal/pgproxy"
	"github.com/weir-etl/weir/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// setup returns a fresh database with table t (id bigint primary key, v
// text), a pool straight to it, and a proxy in front of it with the URL
// through the proxy. It checks that no goroutine outlives the test.
func setup(t *testing.T) (direct *pgxpool.Pool, p *pgproxy.Proxy, proxied string) {
	t.Helper()
	db := pgtest.New(t)
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt, goleak.IgnoreAnyFunction("os/exec.(*Cmd).Wait")) })
	direct = db.Pool(t)
	db.Exec(t, `CREATE TABLE t (id bigint PRIMARY KEY, v text)`)
	u, err := url.Parse(db.URL())
	if err != nil {
		t.Fatal(err)
	}
	p, err = pgproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	proxied, err = p.URL(db.URL())
	if err != nil {
		t.Fatal(err)
	}
	return direct, p, proxied
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func count(t *testing.T, db *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rows is a COPY source of n rows, ids from first, with values long enough
// that pgx sends several CopyData messages.
func rows(first, n int) pgx.CopyFromSource {
	pad := strings.Repeat("x", 200)
	return pgx.CopyFromSlice(n, func(i int) ([]any, error) { return []any{int64(first + i), pad}, nil })
}

// insertTx inserts id in a transaction of its own and returns the
// transaction's id and the COMMIT's error.
func insertTx(ctx context.Context, c *pgx.Conn, id int) (xid uint64, err error) {
	if _, err := c.Exec(ctx, `BEGIN`); err != nil {
		return 0, err
	}
	if _, err := c.Exec(ctx, `INSERT INTO t VALUES ($1, 'v')`, id); err != nil {
		return 0, err
	}
	if err := c.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&xid); err != nil {
		return 0, err
	}
	_, err = c.Exec(ctx, `COMMIT`)
	return xid, err
}

func xactStatus(t *testing.T, db *pgxpool.Pool, xid uint64) string {
	t.Helper()
	var s string
	if err := db.QueryRow(context.Background(), fmt.Sprintf(`SELECT pg_xact_status('%d'::xid8)`, xid)).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestForwardsEverything: queries, a COPY of many messages, a transaction
// and a client asking for SSL (sslmode=prefer) all work through the proxy
// with no fault armed.
func TestForwardsEverything(t *testing.T) {
	direct, _, dsn := setup(t)
	// pgx asks for SSL on a connection of its own first: the proxy's 'N'
	// makes it fall back to plain text.
	c := connect(t, strings.Replace(dsn, "sslmode=disable", "sslmode=prefer", 1))
	n, err := c.CopyFrom(t.Context(), pgx.Identifier{"t"}, []string{"id", "v"}, rows(0, 5000))
	if err != nil || n != 5000 {
		t.Fatalf("CopyFrom = %d, %v; want 5000 rows", n, err)
	}
	if _, err := insertTx(t.Context(), c, 5000); err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := c.QueryRow(t.Context(), `SELECT sum(id) FROM t`).Scan(&sum); err != nil || sum != 5000*5001/2 {
		t.Fatalf("sum = %d, %v", sum, err)
	}
	if got := count(t, direct); got != 5001 {
		t.Fatalf("%d rows, want 5001", got)
	}
}

// TestDropAfterCommit: the n-th COMMIT's answer is lost, after the server
// committed: the client sees its connection fail, the row is there.
func TestDropAfterCommit(t *testing.T) {
	direct, p, dsn := setup(t)
	f := p.DropAfterCommit(2)
	c := connect(t, dsn)
	if _, err := insertTx(t.Context(), c, 1); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	xid, err := insertTx(t.Context(), c, 2)
	if err == nil {
		t.Fatal("second commit succeeded: its answer was not dropped")
	}
	if !c.IsClosed() {
		t.Errorf("connection still open after the drop: %v", err)
	}
	if got := xactStatus(t, direct, xid); got != "committed" || count(t, direct) != 2 {
		t.Fatalf("transaction %s, %d rows: want the server to have committed both", got, count(t, direct))
	}
	if f.Fired() != 1 {
		t.Errorf("Fired = %d, want 1", f.Fired())
	}
	if _, err := insertTx(t.Context(), connect(t, dsn), 3); err != nil {
		t.Fatalf("a later commit: %v (the fault fires once)", err)
	}
}

// TestDropCommitAnswerPredicate: a predicate picks which answers drop.
func TestDropCommitAnswerPredicate(t *testing.T) {
	direct, p, dsn := setup(t)
	f := p.DropCommitAnswer(func(n int) bool { return n%2 == 0 })
	failed := 0
	for id := range 6 {
		if _, err := insertTx(t.Context(), connect(t, dsn), id); err != nil {
			failed++
		}
	}
	if failed != 3 || f.Fired() != 3 || count(t, direct) != 6 {
		t.Fatalf("%d commits failed, %d fired, %d rows; want 3, 3, 6", failed, f.Fired(), count(t, direct))
	}
}

// TestHoldCommitAnswer: while the answer is held the transaction is
// committed and the client waits; Release loses the answer.
func TestHoldCommitAnswer(t *testing.T) {
	direct, p, dsn := setup(t)
	f := p.HoldCommitAnswer(1)
	c := connect(t, dsn)
	done := make(chan error, 1)
	go func() {
		_, err := insertTx(context.Background(), c, 1)
		done <- err
	}()
	<-f.Held()
	if got := count(t, direct); got != 1 {
		t.Fatalf("%d rows while the answer is held, want 1 (committed)", got)
	}
	select {
	case err := <-done:
		t.Fatalf("commit returned %v while its answer was held", err)
	default:
	}
	f.Release()
	if err := <-done; err == nil {
		t.Fatal("commit succeeded: the held answer was forwarded")
	}
}

// TestLoseCommit: the COMMIT never reaches the server, which keeps the
// transaction open until the fault is released and then aborts it.
func TestLoseCommit(t *testing.T) {
	direct, p, dsn := setup(t)
	f := p.LoseCommit(1)
	xid, err := insertTx(t.Context(), connect(t, dsn), 1)
	if err == nil {
		t.Fatal("commit succeeded: it was not lost")
	}
	if got := xactStatus(t, direct, xid); got != "in progress" {
		t.Fatalf("transaction %s before release, want in progress", got)
	}
	f.Release()
	// The backend notices the closed socket on its own: wait for that
	// state, bounded.
	deadline := time.Now().Add(30 * time.Second)
	for xactStatus(t, direct, xid) == "in progress" {
		if time.Now().After(deadline) {
			t.Fatal("transaction still in progress 30s after release")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := xactStatus(t, direct, xid); got != "aborted" || count(t, direct) != 0 {
		t.Fatalf("transaction %s, %d rows; want aborted, 0", got, count(t, direct))
	}
}

// TestDropInCopy: a COPY cut after some CopyData loads nothing; the next
// COPY, not picked, loads.
func TestDropInCopy(t *testing.T) {
	direct, p, dsn := setup(t)
	f := p.DropInCopy(func(n int) bool { return n == 1 }, 2)
	c := connect(t, dsn)
	if _, err := c.CopyFrom(t.Context(), pgx.Identifier{"t"}, []string{"id", "v"}, rows(0, 5000)); err == nil {
		t.Fatal("COPY succeeded: it was not cut")
	}
	if got := count(t, direct); got != 0 || f.Fired() != 1 {
		t.Fatalf("%d rows, fired %d; want 0 and 1", got, f.Fired())
	}
	n, err := connect(t, dsn).CopyFrom(t.Context(), pgx.Identifier{"t"}, []string{"id", "v"}, rows(0, 5000))
	if err != nil || n != 5000 {
		t.Fatalf("second COPY = %d, %v", n, err)
	}
}

// TestRefuseConns: the next n connections are closed at once, then the
// server is reachable again. (Raw connections: pgx may open a second one
// of its own to cancel a failed start-up.)
func TestRefuseConns(t *testing.T) {
	_, p, dsn := setup(t)
	f := p.RefuseConns(2)
	for i := range 2 {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("connection %d: read %d bytes, want it closed", i+1, n)
		}
		c.Close()
	}
	connect(t, dsn)
	if f.Fired() != 2 || p.Accepted() < 3 {
		t.Fatalf("fired %d, accepted %d; want 2 and at least 3", f.Fired(), p.Accepted())
	}
}

// TestDelay: a delayed message still arrives; the fault counts the
// messages it matched.
func TestDelay(t *testing.T) {
	_, p, dsn := setup(t)
	f := p.Delay(func(m pgproxy.Message) bool {
		return m.FromClient && m.Type == 'Q' && strings.Contains(string(m.Body), "delayed")
	}, 20*time.Millisecond)
	c := connect(t, dsn)
	for range 3 {
		var s string
		if err := c.QueryRow(t.Context(), `SELECT 'delayed'`, pgx.QueryExecModeSimpleProtocol).Scan(&s); err != nil || s != "delayed" {
			t.Fatalf("query = %q, %v", s, err)
		}
	}
	if f.Fired() != 3 {
		t.Fatalf("Fired = %d, want 3", f.Fired())
	}
}

// TestCloseEndsEverything: Close returns with connections open and a
// COMMIT answer held, and ends every goroutine (setup's leak check).
func TestCloseEndsEverything(t *testing.T) {
	_, p, dsn := setup(t)
	f := p.HoldCommitAnswer(1)
	idle := connect(t, dsn)
	c := connect(t, dsn)
	done := make(chan error, 1)
	go func() {
		_, err := insertTx(context.Background(), c, 1)
		done <- err
	}()
	<-f.Held()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("commit succeeded after Close")
	}
	if err := idle.Ping(t.Context()); err == nil {
		t.Fatal("idle connection still works after Close")
	}
	if _, err := pgx.Connect(t.Context(), dsn); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("connect after Close = %v, want refused", err)
	}
}
