package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

func ExampleRetryable() {
	deadlock := fmt.Errorf("copy users: %w", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"})
	duplicate := fmt.Errorf("copy users: %w", &pgconn.PgError{Code: "23505", Message: "duplicate key"})
	fmt.Println(postgres.Retryable(deadlock))
	fmt.Println(postgres.Retryable(duplicate))
	fmt.Println(postgres.Retryable(context.Canceled))
	// Output:
	// true
	// false
	// false
}

type user struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// The examples below need a live server, so they are compiled but not run.

// A job copying one table into another: keyset-paginated reads, COPY
// loads on four connections.
func ExampleNewSink() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	src, err := postgres.NewSource(pool, postgres.SourceConfig[user]{
		Table: "users", Key: "id", Columns: []string{"id", "name"},
		Scan: pgx.RowToStructByName[user],
	})
	if err != nil {
		log.Fatal(err)
	}
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[user]{
		Table:  connect.Table{Name: "users_copy", Columns: []string{"id", "name"}},
		Values: func(u user, row []any) []any { return append(row, u.ID, u.Name) },
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := weir.New(src, weir.Identity[user](), sink, weir.Config{BatchSize: 1000, LoadConcurrency: 4})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sink.Rows(), "rows copied; resume after id", src.LastKey())
}

// Loading records so that a second run replaces rows instead of
// duplicating them.
func ExampleNewSink_upsert() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Exec(ctx, pool, `CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, name text NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[user]{
		Table:      connect.Table{Name: "users", Columns: []string{"id", "name"}, Key: []string{"id"}},
		Values:     func(u user, row []any) []any { return append(row, u.ID, u.Name) },
		OnConflict: connect.ConflictUpdate,
	})
	if err != nil {
		log.Fatal(err)
	}
	users := []user{{1, "ada"}, {2, "grace"}}
	for range 2 { // the second write updates the same two rows
		if err := sink.Write(ctx, users); err != nil {
			log.Fatal(err)
		}
	}
}

type invoice struct {
	ID    int64
	Items []string
}

// invoiceSplitter writes an invoice and its items, parents first.
type invoiceSplitter struct{}

func (invoiceSplitter) Tables() []connect.Table {
	return []connect.Table{
		{Name: "invoices", Columns: []string{"id"}, Key: []string{"id"}},
		{Name: "invoice_items", Columns: []string{"invoice_id", "pos", "item"}, Key: []string{"invoice_id", "pos"}},
	}
}

func (invoiceSplitter) Split(inv invoice, w connect.RowWriter) error {
	w.Row(0, connect.Int64(inv.ID))
	for i, it := range inv.Items {
		w.Row(1, connect.Int64(inv.ID), connect.Int32(int32(i)), connect.Text(it))
	}
	return nil
}

// Loading composite records into a parent and a child table, one
// transaction per batch.
func ExampleNewMultiSink() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	sink, err := postgres.NewMultiSink(pool, postgres.MultiSinkConfig[invoice]{Splitter: invoiceSplitter{}, OnConflict: connect.ConflictIgnore})
	if err != nil {
		log.Fatal(err)
	}
	invoices := []invoice{{1, []string{"tea", "cake"}}, {2, nil}}
	p, err := weir.New(weir.FromSlice(invoices), weir.Identity[invoice](), sink, weir.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			log.Fatalf("server rejected a row: %s (%s)", pgErr.Message, pgErr.Code)
		}
		log.Fatal(err)
	}
	fmt.Println(sink.Rows())
}

// A resumable, retrying copy: the position of the last key whose rows are
// all loaded is kept in weir_checkpoints, so running the job again after a
// failure continues from there; transient server errors (a lost
// connection, a serialization failure) are retried.
func ExampleNewCheckpointStore() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := postgres.NewCheckpointStore(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	src, err := postgres.NewSource(pool, postgres.SourceConfig[user]{
		Table: "users", Key: "id", Columns: []string{"id", "name"},
		Scan: pgx.RowToStructByName[user],
	})
	if err != nil {
		log.Fatal(err)
	}
	// An upsert: the batches after the checkpoint may load again on resume.
	sink, err := postgres.NewSink(pool, postgres.SinkConfig[user]{
		Table:      connect.Table{Name: "users_copy", Columns: []string{"id", "name"}, Key: []string{"id"}},
		Values:     func(u user, row []any) []any { return append(row, u.ID, u.Name) },
		OnConflict: connect.ConflictUpdate,
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := weir.New(src, weir.Identity[user](), sink, weir.Config{
		LoadConcurrency: 4,
		Retry:           weir.RetryPolicy{MaxAttempts: 5},
	}, weir.WithCheckpoint(store, "copy-users"), weir.WithRetryable(postgres.Retryable))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		log.Fatal(err) // run it again: it resumes
	}
	pos, _ := store.Load(ctx, "copy-users")
	fmt.Printf("done up to %s\n", pos) // done up to {"key":"..."}
}
