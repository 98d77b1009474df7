package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

func TestRetryableClassification(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Code: code} }
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"serialization failure", pg("40001"), true},
		{"deadlock", pg("40P01"), true},
		{"connection failure", pg("08006"), true},
		{"admin shutdown", pg("57P01"), true},
		{"cannot connect now", pg("57P03"), true},
		{"too many connections", pg("53300"), true},
		{"unique violation", pg("23505"), false},
		{"foreign key violation", pg("23503"), false},
		{"not null violation", pg("23502"), false},
		{"check violation", pg("23514"), false},
		{"division by zero", pg("22012"), false},
		{"undefined table", pg("42P01"), false},
		{"statement timeout", pg("57014"), false},
		{"wrapped deadlock", fmt.Errorf("copy users: %w", fmt.Errorf("batch 3: %w", pg("40P01"))), true},
		{"wrapped unique violation", fmt.Errorf("upsert users: %w", pg("23505")), false},
		{"unexpected EOF", fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), true},
		{"connection reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"connection refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"connect error", &pgconn.ConnectError{}, true},
		{"connect error: bad password", fmt.Errorf("connect: %w", pg("28P01")), false},
		{"cancelled", context.Canceled, false},
		{"deadline", fmt.Errorf("copy: %w", context.DeadlineExceeded), false},
		{"plain error", errors.New("something else"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := postgres.Retryable(tc.err); got != tc.want {
				t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestRetryableServerErrors classifies errors as a live server sends them.
func TestRetryableServerErrors(t *testing.T) {
	pool := newDB(t, `CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1)`)
	raise := func(code string) string {
		return fmt.Sprintf(`DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '%s'; END $$`, code)
	}
	cases := []struct {
		name string
		sql  string
		want bool
	}{
		{"serialization failure", raise("40001"), true},
		{"deadlock", raise("40P01"), true},
		{"unique violation", `INSERT INTO u VALUES (1)`, false},
		{"not null violation", `INSERT INTO u VALUES (NULL)`, false},
		{"syntax error", `SELEKT 1`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pool.Exec(t.Context(), tc.sql)
			if err == nil {
				t.Fatal("no error")
			}
			if got := postgres.Retryable(err); got != tc.want {
				t.Errorf("Retryable(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}

	t.Run("connection terminated by the server", func(t *testing.T) {
		conn, err := pgx.ConnectConfig(t.Context(), pool.Config().ConnConfig)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		pid := conn.PgConn().PID()
		if _, err := pool.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		var errs []error
		for range 2 { // the termination notice, then a closed connection
			_, err := conn.Exec(t.Context(), `SELECT 1`)
			if err == nil {
				t.Fatal("a terminated connection still works")
			}
			errs = append(errs, err)
		}
		for _, err := range errs {
			if !postgres.Retryable(err) {
				t.Errorf("Retryable(%v) = false, want true", err)
			}
		}
	})

	t.Run("cancelled by the caller", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := pool.Exec(ctx, `SELECT 1`)
		if err == nil || postgres.Retryable(err) {
			t.Errorf("Retryable(%v) = true after the caller cancelled, want false", err)
		}
	})
}

// TestRetryableInPipeline passes Retryable to a pipeline as its retry
// classifier. The sink's first Write meets a real server error: a
// serialization failure is retried and the run loads everything; a unique
// violation is not retried; and without WithRetryable the engine's default
// classifier does not know PostgreSQL's codes and gives up at once.
func TestRetryableInPipeline(t *testing.T) {
	cases := []struct {
		name      string
		inject    string // SQL whose error the first Write returns
		classify  bool   // WithRetryable(postgres.Retryable)
		wantErr   bool
		wantRetry int64
	}{
		{"serialization failure retried", `DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END $$`, true, false, 1},
		{"unique violation not retried", `INSERT INTO kv VALUES (0, 'x'), (0, 'y')`, true, true, 0},
		{"default classifier does not retry", `DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END $$`, false, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, val text)`)
			copySink, err := postgres.NewSink(pool, postgres.SinkConfig[kv]{
				Table:  connect.Table{Name: "kv", Columns: []string{"id", "val"}},
				Values: kvValues,
			})
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			sink := weir.SinkFunc[kv](func(ctx context.Context, batch []kv) error {
				var injected error
				once.Do(func() {
					_, injected = pool.Exec(ctx, tc.inject)
					if injected == nil {
						injected = errors.New("the injected statement did not fail")
					}
				})
				if injected != nil {
					return fmt.Errorf("load kv: %w", injected)
				}
				return copySink.Write(ctx, batch)
			})
			var opts []weir.Option
			if tc.classify {
				opts = append(opts, weir.WithRetryable(postgres.Retryable))
			}
			p, err := weir.New(weir.FromSlice(kvRange(1, 300, "v")), weir.Identity[kv](), weir.Sink[kv](sink), weir.Config{
				BatchSize: 100, Workers: 1,
				Retry: weir.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond},
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Run(t.Context())
			if (err != nil) != tc.wantErr {
				t.Fatalf("Run = %v, want error: %v", err, tc.wantErr)
			}
			var pgErr *pgconn.PgError
			if tc.wantErr && !errors.As(err, &pgErr) {
				t.Errorf("Run = %v, want the server's *pgconn.PgError in the chain", err)
			}
			if got := p.Stats().Load.Retries; got != tc.wantRetry {
				t.Errorf("Load.Retries = %d, want %d", got, tc.wantRetry)
			}
			if want := map[bool]int64{false: 300, true: 0}[tc.wantErr]; count(t, pool, `SELECT count(*) FROM kv`) != want {
				t.Errorf("kv has %d rows, want %d", count(t, pool, `SELECT count(*) FROM kv`), want)
			}
		})
	}
}
