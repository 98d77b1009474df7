package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/weir-etl/weir"
)

var _ weir.CheckpointStore = (*CheckpointStore)(nil)

// CheckpointTable is the table a [CheckpointStore] keeps positions in:
//
//	CREATE TABLE IF NOT EXISTS weir_checkpoints (
//		job        TEXT PRIMARY KEY,
//		position   BLOB NOT NULL,
//		updated_at TEXT NOT NULL -- UTC, "2006-01-02 15:04:05.999999999+00:00"
//	)
const CheckpointTable = "weir_checkpoints"

// timeText is the form of updated_at: what SQLite's date functions read,
// and in UTC, so text order is time order.
const timeText = "2006-01-02 15:04:05.999999999+00:00"

// CheckpointStore is a [weir.CheckpointStore] in a SQLite database: one row
// per job in [CheckpointTable]. Keeping positions in the database a job
// loads into means one file to back up, and a position never outlives the
// data it describes when the database is restored from a copy.
//
// Each Save is a single upsert statement, so it is atomic: after a crash
// the row holds the old position or the new one. With [Open]'s
// synchronous=NORMAL, the last commits before a power failure (not a crash
// of the process) may be lost, taking the checkpoint back a little, which
// only means loading some records again.
//
// Safe for concurrent use. It never holds a transaction: on [Open]'s
// one-connection pool, a Save waits for a sink's transaction to finish,
// then runs.
type CheckpointStore struct {
	db *sql.DB
}

// NewCheckpointStore returns a store keeping positions in db, creating
// [CheckpointTable] if it does not exist. It blocks for that statement. The
// caller keeps owning db.
func NewCheckpointStore(ctx context.Context, db *sql.DB) (*CheckpointStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewCheckpointStore: nil *sql.DB")
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+CheckpointTable+` (
		job        TEXT PRIMARY KEY,
		position   BLOB NOT NULL,
		updated_at TEXT NOT NULL
	)`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", CheckpointTable, err)
	}
	return &CheckpointStore{db: db}, nil
}

// Load returns job's position, or nil and no error if it has none. One
// query, blocking. Safe for concurrent use.
func (c *CheckpointStore) Load(ctx context.Context, job string) ([]byte, error) {
	var pos []byte
	err := c.db.QueryRowContext(ctx, `SELECT position FROM `+CheckpointTable+` WHERE job = ?`, job).Scan(&pos)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("sqlite: load checkpoint of %q: %w", job, err)
	case pos == nil:
		pos = []byte{} // a row, even an empty one, is a position
	}
	return pos, nil
}

// Save records pos as job's position with one upsert (INSERT ... ON
// CONFLICT (job) DO UPDATE), atomically. job and pos must not be empty. One
// statement, blocking; on a one-connection pool it waits for the
// connection. Safe for concurrent use.
func (c *CheckpointStore) Save(ctx context.Context, job string, pos []byte) error {
	switch {
	case job == "":
		return errors.New("sqlite: checkpoint Save: empty job name")
	case len(pos) == 0:
		return fmt.Errorf("sqlite: checkpoint Save of %q: empty position", job)
	}
	_, err := c.db.ExecContext(ctx, `INSERT INTO `+CheckpointTable+` (job, position, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
		job, pos, time.Now().UTC().Format(timeText))
	if err != nil {
		return fmt.Errorf("sqlite: save checkpoint of %q: %w", job, err)
	}
	return nil
}
