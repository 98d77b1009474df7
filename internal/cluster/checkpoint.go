package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// CheckpointStore is a weir.CheckpointStore in a job's WEIR_CKPT_ bucket:
// one key per checkpoint job name. A worker hands one to each partition
// it runs; it is for targets that cannot keep the position in their own
// transactions. Its calls retry for up to a minute while the server is
// unreachable (a restart). Safe for concurrent use.
type CheckpointStore struct{ kv jetstream.KeyValue }

// key turns a job name (any text) into a valid key.
func key(job string) string { return "ck." + base64.RawURLEncoding.EncodeToString([]byte(job)) }

// Load returns job's position, or nil if it has none.
func (c *CheckpointStore) Load(ctx context.Context, job string) ([]byte, error) {
	var pos []byte
	err := retry(ctx, time.Minute, func(ctx context.Context) error {
		e, err := c.kv.Get(ctx, key(job))
		if err == nil {
			pos = e.Value()
		}
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: load checkpoint of %q: %w", job, err)
	}
	return pos, nil
}

// Save records pos as job's position; one Put, so atomic.
func (c *CheckpointStore) Save(ctx context.Context, job string, pos []byte) error {
	err := retry(ctx, time.Minute, func(ctx context.Context) error {
		_, err := c.kv.Put(ctx, key(job), pos)
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: save checkpoint of %q: %w", job, err)
	}
	return nil
}
