package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/weir-etl/weir/internal/redact"
)

// Defaults and limits of [SourceConfig].
const (
	// DefaultBatchSize is the cursor batch size when SourceConfig.BatchSize
	// is 0: how many documents one server round trip returns at most.
	DefaultBatchSize = 1000
	// MaxBatchSize bounds SourceConfig.BatchSize. The server also caps
	// every batch at 16 MiB of BSON, whatever the batch size.
	MaxBatchSize = 1 << 20
	// DefaultConnectTimeout is how long [NewSource] waits for the server
	// when SourceConfig.ConnectTimeout is 0.
	DefaultConnectTimeout = 10 * time.Second
)

// SourceConfig configures a [Source] of records of type E. Set exactly one
// of URI and Client. E is not used by any field: the config carries it so
// that [NewSource] infers it, as in weir's other connectors.
type SourceConfig[E any] struct {
	// URI is a MongoDB connection string
	// ("mongodb://user:pass@host:27017/?replicaSet=rs0"). The source then
	// creates its own client and disconnects it on Close. Errors name the
	// URI's hosts, never the URI itself, and mask its passwords where the
	// driver's own message quotes them, so a password stays out of logs.
	URI string
	// Client is an existing, connected client to read through instead of
	// URI. The source never disconnects it: the caller owns it.
	Client *mongo.Client
	// Database and Collection name the collection to read. Required.
	Database   string
	Collection string
	// Filter selects documents, as the filter of a find (bson.D, bson.M
	// or a struct); nil reads every document. It is combined with the _id
	// condition of After by $and, so it may itself mention _id.
	Filter any
	// Projection limits the fields returned, as the projection of a find;
	// nil returns whole documents. It must not exclude _id: the source
	// needs every document's _id for [Source.LastKey].
	Projection any
	// After resumes a read: only documents whose _id is greater than
	// After[0] are read. Pass the [Source.LastKey] of an earlier run: a
	// slice of one value, the _id. nil (the default) reads from the first
	// document. See the package doc for why every _id must then have the
	// same BSON type.
	After []any
	// BatchSize is the cursor's batch size: the most documents one round
	// trip to the server returns. Default DefaultBatchSize; at most
	// MaxBatchSize. The server also stops a batch at 16 MiB. The driver
	// holds one batch, as raw BSON, at a time.
	BatchSize int
	// ConnectTimeout is how long [NewSource] waits for the server to answer
	// a ping before giving up. Default DefaultConnectTimeout. It does not
	// limit later reads: a Read is bounded by its context.
	ConnectTimeout time.Duration
	// BSONOptions changes how documents are decoded, for the collection
	// the source reads (see options.BSONOptions). For example,
	// UseJSONStructTags decodes into structs that only have json tags, and
	// ObjectIDAsHexString decodes an ObjectID into a string field. nil
	// keeps the client's options.
	BSONOptions *options.BSONOptions
}

// Validate reports every bad field of c, each error naming its field. It
// checks that Filter, Projection and After can be encoded as BSON, but it
// does not contact the server.
func (c SourceConfig[E]) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("mongo: SourceConfig."+format, args...))
	}
	switch {
	case c.URI == "" && c.Client == nil:
		bad("URI is empty and Client is nil: set one of them")
	case c.URI != "" && c.Client != nil:
		bad("URI and Client are both set: set one of them")
	case c.URI != "":
		if err := options.Client().ApplyURI(c.URI).Validate(); err != nil {
			// The driver's message may quote the URI's parameters.
			bad("URI is not a valid connection string: %w", redact.Error(err, c.URI))
		}
	}
	switch {
	case c.Database == "":
		bad("Database is empty")
	case strings.ContainsAny(c.Database, "/\\. \"$\x00"):
		bad("Database %q contains a character MongoDB does not allow in a database name (/\\. \"$ or NUL)", c.Database)
	}
	switch {
	case c.Collection == "":
		bad("Collection is empty")
	case strings.ContainsAny(c.Collection, "$\x00"):
		bad("Collection %q contains a character MongoDB does not allow in a collection name ($ or NUL)", c.Collection)
	}
	if c.Filter != nil {
		if _, err := bson.Marshal(c.Filter); err != nil {
			bad("Filter cannot be encoded as a BSON document: %w", err)
		}
	}
	if c.Projection != nil {
		if _, err := bson.Marshal(c.Projection); err != nil {
			bad("Projection cannot be encoded as a BSON document: %w", err)
		}
	}
	switch {
	case len(c.After) > 1:
		bad("After has %d values: the key is one field, _id", len(c.After))
	case len(c.After) == 1 && c.After[0] != nil:
		if _, _, err := bson.MarshalValue(c.After[0]); err != nil {
			bad("After[0] cannot be encoded as a BSON value: %w", err)
		}
	}
	if c.BatchSize < 0 || c.BatchSize > MaxBatchSize {
		bad("BatchSize must be between 1 and %d (0 means %d), got %d", MaxBatchSize, DefaultBatchSize, c.BatchSize)
	}
	if c.ConnectTimeout < 0 {
		bad("ConnectTimeout must be >= 0 (0 means %v), got %v", DefaultConnectTimeout, c.ConnectTimeout)
	}
	return errors.Join(errs...)
}

// ErrClosed is returned by a Read or Seek after Close.
var ErrClosed = errors.New("mongo: closed")

// Source reads a collection in _id order with one cursor:
//
//	find(filter AND {_id: {$gt: After}}).sort({_id: 1}).batchSize(BatchSize)
//
// decoding each document into an E with the driver's BSON decoding, so a
// struct with bson tags, bson.D, bson.M, bson.Raw and map[string]any all
// work. The cursor is opened by the first Read, not by [NewSource], so a
// source built long before its run does not hold an idle cursor that the
// server would time out (after 10 minutes by default).
//
// Read is for one goroutine at a time (as weir's engine calls it) and must
// not run concurrently with Close; LastKey and Position may be called from
// any goroutine.
type Source[E any] struct {
	client *mongo.Client
	owned  bool // client was created from SourceConfig.URI
	coll   *mongo.Collection
	ns     string // database.collection, for errors
	filter any    // userFilter combined with the After condition
	find   *options.FindOptionsBuilder

	userFilter any  // SourceConfig.Filter
	read       bool // Read was called: Seek is too late
	seeked     bool

	cur    *mongo.Cursor
	count  int64 // documents decoded so far
	err    error // sticky: the cursor failed or a document did not decode
	eof    bool
	closed bool

	lastType bson.Type // _id of the last document decoded, copied from
	lastID   []byte    // the cursor's buffer, which Next reuses

	mu       sync.Mutex
	position any

	closeOnce sync.Once
	closeErr  error
}

// NewSource checks cfg (returning an error naming every bad field), then
// connects to the server if cfg.URI is set and pings it, waiting at most
// cfg.ConnectTimeout (or until ctx is done): an unreachable server gives an
// error naming its hosts. It blocks for one round trip to the server on
// success. The source is then ready; it opens its cursor on the first Read.
func NewSource[E any](ctx context.Context, cfg SourceConfig[E]) (*Source[E], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	timeout := cfg.ConnectTimeout
	if timeout == 0 {
		timeout = DefaultConnectTimeout
	}
	batch := cfg.BatchSize
	if batch == 0 {
		batch = DefaultBatchSize
	}

	client, owned, where := cfg.Client, false, "the given Client"
	if cfg.URI != "" {
		opts := options.Client().ApplyURI(cfg.URI)
		where = strings.Join(opts.Hosts, ",")
		var err error
		client, err = mongo.Connect(opts)
		if err != nil {
			return nil, fmt.Errorf("mongo: connect to %s: %w", where, redact.Error(err, cfg.URI))
		}
		owned = true
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	err := client.Ping(pctx, readpref.Primary())
	cancel()
	if err != nil {
		err = fmt.Errorf("mongo: ping %s (waited up to %v): %w", where, timeout, redact.Error(err, cfg.URI))
		if owned {
			// The server never answered, so there is nothing to flush:
			// bound the disconnect by the same timeout.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
			err = errors.Join(err, client.Disconnect(dctx))
			cancel()
		}
		return nil, err
	}

	var after any
	if len(cfg.After) == 1 {
		after = cfg.After[0]
	}
	var collOpts []options.Lister[options.CollectionOptions]
	if cfg.BSONOptions != nil {
		collOpts = append(collOpts, options.Collection().SetBSONOptions(cfg.BSONOptions))
	}
	find := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(int32(batch))
	if cfg.Projection != nil {
		find.SetProjection(cfg.Projection)
	}
	return &Source[E]{
		client:     client,
		owned:      owned,
		coll:       client.Database(cfg.Database).Collection(cfg.Collection, collOpts...),
		ns:         cfg.Database + "." + cfg.Collection,
		filter:     filterAfter(cfg.Filter, after),
		find:       find,
		userFilter: cfg.Filter,
		position:   after,
	}, nil
}

// filterAfter combines the user's filter with the resume condition.
func filterAfter(filter, after any) any {
	if after == nil {
		if filter == nil {
			return bson.D{}
		}
		return filter
	}
	cond := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	if filter == nil {
		return cond
	}
	return bson.D{{Key: "$and", Value: bson.A{filter, cond}}}
}

// Read decodes the next documents, in _id order, into buf and returns how
// many. Each buf[i] it fills is first reset to E's zero value, so no field
// of an earlier record survives a document that lacks it.
//
// The first Read opens the cursor (one round trip). After that, Read
// returns what the driver already holds of the current batch without
// waiting, and fetches the next batch (one round trip, blocking, bounded
// by ctx) only when it has nothing to return yet; so records reach the
// engine while the next batch is on its way. It returns io.EOF, possibly
// with n > 0, once the cursor is exhausted.
//
// A document that does not decode stops the read: Read returns the
// records before it with an error naming the document's ordinal and _id,
// and so does every later Read (the cursor has moved past it). A failed
// cursor (a network error, a cancelled ctx while fetching) is likewise
// final. Resume with a new Source whose After is [Source.LastKey], which
// still points before the failed document.
func (s *Source[E]) Read(ctx context.Context, buf []E) (int, error) {
	s.read = true
	switch {
	case s.closed:
		return 0, ErrClosed
	case s.err != nil:
		return 0, s.err
	case s.eof:
		return 0, io.EOF
	case len(buf) == 0:
		return 0, nil
	}
	if s.cur == nil {
		cur, err := s.coll.Find(ctx, s.filter, s.find)
		if err != nil {
			// Nothing was read, so a later Read may simply try again.
			return 0, fmt.Errorf("mongo: find in %s: %w", s.ns, err)
		}
		s.cur = cur
	}
	n := 0
	var err error
	for n < len(buf) {
		if n > 0 && s.cur.RemainingBatchLength() == 0 && s.cur.ID() != 0 {
			// Hand these over before waiting for the next batch. (With
			// ID 0 the server has no more: Next reports the end without
			// a round trip, and this Read returns io.EOF.)
			break
		}
		if !s.cur.Next(ctx) {
			if cerr := s.cur.Err(); cerr != nil {
				s.err = fmt.Errorf("mongo: read %s after %d documents: %w", s.ns, s.count, cerr)
				err = s.err
			} else {
				s.eof = true
				err = io.EOF
			}
			break
		}
		id, lerr := s.cur.Current.LookupErr("_id")
		if lerr != nil {
			s.err = fmt.Errorf("mongo: read %s: document %d has no _id (a Projection must not exclude it): %w", s.ns, s.count+1, lerr)
			err = s.err
			break
		}
		var zero E
		buf[n] = zero
		if derr := s.cur.Decode(&buf[n]); derr != nil {
			s.err = fmt.Errorf("mongo: read %s: decode document %d (_id %s): %w", s.ns, s.count+1, formatID(id), derr)
			err = s.err
			break
		}
		s.lastType, s.lastID = id.Type, append(s.lastID[:0], id.Value...)
		s.count++
		n++
	}
	if n > 0 {
		if perr := s.updatePosition(); perr != nil {
			s.err = perr
			return n, perr
		}
	}
	return n, err
}

// updatePosition decodes the last _id read into the Go value the driver
// gives it by default (bson.ObjectID, int32, int64, string, bson.D, ...),
// a value the driver encodes back unchanged as After.
func (s *Source[E]) updatePosition() error {
	var v any
	rv := bson.RawValue{Type: s.lastType, Value: s.lastID}
	if err := rv.Unmarshal(&v); err != nil {
		return fmt.Errorf("mongo: read %s: decode _id %s of document %d: %w", s.ns, formatID(rv), s.count, err)
	}
	s.mu.Lock()
	s.position = v
	s.mu.Unlock()
	return nil
}

// formatID renders an _id for an error message: strings quoted, other
// values as the driver prints them (ObjectID("..."), 42, ...).
func formatID(rv bson.RawValue) string {
	var v any
	if err := rv.Unmarshal(&v); err != nil {
		return rv.String()
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// LastKey returns the _id of the last document Read has returned, as a
// slice of one value, or [SourceConfig.After] if Read has returned none yet
// (nil when reading from the start). The value is what the driver decodes
// the _id to (bson.ObjectID for an ObjectID, int64, string, ...), so a new
// Source with After set to it reads exactly the documents after those
// already read. Safe to call from any goroutine; it allocates the slice.
//
// With weir's engine, records returned by Read may not be loaded yet: for
// checkpoints, use weir.WithCheckpoint, which saves a position
// only once every record before it is loaded (see [Source.Position]).
func (s *Source[E]) LastKey() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.position == nil {
		return nil
	}
	return []any{s.position}
}

// Close closes the cursor, if Read opened one, and disconnects the client
// if the source created it from SourceConfig.URI; a Client passed in
// stays connected. It blocks for at most a round trip or two, bounded by
// ctx. Close is idempotent: later calls return the first call's result.
// Read after Close returns [ErrClosed].
func (s *Source[E]) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed = true
		var errs []error
		if s.cur != nil {
			if err := s.cur.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("mongo: close cursor on %s: %w", s.ns, err))
			}
		}
		if s.owned {
			if err := s.client.Disconnect(ctx); err != nil {
				errs = append(errs, fmt.Errorf("mongo: disconnect: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
