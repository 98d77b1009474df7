package mariatest

import (
	"strings"
	"testing"

	"github.com/weir-etl/weir/internal/testserver"
)

func TestMain(m *testing.M) { Main(m) }

// recordingTB records the first Skip or Fatal call instead of stopping.
type recordingTB struct {
	testing.TB
	first string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skip(...any) {
	if r.first == "" {
		r.first = "skip"
	}
}
func (r *recordingTB) Fatalf(string, ...any) {
	if r.first == "" {
		r.first = "fatal"
	}
}

func TestUnavailableSkipsUnlessCI(t *testing.T) {
	for _, tc := range []struct{ ci, want string }{{"", "skip"}, {"true", "fatal"}} {
		t.Setenv("CI", tc.ci)
		r := &recordingTB{TB: t}
		testserver.Unavailable(r, "mariatest: mariadbd not found")
		if r.first != tc.want {
			t.Errorf("with CI=%q: %s, want %s", tc.ci, r.first, tc.want)
		}
	}
}

func TestFindBinaryNamesTheMissingOne(t *testing.T) {
	_, err := findBinary("no-such-mariadbd-here")
	if _, ok := err.(*UnavailableError); !ok || !strings.Contains(err.Error(), "no-such-mariadbd-here") {
		t.Fatalf("err = %v, want an UnavailableError naming the binary", err)
	}
}

func TestGenerate(t *testing.T) {
	db := New(t)
	sqlDB := db.Open(t)
	if err := Generate(t.Context(), sqlDB, GenOptions{Rows: 2000, AllTypes: true}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"customers": 200, "products": 20, "orders": 600, "order_items": 980, "events": 200, "all_types": 5}
	for table, n := range want {
		var got int64
		if err := sqlDB.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("%s has %d rows, want %d", table, got, n)
		}
	}
	// The foreign keys hold although they were not checked on insert.
	var orphans int64
	err := sqlDB.QueryRow(`SELECT
		(SELECT COUNT(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL) +
		(SELECT COUNT(*) FROM order_items i LEFT JOIN products p ON p.sku = i.sku WHERE p.sku IS NULL) +
		(SELECT COUNT(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL) +
		(SELECT COUNT(*) FROM customers c LEFT JOIN customers r ON r.id = c.referrer_id WHERE c.referrer_id IS NOT NULL AND r.id IS NULL)`).Scan(&orphans)
	if err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d rows reference a missing row", orphans)
	}
	var zero int64
	if err := sqlDB.QueryRow(`SELECT COUNT(*) FROM orders WHERE shipped = '0000-00-00'`).Scan(&zero); err != nil {
		t.Fatal(err)
	}
	if zero != 600/97 {
		t.Errorf("%d zero dates, want %d", zero, 600/97)
	}
}
