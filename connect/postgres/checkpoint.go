package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/weir-etl/weir"
)

var _ weir.CheckpointStore = (*CheckpointStore)(nil)

// CheckpointTable is the table a [CheckpointStore] keeps positions in,
// created in the first schema of the search_path:
//
//	CREATE TABLE IF NOT EXISTS weir_checkpoints (
//		job        text PRIMARY KEY,
//		position   bytea NOT NULL,
//		updated_at timestamptz NOT NULL
//	)
const CheckpointTable = "weir_checkpoints"

// CheckpointStore is a [weir.CheckpointStore] in PostgreSQL: one row per
// job in [CheckpointTable]. Keeping positions next to the data a job loads
// means one database to back up, and the positions are as durable as the
// rows they describe.
//
// Each Save is one upsert statement, so it is atomic: the row holds the
// old position or the new one. It is safe for concurrent use when its DB
// is (a *pgxpool.Pool is; a *pgx.Conn or pgx.Tx is not, and weir saves
// checkpoints from a goroutine of its own while the sink loads).
type CheckpointStore struct {
	db DB
}

// NewCheckpointStore returns a store keeping positions in db, creating
// [CheckpointTable] if it does not exist. It blocks for that statement.
// The caller keeps owning db.
func NewCheckpointStore(ctx context.Context, db DB) (*CheckpointStore, error) {
	if db == nil {
		return nil, errors.New("postgres: NewCheckpointStore: nil DB")
	}
	const ddl = `CREATE TABLE IF NOT EXISTS ` + CheckpointTable + ` (
		job        text PRIMARY KEY,
		position   bytea NOT NULL,
		updated_at timestamptz NOT NULL
	)`
	_, err := db.Exec(ctx, ddl)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07") {
		// Another session created the table at the same moment (IF NOT
		// EXISTS does not cover that race): it exists now.
		_, err = db.Exec(ctx, ddl)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: create %s: %w", CheckpointTable, detailed(err))
	}
	return &CheckpointStore{db: db}, nil
}

// Load returns job's position, or nil and no error if it has none. One
// query, blocking. Safe for concurrent use (see [CheckpointStore]).
func (c *CheckpointStore) Load(ctx context.Context, job string) ([]byte, error) {
	rows, err := c.db.Query(ctx, `SELECT position FROM `+CheckpointTable+` WHERE job = $1`, job)
	if err != nil {
		return nil, fmt.Errorf("postgres: load checkpoint of %q: %w", job, detailed(err))
	}
	pos, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("postgres: load checkpoint of %q: %w", job, detailed(err))
	}
	if len(pos) == 0 {
		return nil, nil
	}
	if pos[0] == nil {
		return []byte{}, nil // a row, even an empty one, is a position
	}
	return pos[0], nil
}

// Save records pos as job's position with one upsert (INSERT ... ON
// CONFLICT (job) DO UPDATE), atomically; updated_at is the server's clock.
// job and pos must not be empty. One statement, blocking. Safe for
// concurrent use (see [CheckpointStore]).
func (c *CheckpointStore) Save(ctx context.Context, job string, pos []byte) error {
	switch {
	case job == "":
		return errors.New("postgres: checkpoint Save: empty job name")
	case len(pos) == 0:
		return fmt.Errorf("postgres: checkpoint Save of %q: empty position", job)
	}
	return saveCheckpoint(ctx, c.db, job, pos)
}

// saveCheckpoint upserts job's position through db (a pool or, for
// exactly-once writes, the batch's own transaction).
func saveCheckpoint(ctx context.Context, db DB, job string, pos []byte) error {
	_, err := db.Exec(ctx, `INSERT INTO `+CheckpointTable+` (job, position, updated_at) VALUES ($1, $2, clock_timestamp())
		ON CONFLICT (job) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`, job, pos)
	if err != nil {
		return fmt.Errorf("postgres: save checkpoint of %q: %w", job, detailed(err))
	}
	return nil
}
