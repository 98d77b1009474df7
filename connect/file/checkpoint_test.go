package file_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir/connect/file"
)

func newCheckpointStore(t *testing.T) (*file.CheckpointStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	c, err := file.NewCheckpointStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return c, path
}

func mustLoad(t *testing.T, c interface {
	Load(context.Context, string) ([]byte, error)
}, job string) []byte {
	t.Helper()
	pos, err := c.Load(t.Context(), job)
	if err != nil {
		t.Fatalf("Load(%q): %v", job, err)
	}
	return pos
}

// TestCheckpointStoreFile checks the file behind the store, and what it
// refuses; conntest_test.go checks that it keeps positions.
func TestCheckpointStoreFile(t *testing.T) {
	ctx := t.Context()
	c, path := newCheckpointStore(t)

	t.Run("no file before the first Save", func(t *testing.T) {
		if pos := mustLoad(t, c, "orders"); pos != nil {
			t.Fatalf("Load on an empty store = %q, want nil", pos)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("the file exists before the first Save: %v", err)
		}
	})

	t.Run("the file is readable JSON", func(t *testing.T) {
		for job, pos := range map[string]string{"a": `{"line":3}`, "binary": "\x00\xff\xfe binary"} {
			if err := c.Save(ctx, job, []byte(pos)); err != nil {
				t.Fatal(err)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Version int
			Jobs    map[string]map[string]any
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("checkpoint file is not JSON: %v\n%s", err, data)
		}
		if doc.Version != 1 || doc.Jobs["a"]["position"].(map[string]any)["line"] != 3.0 {
			t.Errorf("job a is not stored as plain JSON:\n%s", data)
		}
		if _, ok := doc.Jobs["binary"]["position_base64"]; !ok {
			t.Errorf("binary position not stored as base64:\n%s", data)
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		if err := c.Save(ctx, "", []byte("x")); err == nil {
			t.Error("Save with an empty job succeeded")
		}
		if err := c.Save(ctx, "j", nil); err == nil {
			t.Error("Save with an empty position succeeded")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := c.Save(cancelled, "j", []byte("x")); err == nil {
			t.Error("Save with a cancelled context succeeded")
		}
		if _, err := file.NewCheckpointStore(filepath.Join(t.TempDir(), "no", "such", "dir.json")); err == nil {
			t.Error("NewCheckpointStore in a missing directory succeeded")
		}
	})
}

// TestCheckpointStoreNeverTorn saves from many goroutines while another reads
// the file in a loop: every read finds a whole, valid file, because Save
// replaces it by rename.
func TestCheckpointStoreNeverTorn(t *testing.T) {
	c, path := newCheckpointStore(t)
	ctx := t.Context()
	const writers, saves = 4, 40

	stop := make(chan struct{})
	var reads int
	var readErr error
	var rd sync.WaitGroup
	rd.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				continue // before the first Save
			}
			if err != nil {
				readErr = err
				return
			}
			reads++
			if !json.Valid(data) {
				readErr = fmt.Errorf("read %d: the file is not valid JSON:\n%s", reads, data)
				return
			}
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range saves {
				if err := c.Save(ctx, fmt.Sprintf("job-%d", w), fmt.Appendf(nil, `{"line":%d}`, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rd.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if readErr != nil {
		t.Fatal(readErr)
	}
	if reads == 0 {
		t.Fatal("the reader never saw the file")
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after the saves, want only the checkpoint file", len(entries))
	}
}

// TestCheckpointStoreCrashLeftovers: a temporary file a crash left behind
// (half written) does not disturb Load, and the next NewCheckpointStore
// removes it.
func TestCheckpointStoreCrashLeftovers(t *testing.T) {
	c, path := newCheckpointStore(t)
	if err := c.Save(t.Context(), "job", []byte(`{"line":7}`)); err != nil {
		t.Fatal(err)
	}
	leftover := path + ".tmp-123456"
	if err := os.WriteFile(leftover, []byte(`{"version":1,"jobs":{"job":{"posi`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := string(mustLoad(t, c, "job")); got != `{"line":7}` {
		t.Fatalf("Load with a leftover temp file = %q, want the saved {\"line\":7}", got)
	}
	other := filepath.Join(filepath.Dir(path), "unrelated.tmp-1")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	reopened, err := file.NewCheckpointStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover temp file still there after NewCheckpointStore (%v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("NewCheckpointStore removed a file that is not its own: %v", err)
	}
	if got := string(mustLoad(t, reopened, "job")); got != `{"line":7}` {
		t.Fatalf("Load after reopening = %q", got)
	}
}

func TestCheckpointStoreRejectsForeignFile(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":        "job=12\n",
		"other JSON":      `{"jobs":{"a":1}}`,
		"unknown version": `{"version":9,"jobs":{}}`,
		"unknown field":   `{"version":1,"jobs":{},"extra":true}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ck.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := file.NewCheckpointStore(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("NewCheckpointStore on %q = %v, want an error naming the file", content, err)
			}
			// The file is left alone: not overwritten by a guess.
			if data, _ := os.ReadFile(path); string(data) != content {
				t.Errorf("file changed to %q", data)
			}
		})
	}
}
