// Running bench cells, each in a child process of its own (or in this
// process with --in-process), and the child's side: --run-cell.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// benchRunner runs cells, in child processes or in this one, and reports
// progress.
type benchRunner struct {
	// child builds the command that measures one cell; nil runs cells in
	// this process.
	child  func(ctx context.Context, spec string) *exec.Cmd
	stderr io.Writer
	done   int
	total  int
	// idleRSS is the smallest resident size a child had before its first
	// run.
	idleRSS uint64
}

func (r *benchRunner) run(ctx context.Context, c benchCell) (cellResult, error) {
	r.done++
	fmt.Fprintf(r.stderr, "weir bench: [%d/%d] %v … ", r.done, r.total, c)
	start := time.Now()
	var res cellResult
	var err error
	if r.child == nil {
		c.inProcess = true
		res, err = measureCell(ctx, c)
	} else {
		res, err = r.runChild(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(r.stderr, "failed")
		return res, err
	}
	r.idleRSS = minIdleRSS(r.idleRSS, res.IdleRSS)
	note := ""
	if res.Capped {
		note = ", stopped by the time cap"
	}
	fmt.Fprintf(r.stderr, "%s records/s (%s wall%s)\n", fmtRate(res.rate()), fmtDuration(time.Since(start)), note)
	return res, nil
}

func (r *benchRunner) runChild(ctx context.Context, c benchCell) (cellResult, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return cellResult{}, fmt.Errorf("encode bench cell: %w", err)
	}
	cmd := r.child(ctx, string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return cellResult{}, ctx.Err()
		}
		return cellResult{}, fmt.Errorf("%v: child process: %w: %s", c, err, strings.TrimSpace(stderr.String()))
	}
	var res cellResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return cellResult{}, fmt.Errorf("%v: child process printed %q: %w", c, stdout.String(), err)
	}
	return res, nil
}

// selfCommand runs this executable as `weir bench --run-cell SPEC`.
func selfCommand(ctx context.Context, spec string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, "bench", benchCellArg, spec)
}

// benchChild measures the cell given as JSON in args[0] and prints the
// result as one JSON line.
func benchChild(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usagef("%s takes one argument, a cell as JSON", benchCellArg)
	}
	var c benchCell
	if err := json.Unmarshal([]byte(args[0]), &c); err != nil {
		return usagef("%s: %w", benchCellArg, err)
	}
	res, err := measureCell(ctx, c)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
