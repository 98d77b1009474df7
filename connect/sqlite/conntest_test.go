package sqlite_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/sqlite"
)

// The connectors against weir's contracts, checked by the conformance kit:
// one call per interface and per variant of the connector.

// opener returns an Open func for the kit: a new source on db as cfg says.
func opener[E any](db *sql.DB, cfg sqlite.SourceConfig[E]) func(*testing.T) weir.Source[E] {
	return func(t *testing.T) weir.Source[E] {
		src, err := sqlite.NewSource(db, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

// seededKV returns what seedKV(t, n) holds, in key order.
func seededKV(n int) []kv {
	out := make([]kv, n)
	for i := range out {
		id := int64(i+1) * 3
		out[i] = kv{id, fmt.Sprintf("v%d", id)}
	}
	return out
}

func TestSourceConformance(t *testing.T) {
	db := seedKV(t, 1000)
	want := seededKV(1000)
	for _, page := range []int{0, 7} {
		t.Run(fmt.Sprintf("PageSize %d", page), func(t *testing.T) {
			cfg := sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, PageSize: page}
			bad := cfg
			bad.Scan = func(rows *sql.Rows) (kv, error) {
				r, err := scanKV(rows)
				if err == nil && r.ID == 30 {
					err = fmt.Errorf("id %d is malformed", r.ID)
				}
				return r, err
			}
			conntest.Source(t, conntest.SourceCase[kv]{
				Open:      opener(db, cfg),
				Want:      want,
				Malformed: &conntest.MalformedCase[kv]{Open: opener(db, bad), Before: want[:9], ErrContains: "read kv: scan: id 30 is malformed"},
				BadPositions: [][]byte{[]byte(``), []byte(`[1]`), []byte(`{}`), []byte(`{"key":[]}`), []byte(`{"key":[1,2]}`),
					[]byte(`{"key":[1],"x":1}`), []byte(`{"key":[{"$oid":"x"}]}`), []byte(`{"key":[[1]]}`), []byte(`{"key":[1]} 1`),
					[]byte(`{"key":[99999999999999999999]}`)},
			})
		})
	}

	t.Run("composite key", func(t *testing.T) {
		db, all, cfg := seedLineItems(t)
		cfg.PageSize = 4 // pages end mid-order
		conntest.Source(t, conntest.SourceCase[lineItem]{Open: opener(db, cfg), Want: all})
	})

	t.Run("query", func(t *testing.T) {
		var even []kv
		for _, r := range want[:100] {
			if r.ID%2 == 0 {
				even = append(even, kv{r.ID, strings.ToUpper(r.V)})
			}
		}
		conntest.Source(t, conntest.SourceCase[kv]{
			Open: opener(db, sqlite.SourceConfig[kv]{
				Query: "SELECT id, upper(v) AS v FROM kv WHERE id % 2 = 0 AND id <= 300",
				Table: connect.Table{Columns: []string{"id", "v"}, Key: []string{"id"}},
				Scan:  scanKV, Key: kvKey,
			}),
			Want: even,
		})
	})
}

// typedRecords returns typesRecords and n more, of every kind of value.
func typedRecords(n int) []typed {
	recs := append([]typed(nil), typesRecords...)
	for i := range n {
		id := int64(len(recs) + 1)
		r := typed{ID: id, Big: id * -1_000_000_007, Txt: fmt.Sprint("row ", id, " ✓"), F: float64(id) / 3, OK: id%2 == 0,
			At: time.Date(2024, 1, 2, 3, 4, 5, int(id), time.UTC).Add(time.Duration(id) * time.Hour), AtMs: time.UnixMilli(id * 1001).UTC()}
		if i%3 != 0 {
			r.Maybe = ptr(fmt.Sprint(id))
		}
		if i%4 != 0 {
			r.Blob = []byte{byte(id), 0, 255}
		}
		recs = append(recs, r)
	}
	return recs
}

// sameTyped reports whether two records hold the same values: times equal
// as instants, an empty blob equal to a NULL one.
func sameTyped(a, b typed) bool {
	if !a.At.Equal(b.At) || !a.AtMs.Equal(b.AtMs) || !bytes.Equal(a.Blob, b.Blob) {
		return false
	}
	a.At, a.AtMs, a.Blob = b.At, b.AtMs, b.Blob
	return reflect.DeepEqual(a, b)
}

func TestSinkConformance(t *testing.T) {
	recs := typedRecords(196)
	for _, tc := range []struct {
		name string
		on   connect.Conflict
		per  int // RowsPerStatement
	}{
		{"ConflictError", connect.ConflictError, 0},
		{"ConflictError, a statement per row", connect.ConflictError, 1},
		{"ConflictIgnore", connect.ConflictIgnore, 0},
		{"ConflictUpdate", connect.ConflictUpdate, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var failing []typed
			if tc.on == connect.ConflictError {
				// The third record clashes with the first.
				failing = []typed{{ID: 1001}, {ID: 1002}, {ID: 1001}}
			}
			conntest.Sink(t, conntest.SinkCase[typed]{
				Open: func(t *testing.T) (weir.Sink[typed], func() []typed) {
					db := openDB(t, typesSchema)
					sink, err := sqlite.NewSink(db, sqlite.SinkConfig[typed]{Table: typesTable, Values: typedValues, OnConflict: tc.on, RowsPerStatement: tc.per})
					if err != nil {
						t.Fatal(err)
					}
					return sink, func() []typed {
						src, err := sqlite.NewSource(db, sqlite.SourceConfig[typed]{Table: typesTable, Scan: scanTyped, Key: func(r typed) []any { return []any{r.ID} }})
						if err != nil {
							t.Fatal(err)
						}
						got, err := readAll(t, src, 64)
						if err != nil {
							t.Fatal(err)
						}
						// Rows counts the rows inserted, and updated too
						// with ConflictUpdate, which a re-run does.
						if tc.on != connect.ConflictUpdate && sink.Rows() != int64(len(got)) {
							t.Errorf("Rows() = %d, with %d rows in the table", sink.Rows(), len(got))
						}
						return got
					}
				},
				Records:    recs,
				Equal:      sameTyped,
				Failing:    failing,
				Idempotent: tc.on != connect.ConflictError,
				Concurrent: true,
			})
		})
	}
}

// readUsers reads back the users of the shop schema, with their orders and
// items, in key order.
func readUsers(t *testing.T, db *sql.DB) []user {
	query := func(q string, row func(rows *sql.Rows) error) {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	items := map[int64][]item{}
	query("SELECT order_id, sku, qty FROM items ORDER BY order_id, sku", func(rows *sql.Rows) error {
		var id int64
		var it item
		err := rows.Scan(&id, &it.SKU, &it.Qty)
		items[id] = append(items[id], it)
		return err
	})
	orders := map[int64][]order{}
	query("SELECT id, user_id, total FROM orders ORDER BY id", func(rows *sql.Rows) error {
		var o order
		err := rows.Scan(&o.ID, &o.UserID, &o.Total)
		o.Items = items[o.ID]
		orders[o.UserID] = append(orders[o.UserID], o)
		return err
	})
	var out []user
	query("SELECT id, name FROM users ORDER BY id", func(rows *sql.Rows) error {
		var u user
		err := rows.Scan(&u.ID, &u.Name)
		u.Orders = orders[u.ID]
		out = append(out, u)
		return err
	})
	return out
}

func TestMultiSinkConformance(t *testing.T) {
	users := makeUsers(1, 40)
	// The third user has an item of quantity 0, which the schema refuses.
	failing := makeUsers(1001, 5)
	failing[2].Orders[1].Items[0].Qty = 0
	for _, on := range []connect.Conflict{connect.ConflictError, connect.ConflictIgnore, connect.ConflictUpdate} {
		t.Run(on.String(), func(t *testing.T) {
			conntest.Sink(t, conntest.SinkCase[user]{
				Open: func(t *testing.T) (weir.Sink[user], func() []user) {
					db := openDB(t, shopSchema)
					sink, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}, OnConflict: on})
					if err != nil {
						t.Fatal(err)
					}
					return sink, func() []user { return readUsers(t, db) }
				},
				Records:    users,
				Failing:    failing,
				Idempotent: on != connect.ConflictError,
				Concurrent: true,
			})
		})
	}
}

func TestCheckpointStoreConformance(t *testing.T) {
	db := openDB(t, "")
	conntest.CheckpointStore(t, conntest.CheckpointStoreCase{
		Open: func(t *testing.T) weir.CheckpointStore {
			store, err := sqlite.NewCheckpointStore(t.Context(), db)
			if err != nil {
				t.Fatal(err)
			}
			return store
		},
	})
}
