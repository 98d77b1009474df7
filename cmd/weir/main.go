// Command weir moves data: `weir copy SOURCE TARGET` copies a file, a
// table or a query into a table or a file, creating the table from types
// inferred from the data; `weir migrate` runs the reference job (nested
// user documents into 15 relational tables). Run `weir help` for usage.
package main

import (
	"errors"
	"fmt"
	"github.com/weir-etl/weir/internal/redact"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // the job ran and failed (or verification found a mismatch)
	exitUsage   = 2 // bad flags, bad config, unreachable database: nothing was written
	usageHeader = `weir moves data: typed, batched, concurrent extract → transform → load.

Usage:
  weir copy SOURCE TARGET [flags]
                         copy a file (CSV, JSON, JSON Lines, Parquet), a table or a query into a table or a file
  weir run JOB.yaml      run a job file: a source into tables, with typed columns, expressions, filters, unnest
  weir plan JOB.yaml     check a job against its source and target; print the DDL and the column mapping
  weir schema            print the JSON Schema of job files
  weir migrate [flags]   nested user documents → 15 tables (default: 20,000 generated users → ./weir.db)
  weir tune SOURCE TARGET [flags] | weir tune JOB.yaml
                         find the fastest --batch, --workers and --load-concurrency on a sample, in a scratch place
  weir bench [flags]     the reference tuning guide's performance report, measured with weir's engine
  weir worker --nats URL run partitions of 'weir copy --nats URL' jobs (docs/CLUSTER.md)
  weir status --nats URL [JOB]
                         a cluster job's partitions: pending, running, done, failed
  weir help [command]    this text, or a command's flags

Run 'weir COMMAND -h' for a command's flags.
`
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a problem with what the user asked for: exit code 2, one
// line, nothing written.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// commands are weir's subcommands, by name.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"copy":    copyCmd,
	"run":     runCmd,
	"plan":    planCmd,
	"schema":  schemaCmd,
	"migrate": migrate,
	"bench":   benchCmd,
	"tune":    tuneCmd,
	"worker":  workerCmd,
	"status":  statusCmd,
}

func run(args []string, stdout, stderr io.Writer) int {
	// A reader that goes away (weir tune … | head) must not kill the
	// command by SIGPIPE half way: the copy finishes, scratch places are
	// removed, and only the output is lost (writes fail with EPIPE).
	signal.Ignore(syscall.SIGPIPE)
	if len(args) == 0 {
		fmt.Fprint(stderr, usageHeader)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		if len(rest) == 0 || commands[rest[0]] == nil {
			fmt.Fprint(stdout, usageHeader)
			return exitOK
		}
		cmd, rest = rest[0], []string{"-h"}
	}
	c := commands[cmd]
	if c == nil {
		fmt.Fprintf(stderr, "weir: unknown command %q\n\n%s", cmd, usageHeader)
		return exitUsage
	}
	err := c(rest, stdout, stderr)
	// The last line of defence for secrets: whatever path an argument took
	// into the message (a driver's error, a message that forgot to redact
	// it), its passwords are masked here.
	for _, a := range rest {
		err = redact.Error(err, a)
	}
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, flagNames.Replace(oneLine(err)))
		return exitUsage
	default:
		fmt.Fprintln(stderr, oneLine(err))
		return exitFailed
	}
}

// flagNames puts the flags in place of the engine's config fields they set,
// in the engine's messages about a bad setting: "BatchSize must be …" is
// "--batch must be …" to someone who typed --batch.
var flagNames = strings.NewReplacer(
	"weir: Memory", "--memory", "Memory must", "--memory must", "Memory (", "--memory (",
	"BatchSize", "--batch", "LoadConcurrency", "--load-concurrency",
	"TransformConcurrency", "--transform-concurrency", "Workers", "--workers",
	"QueueDepth or ", "", ", QueueDepth", "")

// oneLine formats err as one line starting "weir: ": drivers' messages may
// span lines (one per connection attempt).
func oneLine(err error) string {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ; ")), " ")
	msg = strings.ReplaceAll(msg, " ; ", "; ")
	if !strings.HasPrefix(msg, "weir: ") {
		msg = "weir: " + msg
	}
	return msg
}

// errHelp is returned when -h was asked for: usage printed, exit 0.
var errHelp = errors.New("help requested")

// count writes n and the noun, plural unless n is 1: "1 table", "3 tables".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
