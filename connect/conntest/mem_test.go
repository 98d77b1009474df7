package conntest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect/conntest"
)

// In-memory connectors for the kit's tests, each with knobs that break one
// part of its contract.

// rec is the record type of the in-memory connectors. Tags is nil in every
// other record, so that a source that decodes into a reused slot, keeping
// the old record's map, shows it.
type rec struct {
	ID   int
	Name string
	Tags map[string]string
}

// clone returns a deep copy of r, as a decoder returns a new record.
func (r rec) clone() rec {
	r.Tags = maps.Clone(r.Tags)
	return r
}

// makeRecs returns records 1..n.
func makeRecs(n int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{ID: i + 1, Name: "r" + strconv.Itoa(i+1)}
		if i%2 == 0 {
			out[i].Tags = map[string]string{"i": strconv.Itoa(i)}
		}
	}
	return out
}

type sourceBug int

const (
	noSourceBug      sourceBug = iota
	seekOffByOne               // Seek starts one record late
	positionRelative           // after Seek, Position counts from the sought position
	acceptsAnyPos              // Seek reads an unparsable position as the start
	ignoresCancel              // Read does not look at its context
	blocksOnCancel             // Read, given a cancelled context, waits for release
	overfills                  // Read reports one record more than a full buffer holds
	eofNotSticky               // Read after io.EOF fails
	mergesIntoSlot             // Read decodes into the record in the slot, keeping its Tags
	skipsMalformed             // Read after the malformed record's error passes over it
	closeFailsTwice            // the second Close fails
	emptyPosition              // Position is empty after a Read
)

// memSource reads data in order, at most page records per Read (0: no
// limit). Its position is {"at":N}, N the records read. The record at
// index bad (if 0 <= bad) is malformed.
type memSource struct {
	data    []rec
	page    int
	bad     int
	bug     sourceBug
	release <-chan struct{} // for blocksOnCancel

	next, base int // next record; the position sought to
	failed     bool
	eof        bool
	closes     int
}

func newMemSource(data []rec, page int, bug sourceBug) *memSource {
	return &memSource{data: data, page: page, bad: -1, bug: bug}
}

var errMalformed = errors.New("malformed")

func (s *memSource) Read(ctx context.Context, buf []rec) (int, error) {
	if err := ctx.Err(); err != nil {
		switch s.bug {
		case ignoresCancel:
		case blocksOnCancel:
			<-s.release
		default:
			return 0, err
		}
	}
	if s.closes > 0 {
		return 0, errors.New("mem: Read after Close")
	}
	if s.next == s.bad {
		if s.bug == skipsMalformed && s.failed {
			s.next++
		} else {
			s.failed = true
			return 0, fmt.Errorf("mem: record %d: %w", s.bad+1, errMalformed)
		}
	}
	if s.next >= len(s.data) {
		if s.eof && s.bug == eofNotSticky {
			return 0, errors.New("mem: Read after io.EOF")
		}
		s.eof = true
		return 0, io.EOF
	}
	n := min(len(buf), len(s.data)-s.next)
	if s.page > 0 {
		n = min(n, s.page)
	}
	if s.bad >= s.next {
		n = min(n, s.bad-s.next)
	}
	for i := range n {
		r := s.data[s.next+i].clone()
		if s.bug == mergesIntoSlot && buf[i].Tags != nil {
			maps.Copy(buf[i].Tags, r.Tags)
			r.Tags = buf[i].Tags
		}
		buf[i] = r
	}
	s.next += n
	if s.bug == overfills && n == len(buf) {
		return n + 1, nil
	}
	return n, nil
}

func (s *memSource) Position() ([]byte, error) {
	switch s.bug {
	case positionRelative:
		return fmt.Appendf(nil, `{"at":%d}`, s.next-s.base), nil
	case emptyPosition:
		return []byte{}, nil
	}
	return fmt.Appendf(nil, `{"at":%d}`, s.next), nil
}

func (s *memSource) Seek(pos []byte) error {
	var p struct{ At *int }
	dec := json.NewDecoder(bytes.NewReader(pos))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.At == nil || *p.At < 0 || *p.At > len(s.data) {
		if s.bug == acceptsAnyPos {
			return nil
		}
		return fmt.Errorf("mem: position %q is not {\"at\":N} with 0 <= N <= %d", pos, len(s.data))
	}
	s.next, s.base = *p.At, *p.At
	if s.bug == seekOffByOne {
		s.next = min(s.next+1, len(s.data))
	}
	return nil
}

func (s *memSource) Close(context.Context) error {
	s.closes++
	if s.closes > 1 && s.bug == closeFailsTwice {
		return errors.New("mem: source already closed")
	}
	return nil
}

// sourceCase is the kit's case for a memSource over n records, with a
// malformed fourth record if n > 3.
func sourceCase(n, page int, bug sourceBug) conntest.SourceCase[rec] {
	data := makeRecs(n)
	c := conntest.SourceCase[rec]{
		Open:         func(*testing.T) weir.Source[rec] { return newMemSource(data, page, bug) },
		Want:         data,
		BadPositions: [][]byte{nil, []byte("x"), []byte(`{}`), []byte(`{"at":-1}`), []byte(`{"at":1000}`), []byte(`{"at":1,"x":2}`)},
	}
	if n > 3 {
		c.Malformed = &conntest.MalformedCase[rec]{
			Open: func(*testing.T) weir.Source[rec] {
				s := newMemSource(data, page, bug)
				s.bad = 3
				return s
			},
			Before:      data[:3],
			ErrContains: "record 4",
		}
	}
	return c
}

type sinkBug int

const (
	noSinkBug         sinkBug = iota
	keepsHalfOfBatch          // a failing Write keeps the records before the bad one
	keepsBatch                // Write keeps the caller's slice instead of copying it
	reversesBatch             // Write stores a batch's records in reverse order
	cancelWritesHalf          // Write with a cancelled context writes half the batch, then fails
	insertsTwice              // an upsert that inserts the records again
	closeFails                // the second Close fails
	savesPosOnFailure         // a failing WriteCheckpoint saves the position
	skipsEmptyBatch           // WriteCheckpoint of an empty batch saves no position
)

var errConstraint = errors.New("mem: a negative ID breaks the table's constraint")

// memTable is a memSink's storage: rows, and the positions its
// WriteCheckpoint saves.
type memTable struct {
	mu        sync.Mutex
	rows      []rec
	kept      [][]rec // batches kept by keepsBatch
	positions *memStorage
}

func (tb *memTable) readBack() []rec {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := slices.Clone(tb.rows)
	for _, b := range tb.kept {
		out = append(out, b...)
	}
	return out
}

// memSink appends the records of each batch to its table, or replaces
// those with the same ID if upsert is set. A batch holding a record with a
// negative ID fails whole. Safe for concurrent use.
type memSink struct {
	table  *memTable
	upsert bool
	bug    sinkBug
	closes int
}

// openMemSink is a SinkCase.Open for memSinks.
func openMemSink(upsert bool, bug sinkBug) func(*testing.T) (weir.Sink[rec], func() []rec) {
	return func(*testing.T) (weir.Sink[rec], func() []rec) {
		tb := &memTable{positions: &memStorage{}}
		return &memSink{table: tb, upsert: upsert, bug: bug}, tb.readBack
	}
}

func (s *memSink) Write(ctx context.Context, batch []rec) error {
	if err := ctx.Err(); err != nil {
		if s.bug == cancelWritesHalf {
			s.write(batch[:len(batch)/2], "", nil)
		}
		return err
	}
	return s.write(batch, "", nil)
}

func (s *memSink) WriteCheckpoint(ctx context.Context, batch []rec, job string, pos []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(pos) == 0 {
		return errors.New("mem: WriteCheckpoint needs a position")
	}
	return s.write(batch, job, pos)
}

// write stores batch and, if job is set, saves pos, all or nothing.
func (s *memSink) write(batch []rec, job string, pos []byte) error {
	tb := s.table
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i, r := range batch {
		if r.ID < 0 {
			if s.bug == keepsHalfOfBatch {
				tb.rows = append(tb.rows, batch[:i]...)
			}
			if s.bug == savesPosOnFailure && job != "" {
				tb.positions.save(job, pos)
			}
			return fmt.Errorf("mem: record %d: %w", i, errConstraint)
		}
	}
	switch {
	case s.bug == keepsBatch:
		tb.kept = append(tb.kept, batch)
	case s.bug == reversesBatch:
		for _, r := range slices.Backward(batch) {
			tb.rows = append(tb.rows, r.clone())
		}
	default:
		for _, r := range batch {
			i := slices.IndexFunc(tb.rows, func(old rec) bool { return old.ID == r.ID })
			if s.upsert && s.bug != insertsTwice && i >= 0 {
				tb.rows[i] = r.clone()
			} else {
				tb.rows = append(tb.rows, r.clone())
			}
		}
	}
	if job != "" && !(s.bug == skipsEmptyBatch && len(batch) == 0) {
		tb.positions.save(job, pos)
	}
	return nil
}

func (s *memSink) Close(context.Context) error {
	s.closes++
	if s.closes > 1 && s.bug == closeFails {
		return errors.New("mem: sink already closed")
	}
	return nil
}

type storeBug int

const (
	noStoreBug      storeBug = iota
	losesOnReopen            // each Open starts from empty storage
	unknownIsEmpty           // Load of an unknown job returns []byte{}
	caseInsensitive          // job names are compared ignoring case
	compactsJSON             // positions that are JSON are stored compacted
	emptyIsNone              // Save of an empty position makes Load return nil
)

// memStorage is where memStores keep positions.
type memStorage struct {
	mu   sync.Mutex
	jobs map[string][]byte
}

func (m *memStorage) save(job string, pos []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobs == nil {
		m.jobs = map[string][]byte{}
	}
	m.jobs[job] = bytes.Clone(pos)
}

// memStore is a weir.CheckpointStore over a memStorage.
type memStore struct {
	st  *memStorage
	bug storeBug
}

// openMemStore is a CheckpointStoreCase.Open for memStores on one storage.
func openMemStore(bug storeBug) func(*testing.T) weir.CheckpointStore {
	st := &memStorage{}
	return func(*testing.T) weir.CheckpointStore {
		if bug == losesOnReopen {
			return &memStore{st: &memStorage{}}
		}
		return &memStore{st: st, bug: bug}
	}
}

func (s *memStore) key(job string) string {
	if s.bug == caseInsensitive {
		return strings.ToLower(job)
	}
	return job
}

func (s *memStore) Load(_ context.Context, job string) ([]byte, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	pos, ok := s.st.jobs[s.key(job)]
	if !ok && s.bug == unknownIsEmpty {
		return []byte{}, nil
	}
	return bytes.Clone(pos), nil
}

func (s *memStore) Save(_ context.Context, job string, pos []byte) error {
	switch {
	case job == "":
		return errors.New("mem: Save with an empty job")
	case len(pos) == 0 && s.bug == emptyIsNone:
		pos = nil
	case len(pos) == 0:
		return errors.New("mem: Save with an empty position")
	case s.bug == compactsJSON && json.Valid(pos):
		var b bytes.Buffer
		json.Compact(&b, pos)
		pos = b.Bytes()
	}
	s.st.save(s.key(job), pos)
	return nil
}
