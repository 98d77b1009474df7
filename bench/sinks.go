package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// counter is the record and batch count every sink keeps.
type counter struct {
	records, batches atomic.Int64
}

func (c *counter) add(n int) {
	c.records.Add(int64(n))
	c.batches.Add(1)
}

// Records returns how many records the sink has been given by completed
// Write calls. It is safe to call at any time.
func (c *counter) Records() int64 { return c.records.Load() }

// Batches returns how many Write calls have completed.
func (c *counter) Batches() int64 { return c.batches.Load() }

// SumSink is the cheapest sink that still consumes its records: it adds up
// their keys. Use it to measure the engine rather than the sink. The zero
// value is ready to use; Write never blocks or fails, costs about a
// nanosecond per record plus three atomic adds per batch, and is safe for
// concurrent use.
type SumSink[T Record] struct {
	counter
	sum atomic.Int64
}

// Write adds the keys of batch to the sum.
func (s *SumSink[T]) Write(_ context.Context, batch []T) error {
	var sum int64
	for i := range batch {
		sum += batch[i].Key()
	}
	s.sum.Add(sum)
	s.add(len(batch))
	return nil
}

// Sum returns the sum of the keys of every record written: n(n+1)/2 for
// the records 1 to n.
func (s *SumSink[T]) Sum() int64 { return s.sum.Load() }

// MemorySink stands for a memory-bound load: it reads every byte of every
// record ([Record.Fold]) and keeps the sum. Its cost is proportional to the
// records' size. The zero value is ready to use; Write never blocks or
// fails, and is safe for concurrent use.
type MemorySink[T Record] struct {
	counter
	sum atomic.Uint64
}

// Write folds every record of batch into the sink's sum.
func (s *MemorySink[T]) Write(_ context.Context, batch []T) error {
	var sum uint64
	for i := range batch {
		sum = batch[i].Fold(sum)
	}
	s.sum.Add(sum)
	s.add(len(batch))
	return nil
}

// Sum returns the sum of every byte of every record written. It does not
// depend on the order or batching of the records.
func (s *MemorySink[T]) Sum() uint64 { return s.sum.Load() }

// DefaultCPURounds is the hashing rounds per record of a [CPUSink] built
// with 0 rounds: about 300 ns of CPU on a current x86 core.
const DefaultCPURounds = 32

// CPUSink stands for a CPU-bound load: it spends a fixed amount of hashing
// on each record, whatever its size. Build it with [NewCPUSink]; Write never
// blocks or fails, and is safe for concurrent use.
type CPUSink[T Record] struct {
	counter
	rounds int
	sum    atomic.Uint64
}

// NewCPUSink returns a sink that hashes each record's key rounds times
// (FNV-1a over its 8 bytes, each round hashing the previous one's result).
// rounds 0 means [DefaultCPURounds]; a negative rounds is an error.
func NewCPUSink[T Record](rounds int) (*CPUSink[T], error) {
	if rounds < 0 {
		return nil, fmt.Errorf("bench: CPUSink rounds must be >= 0 (0 means %d), got %d", DefaultCPURounds, rounds)
	}
	if rounds == 0 {
		rounds = DefaultCPURounds
	}
	return &CPUSink[T]{rounds: rounds}, nil
}

// Rounds returns the hashing rounds per record.
func (s *CPUSink[T]) Rounds() int { return s.rounds }

// Write hashes every record of batch and adds the hashes to the sink's sum.
func (s *CPUSink[T]) Write(_ context.Context, batch []T) error {
	var sum uint64
	for i := range batch {
		sum += HashRounds(uint64(batch[i].Key()), s.rounds)
	}
	s.sum.Add(sum)
	s.add(len(batch))
	return nil
}

// Sum returns the sum of the hashes of every record written. It does not
// depend on the order or batching of the records.
func (s *CPUSink[T]) Sum() uint64 { return s.sum.Load() }

// HashRounds hashes the 8 bytes of x with FNV-1a, then hashes the result,
// rounds times in all, and returns the last hash. Each round is eight
// dependent multiplications, so the cost is linear in rounds and cannot be
// vectorised away. It is the work [CPUSink] does per record.
func HashRounds(x uint64, rounds int) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	for range rounds {
		h := uint64(offset)
		for range 8 {
			h ^= x & 0xff
			h *= prime
			x >>= 8
		}
		x = h
	}
	return x
}

// Defaults of [IOConfig].
const (
	DefaultRoundTrip = time.Millisecond
	DefaultPerRecord = 2 * time.Microsecond
	DefaultIOLimit   = 4
)

// IOConfig describes the database an [IOSink] pretends to be. Zero fields
// mean their defaults.
type IOConfig struct {
	// RoundTrip is the fixed latency of one Write. Default 1ms.
	RoundTrip time.Duration
	// PerRecord is the added latency per record of a Write. Default 2µs.
	PerRecord time.Duration
	// Limit is how many Writes the database serves at full speed at once.
	// Beyond it, each Write's latency is multiplied by inflight/Limit, as
	// a saturated server shares its capacity. Default 4.
	Limit int
}

// WithDefaults returns c with every zero field replaced by its default.
func (c IOConfig) WithDefaults() IOConfig {
	if c.RoundTrip == 0 {
		c.RoundTrip = DefaultRoundTrip
	}
	if c.PerRecord == 0 {
		c.PerRecord = DefaultPerRecord
	}
	if c.Limit == 0 {
		c.Limit = DefaultIOLimit
	}
	return c
}

// Validate reports every negative field of c, each by name.
func (c IOConfig) Validate() error {
	var errs []error
	if c.RoundTrip < 0 {
		errs = append(errs, fmt.Errorf("bench: IOConfig.RoundTrip must be >= 0 (0 means %v), got %v", DefaultRoundTrip, c.RoundTrip))
	}
	if c.PerRecord < 0 {
		errs = append(errs, fmt.Errorf("bench: IOConfig.PerRecord must be >= 0 (0 means %v), got %v", DefaultPerRecord, c.PerRecord))
	}
	if c.Limit < 0 {
		errs = append(errs, fmt.Errorf("bench: IOConfig.Limit must be >= 0 (0 means %d), got %d", DefaultIOLimit, c.Limit))
	}
	return errors.Join(errs...)
}

// IOSink stands for an I/O-bound load, a database: each Write waits for a
// simulated round trip whose length depends on the batch size and on how
// many Writes are in flight (see [IOConfig] and [IOSink.Latency]). Waiting
// is the point: it models the time a real database takes, and it uses no
// CPU. Build it with [NewIOSink]; Write is safe for concurrent use. It
// accepts records of any type, since it never looks at them.
//
// A Write is in flight from its start until its round trip has run out by
// the clock, not until its goroutine returns: on synctest's fake clock,
// where many Writes end at the same instant, the latency of one that starts
// then must not depend on which goroutines the scheduler has run first.
type IOSink[T any] struct {
	counter
	cfg      IOConfig
	inflight atomic.Int64 // Write calls waiting, for InFlight

	mu       sync.Mutex
	ends     []time.Time // when each Write in flight ends
	maxInfly int
}

// NewIOSink returns a simulated database with the given latencies, after
// applying defaults. Errors name the negative field.
func NewIOSink[T any](cfg IOConfig) (*IOSink[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &IOSink[T]{cfg: cfg.WithDefaults()}, nil
}

// Config returns the sink's configuration with defaults applied.
func (s *IOSink[T]) Config() IOConfig { return s.cfg }

// Latency returns how long a Write of records records waits when inflight
// Writes (itself included) are in progress: RoundTrip + records×PerRecord,
// multiplied by inflight/Limit when inflight exceeds Limit. It is a pure
// function of its arguments and the configuration.
func (s *IOSink[T]) Latency(records, inflight int) time.Duration {
	d := s.cfg.RoundTrip + time.Duration(records)*s.cfg.PerRecord
	if inflight > s.cfg.Limit {
		d = d * time.Duration(inflight) / time.Duration(s.cfg.Limit)
	}
	return d
}

// Write blocks for [IOSink.Latency] of the batch, computed with the number
// of Writes in flight when it starts, then counts the records. If ctx is
// done first, it returns at once with ctx's error wrapped and counts
// nothing, as an aborted transaction stores nothing; it is no longer in
// flight from then on.
func (s *IOSink[T]) Write(ctx context.Context, batch []T) error {
	d, end := s.begin(len(batch))
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		s.abort(end)
		return fmt.Errorf("simulated write of %d records: %w", len(batch), ctx.Err())
	}
	s.add(len(batch))
	return nil
}

// begin starts a Write of records: it forgets the Writes whose end has
// passed, and returns the new one's latency and end.
func (s *IOSink[T]) begin(records int) (time.Duration, time.Time) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ends = slices.DeleteFunc(s.ends, func(end time.Time) bool { return !end.After(now) })
	n := len(s.ends) + 1
	d := s.Latency(records, n)
	s.ends = append(s.ends, now.Add(d))
	s.maxInfly = max(s.maxInfly, n)
	return d, now.Add(d)
}

// abort takes a cancelled Write, ending at end, out of flight.
func (s *IOSink[T]) abort(end time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.ends, end.Equal); i >= 0 {
		s.ends = slices.Delete(s.ends, i, i+1)
	}
}

// InFlight returns how many Write calls are waiting right now.
func (s *IOSink[T]) InFlight() int { return int(s.inflight.Load()) }

// MaxInFlight returns the most Writes that were ever in flight at once: the
// highest count a latency was computed with.
func (s *IOSink[T]) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInfly
}
