package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/file"
)

// rejectFlags are the error-policy flags of every command that loads:
// --on-error, --reject, --reject-append and --max-errors.
type rejectFlags struct {
	onError   string
	path      string
	append    bool
	maxErrors int64
}

func (r *rejectFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.onError, "on-error", "fail", "what a bad record does: fail (stop the run at the first one, naming it) or skip (write it to the --reject file and go on; the run still exits 0)")
	fs.StringVar(&r.path, "reject", "", "with --on-error skip (required there): the file that receives the rejected records, JSON Lines of {stage, record, error, source: FILE:LINE when known}; it is emptied first unless --reject-append")
	fs.BoolVar(&r.append, "reject-append", false, "keep what the --reject file holds and add to it (for a --resume of a run that rejected records)")
	fs.Int64Var(&r.maxErrors, "max-errors", 0, "with --on-error skip: fail the run (exit 1) when more than this many records are rejected; 0 means no limit")
}

func (r *rejectFlags) skip() bool { return r.onError == "skip" }

// check refuses contradictions: every flag here but --on-error only means
// something with skip, and skip needs somewhere to put the records (a
// default file in the working directory would be truncated by the next run
// unnoticed, taking the last run's rejects with it).
func (r *rejectFlags) check() error {
	switch {
	case r.onError != "fail" && r.onError != "skip":
		return usagef("--on-error must be fail or skip, got %q", r.onError)
	case r.skip() && r.path == "":
		return usagef("--on-error skip needs --reject PATH: where the rejected records go")
	case !r.skip() && r.path != "":
		return usagef("--reject %s: records are only rejected with --on-error skip", r.path)
	case r.append && r.path == "":
		return usagef("--reject-append needs --reject PATH")
	case r.maxErrors < 0:
		return usagef("--max-errors must be >= 0 (0: no limit), got %d", r.maxErrors)
	case r.maxErrors > 0 && !r.skip():
		return usagef("--max-errors only counts rejected records: it needs --on-error skip")
	}
	return nil
}

// policy sets cfg's error policies. Skip covers every stage: lines the
// source cannot read, documents the transform refuses, and rows the target
// refuses (found by bisecting a failed batch: each batch is one
// transaction).
func (r *rejectFlags) policy(cfg *weir.Config) {
	if r.skip() {
		cfg.OnTransformError, cfg.OnLoadError = weir.Skip, weir.Skip
	}
}

// open opens the reject file (emptied unless --reject-append), or returns
// nil with --on-error fail. The caller has checked, before touching the
// target, that a --resume does not empty a file holding an earlier run's
// rejects: that run will not reject them again.
func (r *rejectFlags) open() (*rejectSink, error) {
	if !r.skip() {
		return nil, nil
	}
	open := file.CreateDeadLetter
	if r.append {
		open = file.AppendDeadLetter
	}
	dl, err := open(r.path)
	if err != nil {
		return nil, usagef("--reject: %w", err)
	}
	return &rejectSink{dl: dl, max: r.maxErrors, path: r.path}, nil
}

// countLines counts the lines of the file at path; 0 when it does not
// exist.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// errTooManyRejects is the cause of a run that --max-errors stopped.
var errTooManyRejects = errors.New("too many rejected records")

// rejectSink is the run's dead-letter sink: the reject file, refusing the
// records past --max-errors, which fails the run (a record is loaded or
// recorded, never dropped).
type rejectSink struct {
	dl   *file.JSONLSink[weir.Failure]
	path string
	max  int64

	mu sync.Mutex
	n  int64 // records written
}

// Write writes fails, unless that would take the count past max.
func (s *rejectSink) Write(ctx context.Context, fails []weir.Failure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.n+int64(len(fails)) > s.max {
		return fmt.Errorf("%w: more than %d (--max-errors); the first %d are in %s", errTooManyRejects, s.max, s.n, s.path)
	}
	if err := s.dl.Write(ctx, fails); err != nil {
		return err
	}
	s.n += int64(len(fails))
	return nil
}

// Close syncs and closes the reject file; the run calls it once.
func (s *rejectSink) Close(ctx context.Context) error { return s.dl.Close(ctx) }

// reportRejects says how many records the run rejected, in which stage,
// and where they are.
func reportRejects(w io.Writer, st weir.Stats, path string) {
	n := st.DeadLettered()
	if n == 0 {
		fmt.Fprintf(w, "rejected 0 records\n")
		return
	}
	fmt.Fprintf(w, "rejected %d records (%d unreadable, %d refused by the transform, %d by the target): see %s\n",
		n, st.Extract.DeadLettered, st.Transform.DeadLettered, st.Load.DeadLettered, path)
}
