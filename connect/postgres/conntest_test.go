package postgres_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/postgres"
)

// The connectors against weir's contracts, checked by the conformance kit:
// one call per interface and per variant of the connector.

// opener returns an Open func for the kit: a new source on db as cfg says.
func opener[E any](db postgres.DB, cfg postgres.SourceConfig[E]) func(*testing.T) weir.Source[E] {
	return func(t *testing.T) weir.Source[E] {
		src, err := postgres.NewSource(db, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

// failScan is pgx.RowToStructByName[item], failing on the row of id bad.
func failScan(bad int64) pgx.RowToFunc[item] {
	return func(row pgx.CollectableRow) (item, error) {
		it, err := pgx.RowToStructByName[item](row)
		if err == nil && it.ID == bad {
			err = fmt.Errorf("item %d is malformed", bad)
		}
		return it, err
	}
}

func TestSourceConformance(t *testing.T) {
	pool := newDB(t, itemsDDL)
	var items []item
	for i := range int64(2500) {
		items = append(items, item{ID: i + 1, V: "v" + strconv.FormatInt(i+1, 10)})
	}

	t.Run("table in pages of 100", func(t *testing.T) {
		cfg := postgres.SourceConfig[item]{Table: "items", Key: "id", Columns: []string{"id", "v"}, PageSize: 100, Scan: pgx.RowToStructByName[item]}
		bad := cfg
		bad.Scan = failScan(250)
		conntest.Source(t, conntest.SourceCase[item]{
			Open: opener(pool, cfg),
			Want: items,
			// The source drops the whole page holding the row it cannot
			// scan, 201..300, and resumes before it.
			Malformed: &conntest.MalformedCase[item]{Open: opener(pool, bad), Before: items[:200], ErrContains: "scan row 49: item 250"},
			BadPositions: [][]byte{[]byte(``), []byte(`{}`), []byte(`{"key":1}`), []byte(`{"key":["1"]}`),
				[]byte(`{"key":"1","x":1}`), []byte(`{"key":"1"} {}`), []byte(`"1"`)},
		})
	})

	t.Run("query with arguments", func(t *testing.T) {
		var want []item
		for _, it := range items {
			if it.ID%3 == 0 {
				want = append(want, item{ID: it.ID, V: strings.ToUpper(it.V)})
			}
		}
		conntest.Source(t, conntest.SourceCase[item]{
			Open: opener(pool, postgres.SourceConfig[item]{
				Query: `SELECT id, upper(v) AS v FROM items WHERE id % $1 = 0`, QueryArgs: []any{3},
				Key: "id", PageSize: 50, Scan: pgx.RowToStructByName[item],
			}),
			Want: want,
		})
	})

	t.Run("text key", func(t *testing.T) {
		pool := newDB(t, wordsDDL)
		var words []string
		for i := 1; i <= 300; i++ {
			words = append(words, "wörd "+string(rune(19968+i))+strconv.Itoa(i))
		}
		slices.Sort(words) // byte order: the test server's collation is C
		conntest.Source(t, conntest.SourceCase[string]{
			Open: opener(pool, postgres.SourceConfig[string]{Table: "words", Key: "w", PageSize: 7, Scan: scanString}),
			Want: words,
		})
	})

	for _, kt := range keyTypes {
		t.Run("key of type "+kt.typ, func(t *testing.T) {
			conntest.Source(t, conntest.SourceCase[int]{
				Open: opener(kt.newDB(t), kt.config()),
				Want: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			})
		})
	}
}

// sameAllTypes reports whether two records hold the same values: times
// equal as instants, documents alike once printed.
func sameAllTypes(a, b allTypes) bool {
	return a.ID == b.ID && samePtr(a.Name, b.Name) && samePtr(a.Score, b.Score) && samePtr(a.OK, b.OK) &&
		(a.At == nil) == (b.At == nil) && (a.At == nil || a.At.Equal(*b.At)) &&
		(a.Doc == nil) == (b.Doc == nil) && fmt.Sprint(a.Doc) == fmt.Sprint(b.Doc)
}

func samePtr[T comparable](a, b *T) bool { return a == b || (a != nil && b != nil && *a == *b) }

// readAllTypes reads back the records of all_types, in key order.
func readAllTypes(t *testing.T, pool *pgxpool.Pool) []allTypes {
	src, err := postgres.NewSource(pool, postgres.SourceConfig[allTypes]{
		Table: "all_types", Key: "id", Columns: allTypesTable.Columns, PageSize: 64, Scan: pgx.RowToStructByName[allTypes],
	})
	if err != nil {
		t.Fatal(err)
	}
	return readAll(t, src, 50)
}

func TestSinkConformance(t *testing.T) {
	recs := trickyRecords(700)
	// A batch the server refuses at its line 3, whose id Values makes NULL.
	const nullID = 1<<40 + 2
	failing := []allTypes{{ID: 1 << 40}, {ID: 1<<40 + 1, Name: ptr("ok")}, {ID: nullID}, {ID: 1<<40 + 3}}
	values := func(r allTypes, row []any) []any {
		row = allTypesValues(r, row)
		if r.ID == nullID {
			row[len(row)-len(allTypesTable.Columns)] = nil
		}
		return row
	}
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictIgnore, connect.ConflictUpdate} {
		t.Run(on.String(), func(t *testing.T) {
			conntest.Sink(t, conntest.SinkCase[allTypes]{
				Open: func(t *testing.T) (weir.Sink[allTypes], func() []allTypes) {
					pool := newDB(t, allTypesDDL)
					sink, err := postgres.NewSink(pool, postgres.SinkConfig[allTypes]{Table: allTypesTable, Values: values, OnConflict: on})
					if err != nil {
						t.Fatal(err)
					}
					return sink, func() []allTypes {
						got := readAllTypes(t, pool)
						// Rows counts the rows inserted, and updated too
						// with ConflictUpdate, which a re-run does.
						if on != connect.ConflictUpdate && sink.Rows() != int64(len(got)) {
							t.Errorf("Rows() = %d, with %d rows in the table", sink.Rows(), len(got))
						}
						return got
					}
				},
				Records:    recs,
				Equal:      sameAllTypes,
				Failing:    failing,
				Idempotent: on != connect.ConflictError,
				Concurrent: true,
			})
		})
	}
}

// readOrders reads back the orders and their lines, in id order.
func readOrders(t *testing.T, pool *pgxpool.Pool) []order {
	rows, err := pool.Query(t.Context(), `SELECT o.id, o.customer, l.line_no, l.sku, l.qty
		FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id ORDER BY o.id, l.line_no`)
	if err != nil {
		t.Fatal(err)
	}
	var out []order
	var id int64
	var customer string
	var lineNo, qty *int
	var sku *string
	_, err = pgx.ForEachRow(rows, []any{&id, &customer, &lineNo, &sku, &qty}, func() error {
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, order{ID: id, Customer: customer})
		}
		if lineNo != nil {
			o := &out[len(out)-1]
			if *lineNo != len(o.Lines)+1 {
				return fmt.Errorf("order %d: line %d after %d lines", id, *lineNo, len(o.Lines))
			}
			o.Lines = append(o.Lines, orderLine{SKU: sku, Qty: *qty})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// failingOrders is a batch of new orders, the third with a line the
// server refuses: a NULL sku.
func failingOrders() []order {
	orders, _ := makeOrders(1001, 1004)
	orders[2].Lines[0].SKU = nil
	return orders
}

func TestMultiSinkConformance(t *testing.T) {
	orders, _ := makeOrders(1, 120)
	open := func(t *testing.T, on connect.Conflict) (*postgres.MultiSink[order], *pgxpool.Pool) {
		pool := newDB(t, ordersDDL)
		sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}, OnConflict: on})
		if err != nil {
			t.Fatal(err)
		}
		return sink, pool
	}
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictIgnore, connect.ConflictUpdate} {
		t.Run(on.String(), func(t *testing.T) {
			conntest.Sink(t, conntest.SinkCase[order]{
				Open: func(t *testing.T) (weir.Sink[order], func() []order) {
					sink, pool := open(t, on)
					return sink, func() []order { return readOrders(t, pool) }
				},
				Records:    orders,
				Failing:    failingOrders(),
				Idempotent: on != connect.ConflictError,
				Concurrent: true,
			})
		})
	}
	t.Run("WriteCheckpoint", func(t *testing.T) {
		conntest.CheckpointSink(t, conntest.CheckpointSinkCase[order]{
			Open: func(t *testing.T) (weir.CheckpointSink[order], weir.CheckpointStore, func() []order) {
				sink, pool := open(t, connect.ConflictError)
				store, err := postgres.NewCheckpointStore(t.Context(), pool)
				if err != nil {
					t.Fatal(err)
				}
				return sink, store, func() []order { return readOrders(t, pool) }
			},
			Records: orders,
			Failing: failingOrders(),
		})
	})
}

func TestCheckpointStoreConformance(t *testing.T) {
	pool := newDB(t, `SELECT 1`)
	conntest.CheckpointStore(t, conntest.CheckpointStoreCase{
		Open: func(t *testing.T) weir.CheckpointStore {
			store, err := postgres.NewCheckpointStore(t.Context(), pool)
			if err != nil {
				t.Fatal(err)
			}
			return store
		},
	})
}
