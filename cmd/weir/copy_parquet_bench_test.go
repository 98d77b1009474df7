package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/internal/pgtest"
)

// BenchmarkCopyParquet copies the same 8 columns of rows into PostgreSQL
// from a Parquet file and from a CSV file, side by side, with weir copy's
// defaults (docs/BENCHMARKS.md, "Parquet"). The Parquet file is made by
// weir copy from the CSV file, outside the timing; both are kept in the
// temporary directory for the next run of the same size (the files of a
// million rows take 160 MB).
//
//	PARQUET_BENCH_ROWS=1000000 scripts/interleave.sh 5 ./cmd/weir 'CopyParquet/from=csv$' 'CopyParquet/from=parquet$' | scripts/medians.sh
func BenchmarkCopyParquet(b *testing.B) {
	n := 200_000
	if v := os.Getenv("PARQUET_BENCH_ROWS"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("weir-bench-parquet-%d", n))
	csv, parquet := filepath.Join(dir, "people.csv"), filepath.Join(dir, "people.parquet")
	if _, err := os.Stat(parquet); err != nil {
		makeParquetBenchFiles(b, dir, csv, parquet, n)
	}
	pg := pgtest.New(b)
	for _, c := range []struct{ name, path string }{{"csv", csv}, {"parquet", parquet}} {
		b.Run("from="+c.name, func(b *testing.B) {
			cpu := clientCPU()
			for b.Loop() {
				var out, errOut strings.Builder
				if code := run([]string{"copy", c.path, pg.URL() + "&table=people", "--if-exists", "replace", "--progress", "off"},
					&out, &errOut); code != exitOK {
					b.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(clientCPU()-cpu)/float64(n*b.N), "client-cpu-ns/row")
		})
	}
}

// makeParquetBenchFiles writes n rows as CSV, then copies them to Parquet.
func makeParquetBenchFiles(b *testing.B, dir, csv, parquet string, n int) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(csv)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("id,first_name,last_name,city,email,score,created_at,attrs\n")
	for i := range n {
		fmt.Fprintf(w, "%d,Ada%d,Lovelace,London,ada%d@example.com,%d.%02d,2024-05-%02dT10:%02d:00Z,\"{\"\"plan\"\": \"\"pro\"\", \"\"seats\"\": %d}\"\n",
			i+1, i%97, i, i%1000, i%100, 1+i%28, i%60, i%50)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		b.Fatal(err)
	}
	if code := run([]string{"copy", csv, parquet, "--progress", "off"}, &strings.Builder{}, &strings.Builder{}); code != exitOK {
		b.Fatalf("making the Parquet file: exit %d", code)
	}
}
