package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
			cpu := clientCPU()
			for b.Loop() {
				var out, errOut nopWriter
				code := run([]string{"migrate", "--users", fmt.Sprint(users), "--to", pg.URL(), "--truncate",
					"--progress", "off", fmt.Sprintf("--defer-constraints=%v", deferFKs)}, &out, &errOut)
				if code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(users*126)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(clientCPU()-cpu)/float64(users*126*b.N), "client-cpu-ns/row")
		})
	}
}

// clientCPU returns the CPU time (user + system) this process has used, in
// nanoseconds: the client's side of a load (the server's backends are other
// processes).
func clientCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkJobVsMigrate loads the same JSON Lines file of 20,000 users into
// PostgreSQL twice per round, each into a database of its own: with
// `weir migrate --from jsonl:` (typed Go: users.Splitter) and with
// `weir run examples/users/job.yaml` (the job file: expressions over
// generic rows), each with its defaults. One op is one whole command. The
// issue's target is job ≥ 0.8× migrate in rows/s:
//
//	go test -run '^$' -bench JobVsMigrate -benchtime 1x -count 5 ./cmd/weir
func BenchmarkJobVsMigrate(b *testing.B) {
	const users = 20_000
	path := writeUsers(b, users, 7)
	job := filepath.Join(b.TempDir(), "job.yaml")
	spec, err := os.ReadFile("../../examples/users/job.yaml")
	if err != nil {
		b.Fatal(err)
	}
	// The same job, emptying the tables first (as migrate --truncate does).
	spec = []byte(strings.Replace(string(spec), "on_error: fail", "on_error: fail\n  if_exists: truncate", 1))
	if err := os.WriteFile(job, spec, 0o644); err != nil {
		b.Fatal(err)
	}
	viaMigrate, viaJob := pgtest.New(b), pgtest.New(b)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"migrate", []string{"migrate", "--from", "jsonl:" + path, "--to", viaMigrate.URL(), "--truncate"}},
		{"job", []string{"run", job, "--from", path, "--to", viaJob.URL()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu := clientCPU()
			for b.Loop() {
				var out, errOut strings.Builder
				if code := run(append(c.args, "--progress", "off"), &out, &errOut); code != exitOK {
					b.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
				}
			}
			b.ReportMetric(float64(users*126)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(clientCPU()-cpu)/float64(users*126*b.N), "client-cpu-ns/row")
		})
	}
}

// BenchmarkCopyCSV runs `weir copy` of a 200,000-row, 8-column CSV file
// (integers, text, a decimal, a timestamp, JSON) into a new PostgreSQL
// table, and into SQLite: one op is one whole command, the table created
// from inferred types. bench/pgload/run.sh --copycmd-rows compares the
// same command with psql \copy and sqlite3 .import.
func BenchmarkCopyCSV(b *testing.B) {
	const n = 200_000
	var sb strings.Builder
	sb.WriteString("id,first_name,last_name,city,email,score,created_at,attrs\n")
	for i := range n {
		fmt.Fprintf(&sb, "%d,Ada%d,Lovelace,London,ada%d@example.com,%d.%02d,2024-05-%02dT10:%02d:00Z,\"{\"\"plan\"\": \"\"pro\"\", \"\"seats\"\": %d}\"\n",
			i+1, i%97, i, i%1000, i%100, 1+i%28, i%60, i%50)
	}
	path := filepath.Join(b.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	pg := pgtest.New(b)
	for _, c := range []struct{ name, target string }{
		{"postgres", pg.URL() + "&table=people"},
		{"sqlite", "sqlite:" + filepath.Join(b.TempDir(), "p.db") + "?table=people"},
	} {
		// batch=128 is the engine's default, which weir copy used first;
		// 5000 is weir copy's own. Both on one connection.
		for _, batch := range []int{128, defaultCopyBatch} {
			b.Run(fmt.Sprintf("%s/batch=%d", c.name, batch), func(b *testing.B) {
				cpu := clientCPU()
				for b.Loop() {
					var out, errOut strings.Builder
					if code := run([]string{"copy", path, c.target, "--if-exists", "replace", "--progress", "off",
						"--batch", fmt.Sprint(batch), "--load-concurrency", "1"}, &out, &errOut); code != exitOK {
						b.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(clientCPU()-cpu)/float64(n*b.N), "client-cpu-ns/row")
			})
		}
	}
}
