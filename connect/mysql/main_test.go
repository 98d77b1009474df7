package mysql_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/catalog"
	"github.com/weir-etl/weir/connect/mysql"
	"github.com/weir-etl/weir/internal/mariatest"
)

func TestMain(m *testing.M) { mariatest.Main(m) }

// shop returns a Source on a fresh database filled by mariatest.Generate.
func shop(t *testing.T, opt mariatest.GenOptions, cfg mysql.Config) (*mysql.Source, *mariatest.DB) {
	t.Helper()
	db := mariatest.New(t)
	if err := mariatest.Generate(t.Context(), db.Open(t), opt); err != nil {
		t.Fatal(err)
	}
	cfg.URL = db.URL()
	src, err := mysql.NewSource(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src, db
}

// table returns the table named name.
func table(t *testing.T, src *mysql.Source, name string) catalog.Table {
	t.Helper()
	tables, err := src.Tables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return catalog.Table{}
}

// readAll reads range r of tb to the end.
func readAll(t *testing.T, src *mysql.Source, tb catalog.Table, r catalog.Range) []connect.Row {
	t.Helper()
	rd, err := src.Open(t.Context(), tb, r)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close(context.Background())
	var out []connect.Row
	buf := make([]connect.Row, 500)
	for {
		n, err := rd.Read(t.Context(), buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readCount reads rd to the end, closes it and returns the rows read.
func readCount(tb testing.TB, rd catalog.RowReader) int {
	tb.Helper()
	defer rd.Close(context.Background())
	buf := make([]connect.Row, 1000)
	total := 0
	for {
		n, err := rd.Read(context.Background(), buf)
		total += n
		if errors.Is(err, io.EOF) {
			return total
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}
