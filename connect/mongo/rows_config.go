package mongo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Defaults and limits of [RowSourceConfig].
const (
	// DefaultSampleSize is how many documents a [RowSource] reads ahead
	// when RowSourceConfig.SampleSize is 0.
	DefaultSampleSize = 1000
	// MaxSampleSize bounds RowSourceConfig.SampleSize: the sample is held
	// in memory.
	MaxSampleSize = 1_000_000
)

// RowSourceConfig configures a [RowSource]. Set exactly one of URI and
// Client.
type RowSourceConfig struct {
	// URI is a MongoDB connection string; the source then creates its own
	// client and disconnects it on Close. Errors never quote it.
	URI string
	// Client is an existing, connected client to read through instead of
	// URI. The source never disconnects it.
	Client *mongo.Client
	// Database and Collection name the collection to read. Required.
	Database   string
	Collection string
	// SampleSize is how many documents [NewRowSource] reads ahead for
	// [RowSource.Columns] and [RowSource.Sample]. 0 means
	// DefaultSampleSize; at most MaxSampleSize.
	SampleSize int
	// After resumes a read after the document whose _id is After[0]: pass
	// an earlier source's [RowSource.LastKey]. nil reads from the first
	// document. The sample is then taken from the documents after it.
	After []any
	// PageSize is the cursor's batch size: the most documents one round
	// trip returns. 0 means DefaultBatchSize; at most MaxBatchSize.
	PageSize int
	// ConnectTimeout is how long [NewRowSource] waits for the server to
	// answer a ping. 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// sourceConfig is the config of the [Source] of raw documents a RowSource
// reads through, c's fields renamed.
func (c RowSourceConfig) sourceConfig() SourceConfig[bson.Raw] {
	return SourceConfig[bson.Raw]{URI: c.URI, Client: c.Client, Database: c.Database, Collection: c.Collection,
		After: c.After, BatchSize: c.PageSize, ConnectTimeout: c.ConnectTimeout}
}

// Validate reports every bad field of c, each error naming its field. It
// does not contact the server.
func (c RowSourceConfig) Validate() error {
	var errs []error
	inner := c.sourceConfig()
	inner.BatchSize = 0 // checked below, under its name here
	if err := inner.Validate(); err != nil {
		// The fields are [SourceConfig]'s: name this config instead.
		for _, e := range unjoin(err) {
			msg, _ := strings.CutPrefix(e.Error(), "mongo: SourceConfig.")
			errs = append(errs, &renamedError{msg: "mongo: RowSourceConfig." + msg, err: e})
		}
	}
	if c.PageSize < 0 || c.PageSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("mongo: RowSourceConfig.PageSize must be between 1 and %d (0 means %d), got %d",
			MaxBatchSize, DefaultBatchSize, c.PageSize))
	}
	if c.SampleSize < 0 || c.SampleSize > MaxSampleSize {
		errs = append(errs, fmt.Errorf("mongo: RowSourceConfig.SampleSize must be between 0 (default %d) and %d, got %d",
			DefaultSampleSize, MaxSampleSize, c.SampleSize))
	}
	return errors.Join(errs...)
}

// unjoin returns the errors errors.Join joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// renamedError is a SourceConfig error reworded for RowSourceConfig; it
// keeps the original reachable.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }
