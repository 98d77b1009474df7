package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/sqlite"
)

// TestCheckpointStore checks the table behind the store, and what it
// refuses; conntest_test.go checks that it keeps positions.
func TestCheckpointStore(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, "")
	store, err := sqlite.NewCheckpointStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, save := range []struct{ job, pos string }{{"orders", `{"key":[42]}`}, {"orders", `{"key":["a"]}`}, {"users", `{"key":[7]}`}} {
		if err := store.Save(ctx, save.job, []byte(save.pos)); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, db, "SELECT count(*) FROM weir_checkpoints"); n != 2 {
		t.Errorf("%d rows for 2 jobs: Save must overwrite, not add", n)
	}
	var updated string
	if err := db.QueryRow("SELECT updated_at FROM weir_checkpoints WHERE job = 'users'").Scan(&updated); err != nil {
		t.Fatal(err)
	}
	if at, err := time.Parse("2006-01-02 15:04:05.999999999+00:00", updated); err != nil || time.Since(at) > time.Hour || time.Since(at) < -time.Hour {
		t.Errorf("updated_at = %q (%v), want the time of the Save in UTC", updated, err)
	}
	if err := store.Save(ctx, "", []byte("x")); err == nil {
		t.Error("Save with an empty job succeeded")
	}
	if err := store.Save(ctx, "j", nil); err == nil {
		t.Error("Save with an empty position succeeded")
	}
	if _, err := sqlite.NewCheckpointStore(ctx, nil); err == nil {
		t.Error("NewCheckpointStore(nil) succeeded")
	}
}

func TestSourcePositionRoundTrip(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("", 3600))
	cases := []struct {
		key  []any
		want string
		back []any // what Seek gives back, when not key itself
	}{
		{[]any{int64(9007199254740993)}, `{"key":[9007199254740993]}`, nil},
		{[]any{int32(-5), uint8(7)}, `{"key":[-5,7]}`, []any{int64(-5), int64(7)}},
		{[]any{3.0, 1.5, 1e300}, `{"key":[3.0,1.5,1e+300]}`, nil},
		{[]any{"a<b>\"c\" ✓"}, `{"key":["a<b>\"c\" ✓"]}`, nil},
		{[]any{[]byte{0, 1, 255}}, `{"key":[{"$blob":"AAH/"}]}`, nil},
		{[]any{at}, `{"key":[{"$time":"2024-01-02T03:04:05.123456789+01:00"}]}`, nil},
		{[]any{true, sql.NullInt64{Int64: 4, Valid: true}}, `{"key":[true,4]}`, []any{true, int64(4)}},
		{nil, `{"key":null}`, nil},
	}
	for _, tc := range cases {
		db := seedKV(t, 1)
		table := connect.Table{Name: "kv", Key: []string{"id"}}
		for i := 1; i < len(tc.key); i++ {
			table.Key = append(table.Key, fmt.Sprintf("k%d", i))
		}
		src, err := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: table, Scan: scanKV, Key: kvKey, After: tc.key})
		if err != nil {
			t.Fatal(err)
		}
		pos, err := src.Position()
		if err != nil || string(pos) != tc.want {
			t.Errorf("Position with key %#v = %s, %v; want %s", tc.key, pos, err, tc.want)
			continue
		}
		fresh, _ := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: table, Scan: scanKV, Key: kvKey})
		if err := fresh.Seek(pos); err != nil {
			t.Errorf("Seek(%s): %v", pos, err)
			continue
		}
		want := tc.back
		if want == nil {
			want = tc.key
		}
		got := fresh.LastKey()
		if len(want) == 1 {
			if w, ok := want[0].(time.Time); ok {
				if g, ok := got[0].(time.Time); !ok || !g.Equal(w) {
					t.Errorf("Seek(%s) set After to %#v, want %v", pos, got, w)
				}
				continue
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Seek(%s) set After to %#v, want %#v", pos, got, want)
		}
	}

	for _, key := range [][]any{{"\xff"}, {nanFloat()}} {
		db := seedKV(t, 1)
		src, err := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey, After: key})
		if err != nil {
			t.Fatal(err)
		}
		if pos, err := src.Position(); err == nil {
			t.Errorf("Position with key %#v = %s, want an error: it cannot be written exactly", key, pos)
		}
	}
}

func nanFloat() float64 {
	zero := 0.0
	return zero / zero
}

// TestSourceSeek checks when Seek is refused; conntest_test.go seeks to
// the positions a source gives, and to malformed ones.
func TestSourceSeek(t *testing.T) {
	db := seedKV(t, 100)
	open := func() *sqlite.Source[kv] {
		src, err := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	late := open()
	late.Read(t.Context(), make([]kv, 1))
	if err := late.Seek([]byte(`{"key":[150]}`)); err == nil {
		t.Error("Seek after Read succeeded")
	}
	twice := open()
	twice.Seek([]byte(`{"key":[3]}`))
	if err := twice.Seek([]byte(`{"key":[6]}`)); err == nil {
		t.Error("second Seek succeeded")
	}
}

// recordingSink loads through a real sink and notes the ids of every batch
// it committed.
type recordingSink struct {
	inner *sqlite.Sink[kv]
	mu    sync.Mutex
	got   map[int64]int
}

func (r *recordingSink) Write(ctx context.Context, batch []kv) error {
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

func (r *recordingSink) Close(ctx context.Context) error { return r.inner.Close(ctx) }

// TestSourceResumesFromCheckpointStore: a run whose sink fails part-way
// saves a checkpoint in the database; a second run with a fresh source
// reads exactly the rows after it.
func TestSourceResumesFromCheckpointStore(t *testing.T) {
	for _, cfg := range []weir.Config{{BatchSize: 64, Workers: 1}, {BatchSize: 50, Workers: 2, LoadConcurrency: 2}} {
		t.Run(fmt.Sprintf("workers=%d,loaders=%d", cfg.Workers, cfg.LoadConcurrency), func(t *testing.T) {
			ctx := t.Context()
			const n = 2000 // ids 3, 6, ..., 6000
			db := seedKV(t, n)
			// The copy refuses id 3000 while fail_at says so: a real
			// failure inside the sink's transaction.
			if err := sqlite.Exec(ctx, db, `
				CREATE TABLE kv_copy (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
				CREATE TABLE fail_at (id INTEGER);
				INSERT INTO fail_at VALUES (3000);
				CREATE TRIGGER kv_copy_fail BEFORE INSERT ON kv_copy WHEN NEW.id IN (SELECT id FROM fail_at)
				BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`); err != nil {
				t.Fatal(err)
			}
			store, err := sqlite.NewCheckpointStore(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			run := func() (*recordingSink, *weir.Pipeline[kv, kv], error) {
				src, err := sqlite.NewSource(db, sqlite.SourceConfig[kv]{Table: kvTable, Scan: scanKV, Key: kvKey})
				if err != nil {
					t.Fatal(err)
				}
				inner, err := sqlite.NewSink(db, sqlite.SinkConfig[kv]{
					Table:      connect.Table{Name: "kv_copy", Columns: []string{"id", "v"}},
					Values:     func(r kv, row []any) []any { return append(row, r.ID, r.V) },
					OnConflict: connect.ConflictIgnore, // batches past the checkpoint may load twice
				})
				if err != nil {
					t.Fatal(err)
				}
				sink := &recordingSink{inner: inner, got: map[int64]int{}}
				p, err := weir.New(src, weir.Identity[kv](), weir.Sink[kv](sink), cfg, weir.WithCheckpoint(store, "copy-kv"))
				if err != nil {
					t.Fatal(err)
				}
				return sink, p, p.Run(ctx)
			}

			first, _, err := run()
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("run 1 = %v, want the trigger's failure", err)
			}
			saved, err := store.Load(ctx, "copy-kv")
			if err != nil {
				t.Fatal(err)
			}
			var ck int64
			if saved != nil {
				var p struct{ Key []int64 }
				if err := json.Unmarshal(saved, &p); err != nil || len(p.Key) != 1 {
					t.Fatalf("checkpoint %q: %v", saved, err)
				}
				ck = p.Key[0]
			}
			if cfg.Workers == 1 && ck == 0 {
				t.Fatal("run 1 saved no checkpoint although batches before the failure loaded")
			}
			if ck >= 3000 {
				t.Fatalf("checkpoint at key %d, at or past the row that failed (3000)", ck)
			}
			for id := int64(3); id <= ck; id += 3 {
				if first.got[id] != 1 {
					t.Fatalf("checkpoint at key %d, but row %d was loaded %d times in run 1", ck, id, first.got[id])
				}
			}
			if missing := queryInt(t, db, "SELECT count(*) FROM kv WHERE id <= ? AND id NOT IN (SELECT id FROM kv_copy)", ck); missing != 0 {
				t.Fatalf("%d rows at or before the checkpoint are not in the copy", missing)
			}

			if _, err := db.ExecContext(ctx, "DELETE FROM fail_at"); err != nil {
				t.Fatal(err)
			}
			second, p, err := run()
			if err != nil {
				t.Fatalf("run 2: %v", err)
			}
			if !bytes.Equal(p.Stats().ResumedFrom, saved) {
				t.Errorf("run 2 ResumedFrom = %q, want %q", p.Stats().ResumedFrom, saved)
			}
			for id := int64(3); id <= 3*n; id += 3 {
				want := 0
				if id > ck {
					want = 1
				}
				if second.got[id] != want {
					t.Fatalf("checkpoint at key %d: run 2 loaded row %d %d times, want %d", ck, id, second.got[id], want)
				}
			}
			if got := queryInt(t, db, "SELECT count(*) FROM kv JOIN kv_copy USING (id) WHERE kv.v = kv_copy.v"); got != n {
				t.Fatalf("the copy has %d matching rows after both runs, want %d", got, n)
			}
			if final, _ := store.Load(ctx, "copy-kv"); string(final) != fmt.Sprintf(`{"key":[%d]}`, 3*n) {
				t.Errorf("final checkpoint = %s, want the last key %d", final, 3*n)
			}
		})
	}
}
