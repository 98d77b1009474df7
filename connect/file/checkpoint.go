package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/weir-etl/weir"
)

var _ weir.CheckpointStore = (*CheckpointStore)(nil)

// checkpointVersion is the format version written in a checkpoint file.
const checkpointVersion = 1

// CheckpointStore is a [weir.CheckpointStore] that keeps every job's
// position in one JSON file, readable by people:
//
//	{
//	  "version": 1,
//	  "jobs": {
//	    "orders": {
//	      "position": {
//	        "line": 1234
//	      },
//	      "updated_at": "2025-01-02T03:04:05.123456789Z"
//	    }
//	  }
//	}
//
// A position that is compact JSON (as every source of weir's connectors
// writes) is stored as is, under "position"; any other bytes are stored in
// base64 under "position_base64". Load returns exactly the bytes saved.
//
// Each Save rewrites the whole file atomically: it writes a temporary file
// in the same directory, syncs it, renames it over the file and syncs the
// directory, so after a crash the file holds the old positions or the new
// ones, never a torn mix. A temporary file a crash left behind is ignored by
// Load and removed by the next [NewCheckpointStore].
//
// A CheckpointStore is safe for concurrent use, and so are several
// CheckpointStores on the same path in one process: they share a lock. Two
// processes must not share a file (each would overwrite the other's jobs
// with what it read before).
type CheckpointStore struct {
	path string
	mu   *sync.Mutex // shared by every CheckpointStore on path
}

// pathLocks holds one mutex per absolute checkpoint path.
var pathLocks sync.Map // string → *sync.Mutex

// NewCheckpointStore returns a store keeping its positions in the file at
// path. The file need not exist (the first Save creates it), but its
// directory must. An existing file is read and checked, so a file that is
// not a checkpoint file fails here rather than at the first Load. Leftover
// temporary files of an earlier crash are removed. It blocks on that I/O.
func NewCheckpointStore(path string) (*CheckpointStore, error) {
	if path == "" {
		return nil, errors.New("file: NewCheckpointStore: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("file: checkpoint file %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("file: checkpoint file %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("file: checkpoint file %s: %s is not a directory", path, dir)
	}
	mu, _ := pathLocks.LoadOrStore(abs, new(sync.Mutex))
	c := &CheckpointStore{path: abs, mu: mu.(*sync.Mutex)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.read(); err != nil {
		return nil, err
	}
	if err := c.removeTemps(); err != nil {
		return nil, err
	}
	return c, nil
}

// Path returns the file's absolute path.
func (c *CheckpointStore) Path() string { return c.path }

// Load returns job's position, or nil and no error if the file has none
// (or does not exist yet). It reads the file, blocking on that I/O. Safe for
// concurrent use.
func (c *CheckpointStore) Load(ctx context.Context, job string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.read()
	if err != nil {
		return nil, err
	}
	e, ok := f.Jobs[job]
	if !ok {
		return nil, nil
	}
	pos, err := e.position()
	if err != nil {
		return nil, fmt.Errorf("file: checkpoint file %s: job %q: %w", c.path, job, err)
	}
	return pos, nil
}

// Save records pos as job's position, replacing the file atomically (see
// [CheckpointStore]). It blocks until the new file and its directory are
// synced: two fsyncs, a few milliseconds on most disks (weir's engine
// coalesces saves, so a slow store sees only the latest position). job and
// pos must not be empty. Safe for concurrent use: Saves run one at a time,
// and each keeps the other jobs' positions.
func (c *CheckpointStore) Save(ctx context.Context, job string, pos []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case job == "":
		return errors.New("file: checkpoint Save: empty job name")
	case len(pos) == 0:
		return fmt.Errorf("file: checkpoint Save of %q: empty position", job)
	}
	e := checkpointEntry{UpdatedAt: time.Now().UTC()}
	if stableJSON(pos) {
		e.Position = json.RawMessage(pos)
	} else {
		e.PositionBase64 = pos
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.read()
	if err != nil {
		return err
	}
	f.Jobs[job] = e
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("file: checkpoint file %s: encode: %w", c.path, err)
	}
	if err := writeAtomic(c.path, append(data, '\n')); err != nil {
		return fmt.Errorf("file: checkpoint file %s: save %q: %w", c.path, job, err)
	}
	return nil
}

type checkpointDoc struct {
	Version int                        `json:"version"`
	Jobs    map[string]checkpointEntry `json:"jobs"`
}

type checkpointEntry struct {
	Position       json.RawMessage `json:"position,omitempty"`
	PositionBase64 []byte          `json:"position_base64,omitempty"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// position returns the saved bytes. A "position" was written compact and
// indented with the file: compacting it again gives back the exact bytes.
func (e checkpointEntry) position() ([]byte, error) {
	switch {
	case e.Position != nil && e.PositionBase64 == nil:
		var b bytes.Buffer
		if err := json.Compact(&b, e.Position); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	case e.Position == nil && len(e.PositionBase64) > 0:
		return e.PositionBase64, nil
	}
	return nil, errors.New(`need exactly one of "position" and "position_base64"`)
}

// stableJSON reports whether pos can be stored as raw JSON and read back as
// the same bytes: it is valid, compact JSON that encoding/json leaves as it
// is (no HTML characters to escape, no invalid UTF-8).
func stableJSON(pos []byte) bool {
	if !json.Valid(pos) {
		return false
	}
	out, err := json.Marshal(json.RawMessage(pos))
	return err == nil && bytes.Equal(out, pos)
}

// read reads and checks the file; a missing file is an empty one. Callers
// hold mu.
func (c *CheckpointStore) read() (*checkpointDoc, error) {
	data, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &checkpointDoc{Version: checkpointVersion, Jobs: map[string]checkpointEntry{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file: checkpoint file: %w", err)
	}
	var f checkpointDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("file: checkpoint file %s is not valid: %w", c.path, err)
	}
	if f.Version != checkpointVersion {
		return nil, fmt.Errorf("file: checkpoint file %s has version %d, want %d", c.path, f.Version, checkpointVersion)
	}
	if f.Jobs == nil {
		f.Jobs = map[string]checkpointEntry{}
	}
	return &f, nil
}

// tempPrefix starts the names of the temporary files Save writes.
func (c *CheckpointStore) tempPrefix() string { return filepath.Base(c.path) + ".tmp-" }

// removeTemps deletes temporary files a crash left behind. Callers hold mu,
// so no Save of this process is writing one.
func (c *CheckpointStore) removeTemps() error {
	dir := filepath.Dir(c.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("file: checkpoint file %s: %w", c.path, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), c.tempPrefix()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("file: checkpoint file %s: remove leftover: %w", c.path, err)
			}
		}
	}
	return nil
}

// writeAtomic replaces path with data: temporary file, fsync, rename, fsync
// of the directory (without which the rename itself may not survive a
// crash).
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			err = errors.Join(err, removeIfExists(tmp))
		}
	}()
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync: %w", err), f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (and does not need to).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync directory: %w", err), d.Close())
	}
	return d.Close()
}
