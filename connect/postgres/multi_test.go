package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

const ordersDDL = `
CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL);
CREATE TABLE order_lines (
	order_id bigint NOT NULL REFERENCES orders (id),
	line_no  int NOT NULL,
	sku      text NOT NULL,
	qty      int NOT NULL,
	PRIMARY KEY (order_id, line_no)
)`

type order struct {
	ID       int64
	Customer string
	Lines    []orderLine
}

type orderLine struct {
	SKU *string
	Qty int
}

// orderSplitter writes an order's row, then one row per line.
type orderSplitter struct{}

func (orderSplitter) Tables() []connect.Table {
	return []connect.Table{
		{Name: "orders", Columns: []string{"id", "customer"}, Key: []string{"id"}},
		{Name: "order_lines", Columns: []string{"order_id", "line_no", "sku", "qty"}, Key: []string{"order_id", "line_no"}},
	}
}

func (orderSplitter) Split(o order, w connect.RowWriter) error {
	w.Row(0, o.ID, o.Customer)
	for i, l := range o.Lines {
		w.Row(1, o.ID, i+1, l.SKU, l.Qty)
	}
	return nil
}

// makeOrders returns orders from..to, order i having i%4 lines.
func makeOrders(from, to int64) (orders []order, lines int64) {
	for i := from; i <= to; i++ {
		o := order{ID: i, Customer: fmt.Sprintf("customer %d", i)}
		for l := range i % 4 {
			o.Lines = append(o.Lines, orderLine{SKU: ptr(fmt.Sprintf("sku-%d-%d", i, l)), Qty: int(l + 1)})
		}
		lines += i % 4
		orders = append(orders, o)
	}
	return orders, lines
}

func TestMultiSink(t *testing.T) {
	for _, upsert := range []bool{false, true} {
		t.Run(fmt.Sprintf("upsert=%v", upsert), func(t *testing.T) {
			pool := newDB(t, ordersDDL)
			sink, err := postgres.NewMultiSink(pool, postgres.MultiConfig[order]{Splitter: orderSplitter{}, Upsert: upsert})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(sink.Tables(), ","); got != "orders,order_lines" {
				t.Errorf("Tables() = %s", got)
			}
			orders, lines := makeOrders(1, 500)
			p, err := weir.New(weir.FromSlice(orders), weir.Identity[order](), sink, weir.Config{BatchSize: 64, LoadConcurrency: 3})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			checkCounts := func(step string) {
				t.Helper()
				if n := count(t, pool, `SELECT count(*) FROM orders`); n != 500 {
					t.Errorf("%s: orders = %d, want 500", step, n)
				}
				if n := count(t, pool, `SELECT count(*) FROM order_lines`); n != lines {
					t.Errorf("%s: order_lines = %d, want %d", step, n, lines)
				}
				if got := sink.Rows(); got["orders"] != 500 || got["order_lines"] != lines {
					t.Errorf("%s: Rows() = %v, want orders 500, order_lines %d", step, got, lines)
				}
			}
			checkCounts("first load")

			t.Run("a failing child row rolls back its batch's parents", func(t *testing.T) {
				batch, _ := makeOrders(1001, 1020)
				batch[13].Lines[0].SKU = nil // order 1014: NOT NULL violation in order_lines
				err := sink.Write(t.Context(), batch)
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) || pgErr.Code != "23502" || (!upsert && pgErr.TableName != "order_lines") {
					t.Fatalf("err = %v, want not_null_violation in order_lines", err)
				}
				if n := count(t, pool, `SELECT count(*) FROM orders WHERE id BETWEEN 1001 AND 1020`); n != 0 {
					t.Errorf("%d parent rows of the failed batch are loaded", n)
				}
				checkCounts("after the failed batch")
			})

			t.Run("re-running the same records", func(t *testing.T) {
				err := sink.Write(t.Context(), orders[:100])
				if !upsert {
					var pgErr *pgconn.PgError
					if !errors.As(err, &pgErr) || pgErr.Code != "23505" || postgres.Retryable(err) {
						t.Fatalf("err = %v, want a unique violation, not retryable", err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				checkCounts("after the re-run")
			})
		})
	}
}

// flexSplitter misbehaves as told.
type flexSplitter struct {
	orderSplitter
	split func(o order, w connect.RowWriter) error
}

func (f flexSplitter) Split(o order, w connect.RowWriter) error { return f.split(o, w) }

func TestMultiSinkSplitErrors(t *testing.T) {
	pool := newDB(t, ordersDDL)
	errBoom := errors.New("boom")
	cases := []struct {
		name  string
		split func(o order, w connect.RowWriter) error
		want  string
		is    error
	}{
		{"Split fails", func(o order, w connect.RowWriter) error {
			w.Row(0, o.ID, o.Customer)
			if o.ID == 3 {
				return errBoom
			}
			return nil
		}, "split record 2: boom", errBoom},
		{"row of the wrong width", func(o order, w connect.RowWriter) error {
			w.Row(0, o.ID)
			return nil
		}, "split record 0: Row: table orders: got 1 values for 2 columns", nil},
		{"table index out of range", func(o order, w connect.RowWriter) error {
			w.Row(2, o.ID)
			return nil
		}, "split record 0: Row: table index 2 out of range [0, 2)", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink, err := postgres.NewMultiSink(pool, postgres.MultiConfig[order]{Splitter: flexSplitter{split: tc.split}})
			if err != nil {
				t.Fatal(err)
			}
			orders, _ := makeOrders(1, 5)
			err = sink.Write(t.Context(), orders)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			if n := count(t, pool, `SELECT count(*) FROM orders`); n != 0 {
				t.Errorf("%d orders loaded by a batch that failed to split", n)
			}
		})
	}
}
