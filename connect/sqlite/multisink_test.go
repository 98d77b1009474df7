package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

const shopSchema = `
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), total REAL NOT NULL);
CREATE TABLE items (
	order_id INTEGER NOT NULL REFERENCES orders(id),
	sku      TEXT NOT NULL,
	qty      INTEGER NOT NULL CHECK (qty > 0),
	PRIMARY KEY (order_id, sku)
);`

type item struct {
	SKU string
	Qty int
}

type order struct {
	ID     int64
	UserID int64 // normally the owner's id; a test sets another to break the foreign key
	Total  float64
	Items  []item
}

type user struct {
	ID     int64
	Name   string
	Orders []order
}

// userSplitter maps a user document to users, orders and items rows.
type userSplitter struct{}

func (userSplitter) Tables() []connect.Table {
	return []connect.Table{
		{Name: "users", Columns: []string{"id", "name"}, Key: []string{"id"}},
		{Name: "orders", Columns: []string{"id", "user_id", "total"}, Key: []string{"id"}},
		{Name: "items", Columns: []string{"order_id", "sku", "qty"}, Key: []string{"order_id", "sku"}},
	}
}

func (userSplitter) Split(u user, w connect.RowWriter) error {
	if u.Name == "" {
		return errors.New("user without a name")
	}
	w.Row(0, connect.Int64(u.ID), connect.Text(u.Name))
	for _, o := range u.Orders {
		w.Row(1, connect.Int64(o.ID), connect.Int64(o.UserID), connect.Float64(o.Total))
		for _, it := range o.Items {
			w.Row(2, connect.Int64(o.ID), connect.Text(it.SKU), connect.Int64(int64(it.Qty)))
		}
	}
	return nil
}

// makeUsers builds n users with 3 orders of 2 items each.
func makeUsers(first, n int) []user {
	out := make([]user, n)
	for i := range out {
		id := int64(first + i)
		u := user{ID: id, Name: fmt.Sprintf("user %d «ü»", id)}
		for o := range int64(3) {
			oid := id*10 + o
			u.Orders = append(u.Orders, order{ID: oid, UserID: id, Total: float64(oid) / 4,
				Items: []item{{"sku-a", 1}, {"sku-b", int(o) + 2}}})
		}
		out[i] = u
	}
	return out
}

// tableCounts counts the rows of each of the sink's tables, by name.
func tableCounts(t *testing.T, sink interface{ Tables() []connect.Table }, q func(string) int64) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range sink.Tables() {
		out[tb.Name] = q("SELECT count(*) FROM " + tb.Name)
	}
	return out
}

// shopRows is the rows per table of the shop schema.
func shopRows(users, orders, items int64) map[string]int64 {
	return map[string]int64{"users": users, "orders": orders, "items": items}
}

func TestMultiSinkPipeline(t *testing.T) {
	db := openDB(t, shopSchema)
	sink, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := weir.New(weir.FromSlice(makeUsers(1, 1000)), weir.Identity[user](), weir.Sink[user](sink), weir.Config{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sink.Tables(); !reflect.DeepEqual(got, userSplitter{}.Tables()) {
		t.Fatalf("Tables() = %v, want the Splitter's tables in order", got)
	}
	want := shopRows(1000, 3000, 6000)
	if got := sink.Rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rows() = %v, want %v", got, want)
	}
	q := func(s string) int64 { return queryInt(t, db, s) }
	if got := tableCounts(t, sink, q); !reflect.DeepEqual(got, want) {
		t.Fatalf("table counts %v, want %v", got, want)
	}
	if got := q("SELECT count(*) FROM items JOIN orders ON orders.id = items.order_id JOIN users ON users.id = orders.user_id"); got != 6000 {
		t.Fatalf("%d items join back to their user, want 6000", got)
	}
}

func TestMultiSinkFailingRowRollsBackBatch(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		spoil func(us []user)
		want  string
	}{
		{"check constraint in the last table", func(us []user) { us[2].Orders[1].Items[0].Qty = 0 }, "CHECK"},
		{"foreign key to a missing parent", func(us []user) { us[3].Orders[0].UserID = 999_999 }, "FOREIGN KEY"},
		{"duplicate key in the middle table", func(us []user) { us[4].Orders[2].ID = us[1].Orders[0].ID }, "UNIQUE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t, shopSchema)
			sink, _ := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}})
			if err := sink.Write(ctx, makeUsers(1000, 2)); err != nil { // an earlier, good batch
				t.Fatal(err)
			}
			batch := makeUsers(1, 5)
			c.spoil(batch)
			err := sink.Write(ctx, batch)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a %s failure", err, c.want)
			}
			q := func(s string) int64 { return queryInt(t, db, s) }
			want := shopRows(2, 6, 12) // the good batch only
			if got := tableCounts(t, sink, q); !reflect.DeepEqual(got, want) {
				t.Fatalf("table counts %v after the failed batch, want %v", got, want)
			}
			if got := sink.Rows(); !reflect.DeepEqual(got, want) {
				t.Fatalf("Rows() = %v, want %v", got, want)
			}
		})
	}
	t.Run("split error names the record", func(t *testing.T) {
		db := openDB(t, shopSchema)
		sink, _ := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}})
		batch := makeUsers(1, 5)
		batch[3].Name = ""
		err := sink.Write(ctx, batch)
		var ie *weir.RecordError
		if !errors.As(err, &ie) || ie.Index != 3 {
			t.Fatalf("error %v, want a RecordError for record 3", err)
		}
		if got := queryInt(t, db, "SELECT count(*) FROM users"); got != 0 {
			t.Fatalf("%d users after a failed split", got)
		}
	})
}

func TestMultiSinkConflictIgnoreRerun(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, shopSchema)
	sink, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}, OnConflict: connect.ConflictIgnore})
	if err != nil {
		t.Fatal(err)
	}
	batch := makeUsers(1, 100)
	for range 3 {
		if err := sink.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	want := shopRows(100, 300, 600)
	q := func(s string) int64 { return queryInt(t, db, s) }
	if got := tableCounts(t, sink, q); !reflect.DeepEqual(got, want) {
		t.Fatalf("table counts %v after three runs, want %v", got, want)
	}
	if got := sink.Rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rows() = %v, want %v: skipped rows must not count", got, want)
	}
	// Without the option, the same re-run fails whole.
	strict, _ := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}})
	if err := strict.Write(ctx, append(makeUsers(101, 5), batch[0])); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("error %v, want a UNIQUE failure", err)
	}
	if got := q("SELECT count(*) FROM users"); got != 100 {
		t.Fatalf("%d users, want 100", got)
	}
}

func TestMultiSinkConflictUpdate(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, shopSchema)
	sink, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: userSplitter{}, OnConflict: connect.ConflictUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(ctx, makeUsers(1, 100)); err != nil {
		t.Fatal(err)
	}
	// Users 51..150 again with new values: 51..100 are updated in every
	// table, 101..150 inserted.
	second := makeUsers(51, 100)
	for i := range second {
		second[i].Name += " (renamed)"
		for j := range second[i].Orders {
			second[i].Orders[j].Total += 1000
			for k := range second[i].Orders[j].Items {
				second[i].Orders[j].Items[k].Qty += 100
			}
		}
	}
	if err := sink.Write(ctx, second); err != nil {
		t.Fatal(err)
	}
	q := func(s string) int64 { return queryInt(t, db, s) }
	if got, want := tableCounts(t, sink, q), shopRows(150, 450, 900); !reflect.DeepEqual(got, want) {
		t.Fatalf("table counts %v, want %v (no duplicates)", got, want)
	}
	if got, want := sink.Rows(), shopRows(200, 600, 1200); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rows() = %v, want %v (inserted and updated rows)", got, want)
	}
	if got := q("SELECT count(*) FROM users WHERE id > 50 AND name LIKE '% (renamed)'"); got != 100 {
		t.Errorf("%d of users 51-150 renamed, want 100", got)
	}
	if got := q("SELECT count(*) FROM users WHERE id <= 50 AND name NOT LIKE '% (renamed)'"); got != 50 {
		t.Errorf("%d of users 1-50 kept their name, want 50", got)
	}
	if got := q("SELECT count(*) FROM orders WHERE user_id > 50 AND total < 1000"); got != 0 {
		t.Errorf("%d orders of users 51-150 not updated", got)
	}
	if got := q("SELECT count(*) FROM items WHERE order_id >= 510 AND qty < 100"); got != 0 {
		t.Errorf("%d items of users 51-150 not updated", got)
	}
	if got := q("SELECT count(*) FROM items WHERE order_id < 510 AND qty >= 100"); got != 0 {
		t.Errorf("%d items of users 1-50 updated", got)
	}
}

// badSplitter misuses the RowWriter.
type badSplitter struct{ mode int }

func (badSplitter) Tables() []connect.Table {
	return []connect.Table{{Name: "users", Columns: []string{"id", "name"}}}
}

func (s badSplitter) Split(u user, w connect.RowWriter) error {
	if s.mode == 0 {
		w.Row(1, connect.Int64(u.ID), connect.Text(u.Name)) // no table 1
	} else {
		w.Row(0, connect.Int64(u.ID)) // too few values
	}
	return nil
}

func TestMultiSinkRowMisuse(t *testing.T) {
	db := openDB(t, shopSchema)
	for mode, want := range []string{"out of range", "1 values for users"} {
		sink, _ := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{Splitter: badSplitter{mode}})
		err := sink.Write(context.Background(), makeUsers(1, 2))
		var ie *weir.RecordError
		if !errors.As(err, &ie) || ie.Index != 0 || !strings.Contains(err.Error(), want) {
			t.Errorf("mode %d: error %v, want a RecordError for record 0 mentioning %q", mode, err, want)
		}
		if err := sink.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if err := sink.Write(context.Background(), makeUsers(1, 1)); !errors.Is(err, sqlite.ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
	}
}

func TestMultiSinkConfigValidation(t *testing.T) {
	db := openDB(t, "")
	if _, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[user]{}); err == nil || !strings.Contains(err.Error(), "Splitter") {
		t.Fatalf("error %v, want one naming Splitter", err)
	}
	_, err := sqlite.NewMultiSink(db, sqlite.MultiSinkConfig[int]{Splitter: emptyColumns{}, RowsPerStatement: -2})
	if err == nil || !strings.Contains(err.Error(), "Tables()[1].Columns") || !strings.Contains(err.Error(), "RowsPerStatement") {
		t.Fatalf("error %v, want one naming Tables()[1].Columns and RowsPerStatement", err)
	}
}

type emptyColumns struct{}

func (emptyColumns) Tables() []connect.Table {
	return []connect.Table{{Name: "a", Columns: []string{"x"}}, {Name: "b"}}
}
func (emptyColumns) Split(int, connect.RowWriter) error { return nil }
