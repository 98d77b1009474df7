package main

import (
	"fmt"
	"testing"

	"github.com/weir-etl/weir/internal/pgtest"
)

// BenchmarkMigratePostgres runs the reference job, 20,000 users with 1 KB
// blobs, into a throwaway PostgreSQL, with the foreign keys deferred (the
// default) and kept. One op is one whole `weir migrate` (schema, load,
// constraints restored, recount):
//
//	go test -run '^$' -bench MigratePostgres -benchtime 1x -count 3 ./cmd/weir
func BenchmarkMigratePostgres(b *testing.B) {
	pg := pgtest.New(b)
	const users = 20_000
	for _, deferFKs := range []bool{true, false} {
		b.Run(fmt.Sprintf("defer-constraints=%v", deferFKs), func(b *testing.B) {
			for b.Loop() {
				var out, errOut nopWriter
				code := run([]string{"migrate", "--users", fmt.Sprint(users), "--to", pg.URL(), "--truncate",
					"--progress", "off", fmt.Sprintf("--defer-constraints=%v", deferFKs)}, &out, &errOut)
				if code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(users*126)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
