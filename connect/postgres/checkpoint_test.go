package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/postgres"
)

// TestCheckpointStore checks the table behind the store, and what it
// refuses; conntest_test.go checks that it keeps positions.
func TestCheckpointStore(t *testing.T) {
	ctx := t.Context()
	pool := newDB(t, `SELECT 1`)
	store, err := postgres.NewCheckpointStore(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, save := range []struct{ job, pos string }{{"orders", `{"key":"42"}`}, {"orders", `{"key":"a"}`}, {"users", `{"key":"7"}`}} {
		if err := store.Save(ctx, save.job, []byte(save.pos)); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM weir_checkpoints`); n != 2 {
		t.Errorf("%d rows for 2 jobs: Save must overwrite, not add", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM weir_checkpoints WHERE updated_at > now() - interval '1 hour'`); n != 2 {
		t.Errorf("%d rows with a recent updated_at, want 2", n)
	}
	if err := store.Save(ctx, "", []byte("x")); err == nil {
		t.Error("Save with an empty job succeeded")
	}
	if err := store.Save(ctx, "j", nil); err == nil {
		t.Error("Save with an empty position succeeded")
	}
	if _, err := postgres.NewCheckpointStore(ctx, nil); err == nil {
		t.Error("NewCheckpointStore(nil) succeeded")
	}
}

// keyType is a key column type, with keys ascending in n; conntest_test.go
// resumes a source over each one.
type keyType struct {
	typ, expr string // key type, key of row n
	wantPos   string // Position after rows 1..4
}

// keyTypes are key types whose text form a position must carry exactly,
// including bigints that a float64 cannot tell apart.
var keyTypes = []keyType{
	{"bigint", "9007199254740993 + n", `{"key":"9007199254740997"}`},
	{"integer", "-100 + n", `{"key":"-96"}`},
	{"text", `'k' || lpad(n::text, 3, '0') || ' ''q" <✓>'`, `{"key":"k004 'q\" <✓>"}`},
	{"timestamptz", `'2024-01-02 03:04:05+00'::timestamptz + n * interval '1 microsecond'`, `{"key":"2024-01-02 03:04:05.000004Z"}`},
	{"numeric", "1.00001 * n", `{"key":"4.00004"}`},
	{"uuid", `('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid`, `{"key":"00000000-0000-0000-0000-000000000004"}`},
	{"double precision", "0.1 * n", `{"key":"0.4"}`},
	{"bytea", `decode(lpad(to_hex(n), 4, '0'), 'hex')`, `{"key":"\\x0004"}`},
}

// newDB returns a database whose table t holds rows n = 1..10 keyed by
// the key type.
func (kt keyType) newDB(t *testing.T) *pgxpool.Pool {
	return newDB(t, fmt.Sprintf(`CREATE TABLE t (k %s PRIMARY KEY, n int NOT NULL);
		INSERT INTO t SELECT %s, n FROM generate_series(1, 10) AS n`, kt.typ, kt.expr))
}

// config reads n from t, in pages of 3.
func (kt keyType) config() postgres.SourceConfig[int] {
	return postgres.SourceConfig[int]{
		Table: "t", Key: "k", Columns: []string{"k", "n"}, PageSize: 3,
		Scan: func(row pgx.CollectableRow) (int, error) {
			var k any
			var n int
			return n, row.Scan(&k, &n)
		},
	}
}

// TestSourcePositionKeyTypes checks the position's text of a key of each
// type (conntest_test.go resumes from them).
func TestSourcePositionKeyTypes(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.typ, func(t *testing.T) {
			src, err := postgres.NewSource(kt.newDB(t), kt.config())
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]int, 4)
			if n, err := src.Read(t.Context(), buf); n != 4 || err != nil || !slices.Equal(buf, []int{1, 2, 3, 4}) {
				t.Fatalf("Read = %d %v %v", n, buf, err)
			}
			if pos, err := src.Position(); err != nil || string(pos) != kt.wantPos {
				t.Fatalf("Position = %s, %v; want %s", pos, err, kt.wantPos)
			}
		})
	}
}

func TestSourceSeek(t *testing.T) {
	pool := newDB(t, itemsDDL)
	open := func(after ...any) *postgres.Source[item] {
		src, err := postgres.NewSource(pool, postgres.SourceConfig[item]{
			Table: "items", Key: "id", PageSize: 100, After: after, Scan: pgx.RowToStructByName[item],
		})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	// Before any Read the position is After, written as text.
	if pos, err := open(int64(1234)).Position(); err != nil || string(pos) != `{"key":"1234"}` {
		t.Errorf("Position with After 1234 = %s, %v", pos, err)
	}
	if pos, err := open().Position(); err != nil || string(pos) != `{"key":null}` {
		t.Errorf("Position from the start = %s, %v", pos, err)
	}
	src := open(int64(5)) // Seek replaces After
	if err := src.Seek([]byte(`{"key":"2490"}`)); err != nil {
		t.Fatal(err)
	}
	if k := src.LastKey(); len(k) != 1 || k[0] != "2490" {
		t.Errorf("LastKey after Seek = %#v, want the text \"2490\"", k)
	}
	buf := make([]item, 20)
	n, err := src.Read(t.Context(), buf)
	if n != 10 || err != io.EOF || buf[0].ID != 2491 || buf[9].ID != 2500 {
		t.Fatalf("after Seek(2490): Read = %d, %v, first %d", n, err, buf[0].ID)
	}
	if k := src.LastKey(); len(k) != 1 || k[0] != int64(2500) {
		t.Errorf("LastKey after reading = %#v, want int64 2500", k)
	}
	start := open(int64(5))
	if err := start.Seek([]byte(`{"key":null}`)); err != nil {
		t.Fatal(err)
	}
	if n, _ := start.Read(t.Context(), buf); n != 20 || buf[0].ID != 1 {
		t.Errorf("after Seek(null): first id %d, want 1", buf[0].ID)
	}

	if err := start.Seek([]byte(`{"key":"1"}`)); err == nil {
		t.Error("Seek after Read succeeded")
	}
	twice := open()
	twice.Seek([]byte(`{"key":"1"}`))
	if err := twice.Seek([]byte(`{"key":"2"}`)); err == nil {
		t.Error("second Seek succeeded")
	}
	// A key that does not parse as the column's type fails the Read,
	// with the server's error.
	wrong := open()
	if err := wrong.Seek([]byte(`{"key":"abc"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Read(t.Context(), buf); err == nil || !strings.Contains(err.Error(), "bigint") {
		t.Errorf("Read after Seek to a non-number key = %v, want the server's bigint parse error", err)
	}
}

type bigRow struct {
	ID  int64  `db:"id"`
	Val string `db:"val"`
}

// recordingSink loads through a real sink and notes the ids of every batch
// it committed.
type recordingSink struct {
	inner weir.Sink[bigRow]
	mu    sync.Mutex
	got   map[int64]int
}

func (r *recordingSink) Write(ctx context.Context, batch []bigRow) error {
	if err := r.inner.Write(ctx, batch); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range batch {
		r.got[rec.ID]++
	}
	return nil
}

// TestSourceResumesFromCheckpointStore: a run whose sink fails part-way
// (a trigger raises inside the sink's transaction) leaves a checkpoint in
// the database; a second run with a fresh source loads exactly the rows
// after it. Keys are past 2^53, where a float64 would round them.
func TestSourceResumesFromCheckpointStore(t *testing.T) {
	const n, base = 2000, int64(1) << 60
	for _, cfg := range []weir.Config{{BatchSize: 64, Workers: 1}, {BatchSize: 50, Workers: 3, LoadConcurrency: 3}} {
		t.Run(fmt.Sprintf("workers=%d,loaders=%d", cfg.Workers, cfg.LoadConcurrency), func(t *testing.T) {
			ctx := t.Context()
			failID := base + 1200
			pool := newDB(t, fmt.Sprintf(`
				CREATE TABLE src (id bigint PRIMARY KEY, val text NOT NULL);
				INSERT INTO src SELECT %[1]d + i, 'v' || i FROM generate_series(1, %[2]d) AS i;
				CREATE TABLE dst (LIKE src INCLUDING ALL);
				CREATE TABLE fail_at (id bigint);
				INSERT INTO fail_at VALUES (%[3]d);
				CREATE FUNCTION dst_fail() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					IF NEW.id IN (SELECT id FROM fail_at) THEN
						RAISE EXCEPTION 'injected failure at %%', NEW.id;
					END IF;
					RETURN NEW;
				END $$;
				CREATE TRIGGER dst_fail BEFORE INSERT ON dst FOR EACH ROW EXECUTE FUNCTION dst_fail();`,
				base, n, failID))
			store, err := postgres.NewCheckpointStore(ctx, pool)
			if err != nil {
				t.Fatal(err)
			}
			run := func() (*recordingSink, *weir.Pipeline[bigRow, bigRow], error) {
				src, err := postgres.NewSource(pool, postgres.SourceConfig[bigRow]{
					Table: "src", Key: "id", PageSize: 70, Scan: pgx.RowToStructByName[bigRow],
				})
				if err != nil {
					t.Fatal(err)
				}
				// An upsert: batches finished after the checkpoint's
				// prefix load again on resume, harmlessly.
				inner, err := postgres.NewSink(pool, postgres.SinkConfig[bigRow]{
					Table:      connect.Table{Name: "dst", Columns: []string{"id", "val"}, Key: []string{"id"}},
					Values:     func(r bigRow, row []any) []any { return append(row, r.ID, r.Val) },
					OnConflict: connect.ConflictUpdate,
				})
				if err != nil {
					t.Fatal(err)
				}
				sink := &recordingSink{inner: inner, got: map[int64]int{}}
				p, err := weir.New(src, weir.Identity[bigRow](), weir.Sink[bigRow](sink), cfg, weir.WithCheckpoint(store, "copy-src"))
				if err != nil {
					t.Fatal(err)
				}
				return sink, p, p.Run(ctx)
			}

			first, _, err := run()
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("run 1 = %v, want the trigger's failure", err)
			}
			saved, err := store.Load(ctx, "copy-src")
			if err != nil {
				t.Fatal(err)
			}
			ck := base
			if saved != nil {
				var p struct{ Key string }
				if err := json.Unmarshal(saved, &p); err != nil {
					t.Fatalf("checkpoint %q: %v", saved, err)
				}
				if _, err := fmt.Sscan(p.Key, &ck); err != nil {
					t.Fatalf("checkpoint %q: %v", saved, err)
				}
			}
			if cfg.Workers == 1 && ck == base {
				t.Fatal("run 1 saved no checkpoint although batches before the failure loaded")
			}
			if ck >= failID {
				t.Fatalf("checkpoint at key %d, at or past the row that failed (%d)", ck, failID)
			}
			for id := base + 1; id <= ck; id++ {
				if first.got[id] != 1 {
					t.Fatalf("checkpoint at key %d, but row %d was loaded %d times in run 1", ck, id, first.got[id])
				}
			}
			if missing := count(t, pool, `SELECT count(*) FROM src WHERE id <= $1 AND id NOT IN (SELECT id FROM dst)`, ck); missing != 0 {
				t.Fatalf("%d rows at or before the checkpoint are not in dst", missing)
			}

			if _, err := pool.Exec(ctx, `DELETE FROM fail_at`); err != nil {
				t.Fatal(err)
			}
			second, p, err := run()
			if err != nil {
				t.Fatalf("run 2: %v", err)
			}
			if !bytes.Equal(p.Stats().ResumedFrom, saved) {
				t.Errorf("run 2 ResumedFrom = %q, want %q", p.Stats().ResumedFrom, saved)
			}
			for id := base + 1; id <= base+n; id++ {
				want := 0
				if id > ck {
					want = 1
				}
				if second.got[id] != want {
					t.Fatalf("checkpoint at key %d: run 2 loaded row %d %d times, want %d", ck, id, second.got[id], want)
				}
			}
			if got := count(t, pool, `SELECT count(*) FROM src JOIN dst USING (id, val)`); got != n {
				t.Fatalf("dst has %d matching rows after both runs, want %d", got, n)
			}
			if final, _ := store.Load(ctx, "copy-src"); string(final) != fmt.Sprintf(`{"key":"%d"}`, base+n) {
				t.Errorf("final checkpoint = %s, want the last key %d", final, base+n)
			}
		})
	}
}
