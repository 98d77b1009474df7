package mysql_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/mysql"
	"github.com/weir-etl/weir/internal/mariatest"
)

func TestTables(t *testing.T) {
	src, _ := shop(t, mariatest.GenOptions{Rows: 1000}, mysql.Config{})
	tables, err := src.Tables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]catalog.Table{}
	for _, tb := range tables {
		names = append(names, tb.Name)
		byName[tb.Name] = tb
	}
	// Referenced tables first; otherwise name order.
	if want := []string{"customers", "events", "orders", "products", "order_items"}; !slices.Equal(names, want) {
		t.Errorf("tables %v, want %v", names, want)
	}
	cust := byName["customers"]
	if !slices.Equal(cust.PrimaryKey, []string{"id"}) || !cust.Columns[0].Identity || cust.Columns[0].PGType != "bigint" {
		t.Errorf("customers key %v, id %+v: want an identity bigint key", cust.PrimaryKey, cust.Columns[0])
	}
	if want := []catalog.Index{{Name: "customers_email", Columns: []string{"email"}, Unique: true},
		{Name: "customers_referrer", Columns: []string{"referrer_id"}}}; !reflect.DeepEqual(cust.Indexes, want) {
		t.Errorf("customers indexes %+v, want %+v", cust.Indexes, want)
	}
	if want := []catalog.ForeignKey{{Name: "customers_referrer", Columns: []string{"referrer_id"}, RefTable: "customers",
		RefColumns: []string{"id"}, OnDelete: "SET NULL", OnUpdate: "RESTRICT"}}; !reflect.DeepEqual(cust.ForeignKeys, want) {
		t.Errorf("customers foreign keys %+v, want %+v", cust.ForeignKeys, want)
	}
	defaults := map[string]string{}
	for _, c := range cust.Columns {
		defaults[c.Name] = c.Default
	}
	if defaults["country"] != "'DE'" || defaults["active"] != "true" {
		t.Errorf("customers defaults %v, want country 'DE' and active true", defaults)
	}
	items := byName["order_items"]
	if !slices.Equal(items.PrimaryKey, []string{"order_id", "line"}) || len(items.ForeignKeys) != 2 {
		t.Errorf("order_items key %v, foreign keys %+v", items.PrimaryKey, items.ForeignKeys)
	}
	if fk := items.ForeignKeys[0]; fk.RefTable != "orders" || fk.OnDelete != "CASCADE" {
		t.Errorf("order_items first foreign key %+v, want to orders ON DELETE CASCADE", fk)
	}
	if ev := byName["events"]; len(ev.PrimaryKey) != 0 || len(ev.Indexes) != 1 {
		t.Errorf("events key %v, indexes %+v: want none and one", ev.PrimaryKey, ev.Indexes)
	}
	if p := byName["products"]; p.Columns[columnIndex(p, "attrs")].PGType != "jsonb" {
		t.Errorf("products.attrs is %+v, want jsonb (MariaDB's JSON is LONGTEXT with a json_valid CHECK)", p.Columns[columnIndex(p, "attrs")])
	}
	if d := cust.Columns[columnIndex(cust, "updated")].Default; d != "CURRENT_TIMESTAMP" {
		t.Errorf("customers.updated default %q, want CURRENT_TIMESTAMP", d)
	}
}

// TestRangesCoverEveryRow reads each table range by range: the rows read
// add up to COUNT(*), no key is read twice, and Pos names each row's key.
func TestRangesCoverEveryRow(t *testing.T) {
	src, db := shop(t, mariatest.GenOptions{Rows: 20_000}, mysql.Config{MinRangeRows: 1})
	sqlDB := db.Open(t)
	// Gaps in the key, and keys at the ends of the type, must not lose rows.
	db.Exec(t, `DELETE FROM events WHERE kind = 'view'; DELETE FROM orders WHERE id BETWEEN 1000 AND 3000;
		INSERT INTO orders (id, customer_id, placed, total) VALUES (9223372036854775807, 1, NOW(), 1), (-9223372036854775808, 1, NOW(), 1)`)
	for _, name := range []string{"orders", "customers", "order_items", "events", "products"} {
		tb := table(t, src, name)
		tb.Rows = -1 // the estimate lags; unknown splits by n alone
		ranges, err := src.Ranges(t.Context(), tb, 4)
		if err != nil {
			t.Fatal(err)
		}
		// order_items splits by order_id, the first column of its key.
		wantRanges := map[string]int{"orders": 4, "customers": 4, "order_items": 4}[name]
		if wantRanges == 0 {
			wantRanges = 1 // no key whose first column is an integer: one zero range
		}
		if len(ranges) != wantRanges {
			t.Errorf("%s: %d ranges %v, want %d", name, len(ranges), ranges, wantRanges)
		}
		var total int64
		seen := map[string]bool{}
		for _, r := range ranges {
			for _, row := range readAll(t, src, tb, r) {
				total++
				if len(tb.PrimaryKey) == 0 {
					continue
				}
				key := row.Pos.String()
				if len(tb.PrimaryKey) > 1 {
					key = row.Pos.Name // the key; Line numbers the rows of each range
				}
				if seen[key] {
					t.Fatalf("%s: %s read twice", name, key)
				}
				seen[key] = true
				if len(tb.PrimaryKey) == 1 && name != "products" && row.Pos.Line != row.Values[0].Int() {
					t.Fatalf("%s: Pos %v for the row of key %v", name, row.Pos, row.Values[0])
				}
			}
		}
		var count int64
		if err := sqlDB.QueryRow("SELECT COUNT(*) FROM " + name).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if total != count {
			t.Errorf("%s: ranges read %d rows, COUNT(*) is %d", name, total, count)
		}
	}
	items := readAll(t, src, table(t, src, "order_items"), catalog.Range{})
	if got := items[0].Pos.String(); got != "order_items (order_id=1, line=1):1" {
		t.Errorf("order_items Pos %q, want the table and the key", got)
	}
}

func TestRangesFollowTheEstimate(t *testing.T) {
	src, _ := shop(t, mariatest.GenOptions{Rows: 1000}, mysql.Config{MinRangeRows: 40})
	tb := table(t, src, "orders")
	for _, tc := range []struct {
		rows int64
		n    int
		want int
	}{{100, 8, 2}, {79, 8, 1}, {1000, 3, 3}, {1000, 1, 1}} {
		tb.Rows = tc.rows
		ranges, err := src.Ranges(t.Context(), tb, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ranges) != tc.want {
			t.Errorf("%d rows, n=%d: %d ranges, want %d", tc.rows, tc.n, len(ranges), tc.want)
		}
		if ranges[0].From != nil || ranges[len(ranges)-1].To != nil {
			t.Errorf("ranges %v: the ends must be open", ranges)
		}
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	db := mariatest.New(t)
	const secret = "s3cr3t-Pa55word"
	if err := db.Server().AdminExec("CREATE USER IF NOT EXISTS 'weirpw'@'127.0.0.1' IDENTIFIED BY '" + secret + "'"); err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf("mysql://weirpw:%s@127.0.0.1:%d/%s", secret, db.Server().Port(), db.Name())
	for _, u := range []string{
		fmt.Sprintf("mysql://weirpw:%sX@127.0.0.1:%d/%s", secret, db.Server().Port(), db.Name()), // wrong password
		fmt.Sprintf("mysql://weirpw:%s@127.0.0.1:%d/%s", secret, db.Server().Port(), db.Name()),  // no access to the database
		"mysql://weirpw:" + secret + "@127.0.0.1:notaport/x",
		"mysql://weirpw:" + secret + "@127.0.0.1:1/x",
		"mysql://weirpw:" + secret + "@[::1/x",
		"mysql://weirpw:" + secret + "@127.0.0.1/x?bogus=1",
		"postgres://weirpw:" + secret + "@127.0.0.1/x",
		"mysql://weirpw:" + secret + "%zz@127.0.0.1/x",
	} {
		_, err := mysql.Open(t.Context(), u)
		if err == nil {
			t.Fatalf("%s: no error", strings.ReplaceAll(u, secret, "…"))
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error holds the password: %v", err)
		}
	}
	_ = good
}

func TestConfig(t *testing.T) {
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "valid", Config: mysql.Config{URL: "mysql://u:p@h:3306/db"}},
		{Name: "socket", Config: mysql.Config{URL: "mysql://u@localhost/db?socket=/run/mysqld/mysqld.sock"}},
		{Name: "empty", Config: mysql.Config{}, Want: []string{"mysql: Config.URL is empty"}},
		{Name: "no database", Config: mysql.Config{URL: "mysql://u@h"}, Want: []string{"Config.URL", "database name"}},
		{Name: "negatives", Config: mysql.Config{URL: "mysql://u@h/d", MaxConns: -1, MinRangeRows: -5},
			Want: []string{"Config.MaxConns must be >= 0, got -1", "Config.MinRangeRows must be >= 0, got -5"}},
	})
}

// TestReaderContract runs the source kit over a reader of customers.
func TestReaderContract(t *testing.T) {
	src, _ := shop(t, mariatest.GenOptions{Rows: 300}, mysql.Config{})
	tb := table(t, src, "customers")
	want := readAll(t, src, tb, catalog.Range{})
	if len(want) != 30 {
		t.Fatalf("%d customers, want 30", len(want))
	}
	conntest.Source(t, conntest.SourceCase[connect.Row]{
		Open: func(t *testing.T) weir.Source[connect.Row] {
			rd, err := src.Open(t.Context(), tb, catalog.Range{})
			if err != nil {
				t.Fatal(err)
			}
			return rd
		},
		Want: want,
	})
}

func TestBadValueIsABadRecord(t *testing.T) {
	src, db := shop(t, mariatest.GenOptions{Rows: 100}, mysql.Config{})
	tb := table(t, src, "orders")
	db.Exec(t, `UPDATE orders SET note = NULL WHERE id <> 1`)
	// A caller's table that claims a text column is a date: the value
	// cannot be decoded, and the error names the row.
	tb.Columns[columnIndex(tb, "note")].Type = connect.TypeDate
	rd, err := src.Open(t.Context(), tb, catalog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close(t.Context())
	buf := make([]connect.Row, 10)
	n, err := rd.Read(t.Context(), buf)
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || n != 0 || !strings.HasPrefix(bad.Pos, "orders:1") || !strings.Contains(err.Error(), `"note"`) {
		t.Fatalf("Read = %d, %v; want 0 rows and a BadRecordError at orders:1 naming note", n, err)
	}
	if n, err := rd.Read(t.Context(), buf[:1]); n != 1 || err != nil || buf[0].Pos.Line != 2 {
		t.Fatalf("next Read = %d, %v, %v: want row 2", n, err, buf[0].Pos)
	}
}
