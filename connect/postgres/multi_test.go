package postgres_test

import (
	"errors"
	"fmt"
	"reflect"
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
	w.Row(0, connect.Int64(o.ID), connect.Text(o.Customer))
	for i, l := range o.Lines {
		sku := connect.Null()
		if l.SKU != nil {
			sku = connect.Text(*l.SKU)
		}
		w.Row(1, connect.Int64(o.ID), connect.Int64(int64(i+1)), sku, connect.Int64(int64(l.Qty)))
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
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictIgnore} {
		upsert := on != connect.ConflictError
		t.Run(on.String(), func(t *testing.T) {
			pool := newDB(t, ordersDDL)
			sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}, OnConflict: on})
			if err != nil {
				t.Fatal(err)
			}
			if got := sink.Tables(); !reflect.DeepEqual(got, orderSplitter{}.Tables()) {
				t.Errorf("Tables() = %v, want the Splitter's tables in order", got)
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
			w.Row(0, connect.Int64(o.ID), connect.Text(o.Customer))
			if o.ID == 3 {
				return errBoom
			}
			return nil
		}, "record 2 of batch: postgres: split: boom", errBoom},
		{"row of the wrong width", func(o order, w connect.RowWriter) error {
			w.Row(0, connect.Int64(o.ID))
			return nil
		}, "record 0 of batch: postgres: split: Row: table orders: got 1 values for 2 columns", nil},
		{"table index out of range", func(o order, w connect.RowWriter) error {
			w.Row(2, connect.Int64(o.ID))
			return nil
		}, "record 0 of batch: postgres: split: Row: table index 2 out of range [0, 2)", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: flexSplitter{split: tc.split}})
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

func TestMultiSinkConflictUpdate(t *testing.T) {
	pool := newDB(t, ordersDDL)
	sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}, OnConflict: connect.ConflictUpdate})
	if err != nil {
		t.Fatal(err)
	}
	first, firstLines := makeOrders(1, 100)
	if err := sink.Write(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	// Orders 51..150 again, with new values: 51..100 are updated, in both
	// tables, and 101..150 inserted.
	second, secondLines := makeOrders(51, 150)
	for i := range second {
		second[i].Customer += " (renamed)"
		for j := range second[i].Lines {
			second[i].Lines[j].SKU = ptr(*second[i].Lines[j].SKU + "-v2")
			second[i].Lines[j].Qty += 100
		}
	}
	if err := sink.Write(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	_, allLines := makeOrders(1, 150)
	if n := count(t, pool, `SELECT count(*) FROM orders`); n != 150 {
		t.Errorf("orders = %d, want 150 (no duplicates)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM order_lines`); n != allLines {
		t.Errorf("order_lines = %d, want %d", n, allLines)
	}
	if n := count(t, pool, `SELECT count(*) FROM orders WHERE id <= 50 AND customer = 'customer ' || id`); n != 50 {
		t.Errorf("%d of orders 1-50 kept their first value, want 50", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM orders WHERE id > 50 AND customer = 'customer ' || id || ' (renamed)'`); n != 100 {
		t.Errorf("%d of orders 51-150 hold the second value, want 100", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM order_lines WHERE order_id > 50 AND (qty <= 100 OR sku NOT LIKE '%-v2')`); n != 0 {
		t.Errorf("%d lines of orders 51-150 were not updated", n)
	}
	want := map[string]int64{"orders": 200, "order_lines": firstLines + secondLines}
	if got := sink.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rows() = %v, want %v (inserted and updated rows)", got, want)
	}

	t.Run("same key twice in a batch: the later wins", func(t *testing.T) {
		batch := []order{{ID: 7, Customer: "first"}, {ID: 7, Customer: "second"}}
		if err := sink.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		if n := count(t, pool, `SELECT count(*) FROM orders WHERE id = 7 AND customer = 'second'`); n != 1 {
			t.Error("the later record did not win")
		}
	})

	t.Run("every table needs a Key", func(t *testing.T) {
		_, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictUpdate})
		if err == nil || !strings.Contains(err.Error(), "MultiSinkConfig.Splitter.Tables()[1].Key is empty") {
			t.Fatalf("err = %v, want one naming Tables()[1].Key", err)
		}
	})
}

// keylessSplitter is orderSplitter with no key on order_lines.
type keylessSplitter struct{ orderSplitter }

func (keylessSplitter) Tables() []connect.Table {
	t := orderSplitter{}.Tables()
	t[1].Key = nil
	return t
}
