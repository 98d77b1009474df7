// Command pgload measures weir's PostgreSQL loading against what users
// would otherwise use: a bare pgx CopyFrom loop, psql's \copy and pgloader.
// run.sh beside it drives it (and a throwaway server); the results go to
// docs/bench-postgres.md.
//
// Subcommands:
//
//	pgload gen    --file F --rows N              write the deterministic N-row CSV
//	pgload create --url URL --table T [--pk]     (re)create the 8-column table
//	pgload copy   --url URL --loader bare|weir   one COPY-ceiling measurement
//	pgload csv    --url URL --file F             load F with weir (CSV source → postgres.Sink)
//	pgload record --out F --bench B ...          append a measurement taken by the script
//	pgload report --in F                         Markdown tables: medians and ratios
//	pgload best   --in F --bench B               the config with the best median rows/s
//
// Measurements are appended, one JSON object a line, to the file given by
// --out; report groups them by bench, loader and config and takes medians.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/weir-etl/weir"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: pgload gen|create|copy|csv|record|report|best [flags] (see the package doc)")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	url := fs.String("url", "", "PostgreSQL connection URL or keyword/value string")
	table := fs.String("table", "pgload", "table to load")
	path := fs.String("file", "", "CSV file (gen: JSON Lines if the name ends in .jsonl)")
	rows := fs.Int64("rows", 1_000_000, "rows to generate or load")
	pk := fs.Bool("pk", false, "create: give the table a primary key on id")
	loader := fs.String("loader", "", "copy: bare (pgx CopyFrom loop) or weir (source → pipeline → postgres.Sink); record: the loader's name")
	batch := fs.Int("batch", 0, "rows per COPY (bare; 0 = one COPY of everything) or weir Config.BatchSize (0 = weir's default)")
	workers := fs.Int("workers", 0, "weir Config.Workers (0 = weir's default, GOMAXPROCS)")
	lc := fs.Int("load-concurrency", 0, "weir Config.LoadConcurrency (0 = load on the workers)")
	conns := fs.Int("conns", 1, "copy --loader bare: connections, each running its share of the COPYs (compare with a weir load writing on as many: its --load-concurrency, or its workers)")
	runNo := fs.Int("run", 0, "run number, for the record")
	out := fs.String("out", "", "append the measurement (JSON) to this file")
	in := fs.String("in", "", "results file to report on")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the load to this file")
	var rec result
	fs.StringVar(&rec.Bench, "bench", "", "record/best: which benchmark (copy, csv, migrate, sweep)")
	fs.StringVar(&rec.Config, "config", "", "record: the loader's settings, as flags")
	fs.Float64Var(&rec.Seconds, "seconds", 0, "record: wall-clock seconds")
	fs.Int64Var(&rec.Users, "users", 0, "record: users loaded (migrate)")
	fs.Int64Var(&rec.RSSKB, "rss-kb", 0, "record: peak RSS in KiB")
	fs.StringVar(&rec.Target, "target", "", "record: target database (postgres, sqlite)")
	fs.Float64Var(&rec.ClientCPU, "client-cpu", 0, "record: CPU seconds of the loader's process")
	fs.Float64Var(&rec.ServerCPU, "server-cpu", 0, "record: CPU seconds of the server's backends")
	if err := fs.Parse(args); err != nil {
		return err
	}
	need := func(name, v string) error {
		if v == "" {
			return fmt.Errorf("%s: --%s is required", cmd, name)
		}
		return nil
	}
	cfg := weir.Config{BatchSize: *batch, Workers: *workers, LoadConcurrency: *lc}

	switch cmd {
	case "gen":
		if err := need("file", *path); err != nil {
			return err
		}
		return generate(*path, *rows)
	case "create":
		if err := need("url", *url); err != nil {
			return err
		}
		return createTable(ctx, *url, *table, *pk)
	case "copy":
		if err := need("url", *url); err != nil {
			return err
		}
		var took time.Duration
		var config string
		nconns := *conns
		switch *loader {
		case "bare":
			all := buildRows(*rows)
			config = fmt.Sprintf("batch=%d conns=%d", *batch, *conns)
			if *batch <= 0 {
				config = fmt.Sprintf("one COPY per conn, conns=%d", *conns)
			}
			err := profile(*cpuprofile, func() (err error) {
				took, nconns, err = bareCopy(ctx, *url, *table, all, *batch, *conns)
				return err
			})
			if err != nil {
				return err
			}
		case "weir":
			config = describe(cfg)
			nconns = loaders(cfg)
			err := profile(*cpuprofile, func() (err error) {
				took, err = weirCopy(ctx, loadOpts{url: *url, table: *table, cfg: cfg}, *rows)
				return err
			})
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("copy: --loader must be bare or weir, got %q", *loader)
		}
		r := result{Bench: "copy", Loader: *loader, Config: config, Batch: *batch, Conns: nconns, Run: *runNo, Rows: *rows, Seconds: took.Seconds()}
		fmt.Fprintf(stdout, "copy %-4s %-24s %9d rows %7.3fs %9.0f rows/s\n", r.Loader, r.Config, r.Rows, r.Seconds, r.rate())
		return appendResult(*out, r)
	case "csv":
		if err := need("url", *url); err != nil {
			return err
		}
		if err := need("file", *path); err != nil {
			return err
		}
		var n int64
		var took time.Duration
		err := profile(*cpuprofile, func() (err error) {
			n, took, err = weirCSV(ctx, loadOpts{url: *url, table: *table, cfg: cfg}, *path)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "csv weir %s: %d rows in %.3fs (%.0f rows/s, inside the process)\n", describe(cfg), n, took.Seconds(), float64(n)/took.Seconds())
		return nil
	case "record":
		if err := need("out", *out); err != nil {
			return err
		}
		if rec.Bench == "" || *loader == "" || rec.Seconds <= 0 {
			return errors.New("record: --bench, --loader and --seconds > 0 are required")
		}
		rec.Loader, rec.Run, rec.Rows, rec.Batch = *loader, *runNo, *rows, *batch
		return appendResult(*out, rec)
	case "report":
		if err := need("in", *in); err != nil {
			return err
		}
		rs, err := readResults(*in)
		if err != nil {
			return err
		}
		return report(stdout, rs)
	case "best":
		if err := need("in", *in); err != nil {
			return err
		}
		rs, err := readResults(*in)
		if err != nil {
			return err
		}
		g, ok := best(rs, rec.Bench)
		if !ok {
			return fmt.Errorf("best: no results for bench %q in %s", rec.Bench, *in)
		}
		fmt.Fprintln(stdout, g.config)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// describe names a weir config by the settings that differ from the
// defaults.
func describe(c weir.Config) string {
	var parts []string
	d := c.WithDefaults()
	parts = append(parts, fmt.Sprintf("batch=%d", d.BatchSize))
	if c.Workers != 0 {
		parts = append(parts, fmt.Sprintf("workers=%d", c.Workers))
	}
	parts = append(parts, fmt.Sprintf("lc=%d", c.LoadConcurrency))
	return strings.Join(parts, " ")
}

// profile runs fn, under the CPU profiler when path is set.
func profile(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	ferr := fn()
	pprof.StopCPUProfile()
	return errors.Join(ferr, f.Close())
}
