package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// RowSource reads a collection in _id order, as [Source] does, into
// generic rows ([connect.Row]) for `weir copy`, where no Go type describes
// the documents. Each top-level value keeps its BSON type where connect
// has one, for schema.Infer to keep:
//
//	string                        Text
//	int32, int64, double          Int32, Int64, Float64
//	decimal128                    Numeric, without exponent, scale kept (1.50E+2 → "150",
//	                              "12.50"); NaN and ±Infinity → Float64
//	boolean                       Bool
//	date (years 1 to 9999)        TimestampTZ (milliseconds); other dates → Text, as below
//	ObjectID                      Text: the 24 hex digits
//	null, undefined, a missing key NULL
//	embedded document, array      JSON: plain JSON, as connect/file rewrites mongoexport's
//	                              output: an ObjectID as its hex string, a date as an
//	                              RFC 3339 string in UTC, numbers as numbers (NaN and
//	                              ±Infinity as null)
//	binary                        Bytes (the subtype is dropped)
//	any other type                Text: its relaxed Extended JSON ({"$timestamp":...},
//	                              {"$regularExpression":...}), as inside JSON values
//
// Columns are known when [NewRowSource] returns: it reads ahead up to
// [RowSourceConfig.SampleSize] documents ([RowSource.Sample]), which Read
// then returns first. They are the top-level keys of the sampled
// documents in first-seen order (so _id first); a document lacking a key
// has NULL there. A later document with a key outside the columns is a
// bad record: Read returns it as a [*weir.BadRecordError] naming the key,
// after the rows before it, and the next Read goes on after it. So is a
// document holding a key twice or a string that is not UTF-8.
//
// Each row's Pos is {Name: "database.collection", Line: the document's
// ordinal in this read, from 1}; a bad record's error also names its _id.
//
// It implements weir.Positioner (the same positions as [Source]) and
// weir.Closer. Read, Seek and Close are for one goroutine at a time;
// Position and LastKey may be called from any goroutine.
type RowSource struct {
	cfg     RowSourceConfig // Client set: URI is dialled by NewRowSource
	owned   bool            // the client was made from cfg.URI
	timout  time.Duration   // for closing a replaced cursor
	inner   *Source[bson.Raw]
	ns      string
	names   []string
	index   map[string]int
	sample  []connect.Row
	queue   []item // converted documents Read has not returned
	raws    []bson.Raw
	count   int64 // documents converted: the last one's ordinal
	sampled int   // documents in the sample, bad ones included
	pend    error // the inner source's error, returned once queue is empty
	next    any   // the _id of a bad record Read returned: Position moves there on the next Read
	read    bool
	seeked  bool
	closed  bool

	mu       sync.Mutex
	position any // the last returned document's _id (a bson.RawValue), or After

	closeOnce sync.Once
	closeErr  error
}

var (
	_ weir.Source[connect.Row] = (*RowSource)(nil)
	_ weir.Positioner          = (*RowSource)(nil)
	_ weir.Closer              = (*RowSource)(nil)
)

// item is a converted document: a row, or the error of a bad record.
type item struct {
	row connect.Row
	id  bson.RawValue
	err error
}

// NewRowSource checks cfg, connects as [NewSource] does (one round trip,
// at most cfg.ConnectTimeout), opens the cursor and reads the sample (one
// round trip per cursor batch it needs). It blocks until then. A read
// error while sampling closes everything and is returned.
func NewRowSource(ctx context.Context, cfg RowSourceConfig) (*RowSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SampleSize == 0 {
		cfg.SampleSize = DefaultSampleSize
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	inner, err := NewSource(ctx, cfg.sourceConfig())
	if err != nil {
		return nil, err
	}
	// Keep the client, so that Seek can start another read on it.
	s := &RowSource{cfg: cfg, owned: inner.owned, timout: cfg.ConnectTimeout, inner: inner,
		ns: inner.ns, index: map[string]int{}}
	s.cfg.Client, s.cfg.URI = inner.client, ""
	inner.owned = false
	if len(cfg.After) == 1 {
		s.position = cfg.After[0]
	}
	if err := s.readSample(ctx); err != nil {
		return nil, errors.Join(err, s.Close(context.WithoutCancel(ctx)))
	}
	return s, nil
}

// readSample reads up to SampleSize documents, takes the columns from
// their keys and queues them converted.
func (s *RowSource) readSample(ctx context.Context) error {
	var docs []bson.Raw
	buf := make([]bson.Raw, min(s.cfg.SampleSize, 1024))
	for len(docs) < s.cfg.SampleSize {
		n, err := s.inner.Read(ctx, buf[:min(len(buf), s.cfg.SampleSize-len(docs))])
		docs = append(docs, buf[:n]...)
		if err == io.EOF {
			s.pend = io.EOF
			break
		}
		if err != nil {
			return err
		}
	}
	s.sampled = len(docs)
	for _, d := range docs {
		elems, _ := d.Elements() // a bad document is a bad record below
		for _, e := range elems {
			if _, ok := s.index[e.Key()]; !ok {
				s.index[e.Key()] = len(s.names)
				s.names = append(s.names, e.Key())
			}
		}
	}
	s.convert(docs)
	for _, it := range s.queue {
		if it.err == nil {
			s.sample = append(s.sample, it.row)
		}
	}
	return nil
}

// Columns returns the column names: the keys of the sampled documents, in
// first-seen order. The slice must not be modified.
func (s *RowSource) Columns() []string { return s.names }

// Sample returns the rows read ahead by [NewRowSource] (at most
// [RowSourceConfig.SampleSize], without bad records), for a schema to be
// inferred from. Read returns them too. The rows must not be modified.
func (s *RowSource) Sample() []connect.Row { return s.sample }

// convert queues docs as rows, their values in one slice.
func (s *RowSource) convert(docs []bson.Raw) {
	w := len(s.names)
	vals := make([]connect.Value, len(docs)*w)
	seen := make([]bool, w)
	for i, d := range docs {
		s.count++
		row := vals[i*w : (i+1)*w : (i+1)*w]
		id, err := d.LookupErr("_id")
		if err == nil {
			id.Value = clone(id.Value) // the slice of docs is reused
			clear(seen)
			err = s.values(row, d, seen)
		}
		if err != nil {
			err = &weir.BadRecordError{Pos: fmt.Sprintf("%s:%d", s.ns, s.count), Raw: extJSON(d),
				Err: fmt.Errorf("mongo: read %s: document %d (_id %s): %w", s.ns, s.count, formatID(id), err)}
		}
		s.queue = append(s.queue, item{row: connect.Row{Values: row, Pos: connect.Pos{Name: s.ns, Line: s.count}}, id: id, err: err})
	}
}

// values sets row from the document's elements.
func (s *RowSource) values(row []connect.Value, d bson.Raw, seen []bool) error {
	elems, err := d.Elements()
	if err != nil {
		return err
	}
	for _, e := range elems {
		k := e.Key()
		i, ok := s.index[k]
		switch {
		case !ok:
			return fmt.Errorf("key %q is not among the columns, which are the keys of the first %d documents: raise the sample size", k, s.sampled)
		case seen[i]:
			return fmt.Errorf("key %q appears twice", k)
		}
		seen[i] = true
		if row[i], err = toValue(e.Value()); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}

// Read reads up to len(buf) rows into buf, in _id order, the sample
// first. It returns what the driver already holds without waiting, and
// fetches the next cursor batch (one round trip, bounded by ctx) only when
// it has nothing to return yet. It returns io.EOF, maybe with rows, at the
// end of the collection. A bad record is returned as a
// [*weir.BadRecordError] after the rows before it; the next Read goes on
// after it. A cursor error ends the read, as with [Source.Read]. Cost: the
// rows of one fetch share one slice of values; each document is copied
// once from the driver's buffer.
func (s *RowSource) Read(ctx context.Context, buf []connect.Row) (n int, err error) {
	s.read = true
	if s.closed {
		return 0, ErrClosed
	}
	if s.next != nil {
		s.setPosition(s.next)
		s.next = nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var last bson.RawValue // of the last row returned
	defer func() {
		if n > 0 {
			s.setPosition(last)
		}
	}()
	for n < len(buf) {
		if len(s.queue) == 0 {
			switch {
			case s.pend != nil:
				err := s.pend
				if err != io.EOF {
					s.pend = nil // the inner source returns it again, or tries again
				}
				return n, err
			case n > 0:
				return n, nil
			}
			s.fetch(ctx, len(buf))
			continue
		}
		it := s.queue[0]
		s.queue = s.queue[1:]
		if it.err != nil {
			s.next = it.id
			return n, it.err
		}
		buf[n], last = it.row, it.id
		n++
	}
	return n, nil
}

// fetch reads up to max documents from the cursor into the queue.
func (s *RowSource) fetch(ctx context.Context, max int) {
	if cap(s.raws) < max {
		s.raws = make([]bson.Raw, max)
	}
	k, err := s.inner.Read(ctx, s.raws[:max])
	s.queue = s.queue[:0]
	s.convert(s.raws[:k])
	clear(s.raws[:k])
	s.pend = err
}

func (s *RowSource) setPosition(id any) {
	s.mu.Lock()
	s.position = id
	s.mu.Unlock()
}

// LastKey returns the _id of the last row Read has returned, as a slice of
// one value decoded as [Source.LastKey] decodes it, or
// [RowSourceConfig.After] before the first (nil from the start). Safe to
// call from any goroutine.
func (s *RowSource) LastKey() []any {
	s.mu.Lock()
	id := s.position
	s.mu.Unlock()
	if rv, ok := id.(bson.RawValue); ok {
		var v any
		if err := rv.Unmarshal(&v); err != nil {
			return []any{rv} // the driver encodes it back as it was
		}
		id = v
	}
	if id == nil {
		return nil
	}
	return []any{id}
}

// Position returns the _id of the last row Read has returned as
// [Source.Position] does: {"_id":...} in canonical Extended JSON. After
// a Read that returned a bad record, it is still the row before it. Safe
// to call from any goroutine.
func (s *RowSource) Position() ([]byte, error) {
	s.mu.Lock()
	id := s.position
	s.mu.Unlock()
	pos, err := bson.MarshalExtJSON(bson.D{{Key: "_id", Value: id}}, true, false)
	if err != nil {
		return nil, fmt.Errorf("mongo: position in %s: encode _id: %w", s.ns, err)
	}
	return pos, nil
}

// Seek makes the source read the documents after the _id in pos, a
// position from [RowSource.Position] or [Source.Position]. It must be
// called at most once, before the first Read. The columns and the sample
// stay those NewRowSource read; the rows Read returns are those after pos,
// numbered again from 1. It closes the sampling cursor (one round trip,
// bounded by ConnectTimeout) and opens the new one on the next Read.
func (s *RowSource) Seek(pos []byte) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.read || s.seeked:
		return errors.New("mongo: seek: Seek must be called once, before the first Read")
	}
	cfg := s.cfg.sourceConfig()
	cfg.After = nil
	inner, err := NewSource(context.Background(), cfg) // pings the server: cheap, and checks it is there
	if err != nil {
		return fmt.Errorf("mongo: seek in %s: %w", s.ns, err)
	}
	if err := inner.Seek(pos); err != nil {
		return errors.Join(err, inner.Close(context.Background())) // closes nothing: no cursor, not its client
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timout)
	defer cancel()
	if err := s.inner.Close(ctx); err != nil {
		return fmt.Errorf("mongo: seek in %s: close the sampling cursor: %w", s.ns, err)
	}
	s.inner, s.seeked, s.queue, s.pend, s.count = inner, true, nil, nil, 0
	var id any
	if k := inner.LastKey(); k != nil {
		id = k[0]
	}
	s.setPosition(id)
	return nil
}

// Close closes the cursor and disconnects the client if the source made
// it from RowSourceConfig.URI. Idempotent; later Reads return [ErrClosed].
// It must not run concurrently with Read.
func (s *RowSource) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed, s.queue = true, nil
		err := s.inner.Close(ctx)
		if s.owned {
			if derr := s.cfg.Client.Disconnect(ctx); derr != nil {
				err = errors.Join(err, fmt.Errorf("mongo: disconnect: %w", derr))
			}
		}
		s.closeErr = err
	})
	return s.closeErr
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
