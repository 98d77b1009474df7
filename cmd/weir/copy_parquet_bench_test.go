package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-etl/weir/internal/pgtest"
)

// parquetBenchRounds rotates the order of the two formats from one
// -test.count to the next, so that neither always runs first.
var parquetBenchRounds int

// BenchmarkCopyParquet copies the same 8 columns of rows into PostgreSQL
// from a Parquet file and from a CSV file, side by side, with weir copy's
// defaults (docs/BENCHMARKS.md, "Parquet"). The Parquet file is made by
// weir copy from the CSV file, outside the timing.
//
//	PARQUET_BENCH_ROWS=1000000 go test -run '^$' -bench CopyParquet -benchtime 1x -count 5 ./cmd/weir | scripts/medians.sh
func BenchmarkCopyParquet(b *testing.B) {
	n := 200_000
	if v := os.Getenv("PARQUET_BENCH_ROWS"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := b.TempDir()
	csv := filepath.Join(dir, "people.csv")
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
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	parquet := filepath.Join(dir, "people.parquet")
	if code := run([]string{"copy", csv, parquet, "--progress", "off"}, &strings.Builder{}, &strings.Builder{}); code != exitOK {
		b.Fatalf("making the Parquet file: exit %d", code)
	}
	pg := pgtest.New(b)
	formats := []struct{ name, path string }{{"csv", csv}, {"parquet", parquet}}
	if parquetBenchRounds%2 == 1 {
		formats[0], formats[1] = formats[1], formats[0]
	}
	parquetBenchRounds++
	for _, c := range formats {
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
