package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
	"github.com/weir-etl/weir/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The CSV file, read back through connect/file with decodeRow, gives
// exactly the rows the other loaders are built from.
func TestCSVRoundTrip(t *testing.T) {
	const n = 2000
	var buf bytes.Buffer
	if err := writeCSV(&buf, n); err != nil {
		t.Fatal(err)
	}
	src, err := file.NewCSVSource(&buf, file.CSVSourceConfig[Row]{Decode: decodeRow, Columns: columns})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]Row, 0, n)
	chunk := make([]Row, 300)
	for {
		k, err := src.Read(context.Background(), chunk)
		got = append(got, chunk[:k]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != n {
		t.Fatalf("read %d rows, want %d", len(got), n)
	}
	for i, r := range got {
		if want := rowAt(int64(i) + 1); r != want {
			t.Fatalf("row %d: got %+v, want %+v", i+1, r, want)
		}
	}
}

func TestRowAtIsDeterministicAndVaried(t *testing.T) {
	if rowAt(42) != rowAt(42) {
		t.Fatal("rowAt(42) differs between calls")
	}
	citySeen, attrsSeen := map[string]bool{}, map[string]bool{}
	for id := int64(1); id <= 1000; id++ {
		r := rowAt(id)
		citySeen[r.City] = true
		attrsSeen[r.Attrs] = true
		if r.Created.Location() != time.UTC || r.Created.Nanosecond() != 0 {
			t.Fatalf("row %d: created %v is not whole seconds in UTC (the CSV would not round-trip)", id, r.Created)
		}
	}
	if len(citySeen) < len(cities)/2 || len(attrsSeen) < 100 {
		t.Errorf("rows barely vary: %d cities, %d JSON objects in 1000 rows", len(citySeen), len(attrsSeen))
	}
}

func TestDecodeRowRejectsBadFields(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"id not a number", `x,a,b,c,d,1,2024-01-02T03:04:05Z,"{}"`},
		{"score overflows int32", `1,a,b,c,d,9999999999,2024-01-02T03:04:05Z,"{}"`},
		{"bad time", `1,a,b,c,d,1,yesterday,"{}"`},
		{"empty attrs", `1,a,b,c,d,1,2024-01-02T03:04:05Z,`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Join(columns, ",") + "\n" + tc.line + "\n"
			src, err := file.NewCSVSource(strings.NewReader(in), file.CSVSourceConfig[Row]{Decode: decodeRow})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Read(context.Background(), make([]Row, 1))
			var le *file.LineError
			if err == nil || !errors.As(err, &le) || le.Line != 2 {
				t.Fatalf("err = %v, want a LineError on line 2", err)
			}
		})
	}
}

// Every loader of the program lands the same rows: the bare loop, the weir
// COPY pipeline and the weir CSV pipeline, checked column by column
// against rowAt on the server.
func TestLoadersLandTheSameRows(t *testing.T) {
	const n = 3000
	db := pgtest.New(t)
	url := db.ConnString()
	ctx := t.Context()
	if err := createTable(ctx, url, "t", true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := generate(path, n); err != nil {
		t.Fatal(err)
	}
	pool := db.Pool(t)
	check := func(t *testing.T) {
		t.Helper()
		// Compare on the server: rows 1, n/2 and n against rowAt.
		for _, id := range []int64{1, n / 2, n} {
			want := rowAt(id)
			var ok bool
			err := pool.QueryRow(ctx, `SELECT first_name = $2 AND last_name = $3 AND city = $4 AND email = $5
				AND score = $6 AND created_at = $7 AND attrs = $8::jsonb FROM t WHERE id = $1`,
				id, want.First, want.Last, want.City, want.Email, want.Score, want.Created, want.Attrs).Scan(&ok)
			if err != nil {
				t.Fatalf("row %d: %v", id, err)
			}
			if !ok {
				t.Errorf("row %d differs from rowAt(%d)", id, id)
			}
		}
		if err := checkCount(ctx, pool, "t", n); err != nil {
			t.Error(err)
		}
	}
	cfg := weir.Config{BatchSize: 500, LoadConcurrency: 2}

	t.Run("bare", func(t *testing.T) {
		// Two connections, as many as cfg's weir load writes on.
		_, used, err := bareCopy(ctx, url, "t", buildRows(n), 700, loaders(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if used != 2 {
			t.Errorf("the bare loop ran COPYs on %d connections, want 2 (weir's LoadConcurrency)", used)
		}
		check(t)
	})
	t.Run("bare, one COPY per connection", func(t *testing.T) {
		if _, used, err := bareCopy(ctx, url, "t", buildRows(n), 0, 3); err != nil || used != 3 {
			t.Fatalf("bareCopy = %d connections used, %v; want 3, nil", used, err)
		}
		check(t)
	})
	t.Run("weir copy", func(t *testing.T) {
		if _, err := weirCopy(ctx, loadOpts{url: url, table: "t", cfg: cfg}, n); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
	t.Run("weir csv", func(t *testing.T) {
		if err := truncate(ctx, pool, "t"); err != nil {
			t.Fatal(err)
		}
		got, _, err := weirCSV(ctx, loadOpts{url: url, table: "t", cfg: cfg}, path)
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("weirCSV loaded %d rows, want %d", got, n)
		}
		check(t)
	})
	t.Run("weir csv into a full table fails on the key", func(t *testing.T) {
		_, _, err := weirCSV(ctx, loadOpts{url: url, table: "t", cfg: cfg}, path)
		if err == nil || !strings.Contains(err.Error(), "duplicate key") {
			t.Fatalf("err = %v, want a duplicate key error", err)
		}
	})
}

// run's subcommands write, read and report results end to end.
func TestRecordReportBest(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.jsonl")
	rec := func(args ...string) {
		t.Helper()
		if err := run(context.Background(), append([]string{"record", "--out", out}, args...), io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range []string{"2", "4", "3"} {
		run := string(rune('1' + i))
		rec("--bench", "csv", "--loader", "psql", "--rows", "1000", "--seconds", s, "--run", run)
		rec("--bench", "csv", "--loader", "weir", "--config", "--batch 5000", "--rows", "1000", "--seconds", "1.5", "--run", run)
	}
	rec("--bench", "sweep", "--loader", "weir-migrate", "--target", "postgres", "--users", "10", "--rows", "1260", "--seconds", "2")
	rec("--bench", "sweep", "--loader", "weir-migrate", "--target", "postgres", "--config", "--batch 512", "--users", "10", "--rows", "1260", "--seconds", "1")
	rec("--bench", "migrate", "--loader", "weir-migrate", "--target", "sqlite", "--users", "10", "--rows", "1260", "--seconds", "1", "--rss-kb", "51200")
	rec("--bench", "flat", "--loader", "weir-migrate", "--target", "sqlite", "--users", "100", "--rows", "12600", "--seconds", "9", "--rss-kb", "56320")

	var b strings.Builder
	if err := run(context.Background(), []string{"report", "--in", out}, &b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| psql | defaults | 2.00 / 4.00 / 3.00 | 3.000 | 333 | 1.00 |", // median of 2, 4, 3 is 3
		"| weir | --batch 5000 | 1.50 / 1.50 / 1.50 | 1.500 | 667 | 2.00 |",
		"| sqlite | defaults | 100 | 12600 | 55 / 55 | 1.10 |", // 55 MiB vs 50 MiB
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	b.Reset()
	if err := run(context.Background(), []string{"best", "--in", out, "--bench", "sweep"}, &b); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); got != "--batch 512" {
		t.Errorf("best = %q, want --batch 512", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		rs := make([]result, len(tc.in))
		for i, v := range tc.in {
			rs[i].Seconds = v
		}
		if got := median(rs, func(r result) float64 { return r.Seconds }); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestGenerateRejectsNoRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.csv")
	if err := generate(path, 0); err == nil {
		t.Fatal("generate 0 rows: no error")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("generate 0 rows created %s anyway", path)
	}
}
