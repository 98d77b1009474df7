package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/conntest"
	"github.com/weir-etl/weir/connect/postgres"
)

// TestConfigValidate checks every config's Validate without a database:
// each bad field is named, a good config passes.
func TestConfigValidate(t *testing.T) {
	good := connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: []string{"id"}}
	keyless := connect.Table{Name: "kv", Columns: []string{"id", "val"}}
	scan := pgx.RowToStructByName[item]
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "sink: good", Config: postgres.SinkConfig[kv]{Table: good, Values: kvValues}},
		{Name: "sink: ConflictIgnore without Key", Config: postgres.SinkConfig[kv]{Table: keyless, Values: kvValues, OnConflict: connect.ConflictIgnore}},
		{Name: "sink: zero", Config: postgres.SinkConfig[kv]{}, Want: []string{
			"postgres: SinkConfig.Table.Name is empty", "postgres: SinkConfig.Table.Columns is empty", "postgres: SinkConfig.Values is nil"}},
		{Name: "sink: ConflictUpdate without Key", Config: postgres.SinkConfig[kv]{Table: keyless, Values: kvValues, OnConflict: connect.ConflictUpdate}, Want: []string{
			"postgres: SinkConfig.Table.Key is empty: OnConflict ConflictUpdate needs"}},
		{Name: "sink: unknown conflict", Config: postgres.SinkConfig[kv]{Table: good, Values: kvValues, OnConflict: 3}, Want: []string{
			"postgres: SinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(3)"}},
		{Name: "sink: bad table", Config: postgres.SinkConfig[kv]{Values: kvValues, Table: connect.Table{Name: "a.", Columns: []string{"x", "x"}, Key: []string{"y", "y"}}}, Want: []string{
			`SinkConfig.Table.Name "a." has an empty part`, `SinkConfig.Table.Columns lists "x" twice`, `SinkConfig.Table.Key column "y" is not in Columns`}},
		{Name: "sink: negative InDoubtTimeout", Config: postgres.SinkConfig[kv]{Table: good, Values: kvValues, InDoubtTimeout: -time.Second}, Want: []string{
			"postgres: SinkConfig.InDoubtTimeout must be >= 0 (0 means 1m0s), got -1s"}},

		{Name: "multi: good", Config: postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}, OnConflict: connect.ConflictUpdate}},
		{Name: "multi: ConflictIgnore without keys", Config: postgres.MultiSinkConfig[order]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictIgnore}},
		{Name: "multi: nil Splitter", Config: postgres.MultiSinkConfig[order]{OnConflict: 9}, Want: []string{
			"postgres: MultiSinkConfig.Splitter is nil", "postgres: MultiSinkConfig.OnConflict must be ConflictError, ConflictIgnore or ConflictUpdate, got Conflict(9)"}},
		{Name: "multi: bad tables", Config: postgres.MultiSinkConfig[order]{Splitter: badSplitter{}}, Want: []string{
			"postgres: MultiSinkConfig.Splitter.Tables()[1].Columns is empty",
			`postgres: MultiSinkConfig.Splitter.Tables() lists "a" twice (at 0 and 2)`}},
		{Name: "multi: negative InDoubtTimeout", Config: postgres.MultiSinkConfig[order]{Splitter: orderSplitter{}, InDoubtTimeout: -1}, Want: []string{
			"postgres: MultiSinkConfig.InDoubtTimeout must be >= 0 (0 means 1m0s), got -1ns"}},
		{Name: "multi: ConflictUpdate without a key", Config: postgres.MultiSinkConfig[order]{Splitter: keylessSplitter{}, OnConflict: connect.ConflictUpdate}, Want: []string{
			"postgres: MultiSinkConfig.Splitter.Tables()[1].Key is empty"}},

		{Name: "source: good", Config: postgres.SourceConfig[item]{Table: "items", Key: "id", After: []any{int64(3)}, Scan: scan}},
		{Name: "source: zero", Config: postgres.SourceConfig[item]{}, Want: []string{
			"postgres: SourceConfig: set Table or Query", "postgres: SourceConfig.Key is empty", "postgres: SourceConfig.Scan is nil"}},
		{Name: "source: After of two values", Config: postgres.SourceConfig[item]{Table: "items", Key: "id", After: []any{1, 2}, Scan: scan}, Want: []string{
			"postgres: SourceConfig.After has 2 values for a key of one column"}},
		{Name: "source: bad sizes and columns", Config: postgres.SourceConfig[item]{Table: "items", Key: "id", Columns: []string{"v", ""}, PageSize: postgres.MaxPageSize + 1, Scan: scan}, Want: []string{
			`postgres: SourceConfig.Columns must include Key "id"`, "postgres: SourceConfig.Columns[1] is empty", "postgres: SourceConfig.PageSize must be between 1 and"}},
	})
}

// callsDB records which of its methods the sink calls directly on the
// pool, to tell the COPY path from the staged one.
type callsDB struct {
	postgres.DB
	mu     sync.Mutex
	begins int
	copies []string // tables COPYed into outside a transaction
}

func (c *callsDB) Begin(ctx context.Context) (pgx.Tx, error) {
	c.mu.Lock()
	c.begins++
	c.mu.Unlock()
	return c.DB.Begin(ctx)
}

func (c *callsDB) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	c.mu.Lock()
	c.copies = append(c.copies, table.Sanitize())
	c.mu.Unlock()
	return c.DB.CopyFrom(ctx, table, cols, src)
}

// TestSinkPaths checks that OnConflict picks the load path: ConflictError
// COPYs straight into the table and a duplicate key fails the batch;
// ConflictIgnore and ConflictUpdate go through a staging table and take
// duplicates. Every path runs in one transaction of its own (its id is
// what settles a lost COMMIT answer), so nothing is COPYed outside one.
func TestSinkPaths(t *testing.T) {
	pool := newDB(t, `CREATE TABLE kv (id bigint PRIMARY KEY, val text NOT NULL UNIQUE)`)
	for _, tc := range []struct {
		on      connect.Conflict
		key     []string
		staged  bool
		wantVal string // of id 1 after loading v1 then v2
	}{
		{connect.ConflictError, []string{"id"}, false, "v1-1"},
		{connect.ConflictIgnore, []string{"id"}, true, "v1-1"},
		{connect.ConflictIgnore, nil, true, "v1-1"}, // any unique constraint
		{connect.ConflictUpdate, []string{"id"}, true, "v2-1"},
	} {
		t.Run(tc.on.String()+"/key="+strings.Join(tc.key, ","), func(t *testing.T) {
			if _, err := pool.Exec(t.Context(), `TRUNCATE kv`); err != nil {
				t.Fatal(err)
			}
			db := &callsDB{DB: pool}
			sink, err := postgres.NewSink(db, postgres.SinkConfig[kv]{
				Table:      connect.Table{Name: "kv", Columns: []string{"id", "val"}, Key: tc.key},
				Values:     kvValues,
				OnConflict: tc.on,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := sink.Write(t.Context(), kvRange(1, 10, "v1")); err != nil {
				t.Fatal(err)
			}
			if db.begins != 1 || len(db.copies) != 0 {
				t.Errorf("%d transactions, COPY into %v outside one; want 1 and none", db.begins, db.copies)
			}
			err = sink.Write(t.Context(), kvRange(1, 20, "v2"))
			if tc.on == connect.ConflictError {
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) || pgErr.Code != "23505" || !strings.Contains(err.Error(), "copy kv") {
					t.Fatalf("second Write = %v, want a unique violation from copy kv", err)
				}
				if n := count(t, pool, `SELECT count(*) FROM kv`); n != 10 || sink.Rows() != 10 {
					t.Errorf("count %d, Rows() %d; want 10 and 10: the failed batch loaded rows", n, sink.Rows())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var val string
			if err := pool.QueryRow(t.Context(), `SELECT val FROM kv WHERE id = 1`).Scan(&val); err != nil || val != tc.wantVal {
				t.Errorf("val of id 1 = %q, %v; want %q", val, err, tc.wantVal)
			}
		})
	}
}
