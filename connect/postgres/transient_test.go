package postgres_test

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

// flaky fails one write in ten with a retryable error before it reaches
// the database, as a dropped connection would.
type flaky struct {
	weir.Sink[reading]
	calls, failed atomic.Int64
}

func (f *flaky) Write(ctx context.Context, b []reading) error {
	if f.calls.Add(1)%10 == 0 {
		f.failed.Add(1)
		return weir.Transient(errors.New("connection reset by peer"))
	}
	return f.Sink.Write(ctx, b)
}

// TestTransientFailuresAreRetriedExactlyOnce: with 10% of writes failing
// transiently, every record is loaded exactly once (the primary key would
// refuse a second copy) and the retries are counted.
func TestTransientFailuresAreRetriedExactlyOnce(t *testing.T) {
	pool := newDB(t, `CREATE TABLE readings (id bigint PRIMARY KEY, value bigint NOT NULL)`)
	const n = 200_000
	next := int64(0)
	src := weir.SourceFunc[reading](func(_ context.Context, buf []reading) (int, error) {
		k := 0
		for k < len(buf) && next < n {
			buf[k] = reading{ID: next, Value: next}
			next++
			k++
		}
		if next >= n {
			return k, io.EOF
		}
		return k, nil
	})
	copySink, err := postgres.NewSink(pool, postgres.SinkConfig[reading]{
		Table:  connect.Table{Name: "readings", Columns: []string{"id", "value"}},
		Values: func(r reading, row []any) []any { return append(row, r.ID, r.Value) },
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := &flaky{Sink: copySink}
	p, err := weir.New(weir.Source[reading](src), weir.Identity[reading](), weir.Sink[reading](sink), weir.Config{
		BatchSize: 1000, Workers: 2, LoadConcurrency: 2,
		Retry: weir.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := count(t, pool, `SELECT count(*) FROM readings`); c != n {
		t.Fatalf("table holds %d rows, want %d", c, n)
	}
	if c := count(t, pool, `SELECT count(DISTINCT id) FROM readings`); c != n {
		t.Fatalf("%d distinct ids, want %d", c, n)
	}
	if st := p.Stats(); st.Load.Retries != sink.failed.Load() || st.Load.Retries == 0 {
		t.Errorf("Stats.Load.Retries = %d, the sink failed %d times", st.Load.Retries, sink.failed.Load())
	}
}
