package postgres_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/postgres"
)

// orderSource reads orders in order; its position is the next index.
type orderSource struct {
	orders []order
	next   int
}

func (s *orderSource) Read(_ context.Context, buf []order) (int, error) {
	if s.next >= len(s.orders) {
		return 0, io.EOF
	}
	n := copy(buf, s.orders[s.next:])
	s.next += n
	return n, nil
}

func (s *orderSource) Position() ([]byte, error) { return []byte(strconv.Itoa(s.next)), nil }

func (s *orderSource) Seek(pos []byte) error {
	v, err := strconv.Atoi(string(pos))
	s.next = v
	return err
}

// stopAfter cancels the run once it has loaded some batches, as a crash
// would stop it: whatever was in flight is rolled back.
type stopAfter struct {
	*postgres.MultiSink[order]
	batches atomic.Int64
	cancel  context.CancelFunc
}

func (s *stopAfter) WriteCheckpoint(ctx context.Context, b []order, job string, pos []byte) error {
	if s.batches.Add(1) == 15 {
		s.cancel()
	}
	return s.MultiSink.WriteCheckpoint(ctx, b, job, pos)
}

// TestExactlyOnceIntoPostgres stops a run mid-way and resumes it with a
// plain (not upsert) multi-table sink: every order and line is loaded
// exactly once — a second copy would violate the primary keys.
func TestExactlyOnceIntoPostgres(t *testing.T) {
	pool := newDB(t, ordersDDL)
	store, err := postgres.NewCheckpointStore(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	orders, lines := makeOrders(1, 3000)
	cfg := weir.Config{BatchSize: 100, Workers: 3}
	newSink := func() *postgres.MultiSink[order] {
		s, err := postgres.NewMultiSink[order](pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &stopAfter{MultiSink: newSink(), cancel: cancel}
	p, err := weir.New[order, order](&orderSource{orders: orders}, weir.Identity[order](), first, cfg, weir.WithExactlyOnce(store, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run = %v, want it cancelled", err)
	}
	mid := count(t, pool, `SELECT count(*) FROM orders`)
	pos, err := store.Load(context.Background(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := strconv.Atoi(string(pos)); int64(got) != mid || mid == 0 || mid == 3000 {
		t.Fatalf("after the stop: %d orders in the table, checkpoint %q: want them equal and mid-way", mid, pos)
	}

	p, err = weir.New[order, order](&orderSource{orders: orders}, weir.Identity[order](), newSink(), cfg, weir.WithExactlyOnce(store, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if c := count(t, pool, `SELECT count(*) FROM orders`); c != 3000 {
		t.Errorf("orders: %d, want 3000", c)
	}
	if c := count(t, pool, `SELECT count(*) FROM order_lines`); c != lines {
		t.Errorf("order lines: %d, want %d", c, lines)
	}
}
