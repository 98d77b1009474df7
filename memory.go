package weir

import (
	"context"
	"fmt"
	"reflect"
	"time"
)

// MemoryStats describes a run's memory budget ([Config.Memory]). It is the
// zero value when the run has none.
type MemoryStats struct {
	// Budget is Config.Memory, in bytes.
	Budget int64
	// Batches is how many batches can be alive at once: the count in
	// Config's memory formula.
	Batches int
	// BatchBytes is the most bytes one batch may hold: Budget / Batches.
	BatchBytes int64
	// Largest is the size of the largest record read so far, in bytes.
	Largest int64
}

// RecordTooLargeError is the error of a run whose source delivered a record
// larger than its memory budget lets one batch hold ([Config.Memory]). The
// run ends as on a source failure: the records before it are loaded, and a
// checkpoint stops before it. It arrives wrapped in a [*StageError] of
// [StageExtract]; get it with [errors.As].
type RecordTooLargeError struct {
	// Position is the record's place in extract order, from 0.
	Position int64
	// Source is where it is in its source ("users.csv:12") when the record
	// is [Locatable]; empty otherwise.
	Source string
	// Size is the record's size in bytes, Limit one batch's share of the
	// budget (Memory / Batches).
	Size, Limit int64
	// Memory and Batches are the budget and the batches it is shared by.
	Memory  int64
	Batches int
}

// Error names the record and says what to change.
func (e *RecordTooLargeError) Error() string {
	where := fmt.Sprintf("record %d", e.Position)
	if e.Source != "" {
		where += " (" + e.Source + ")"
	}
	return fmt.Sprintf("%s is %d bytes, more than one batch may hold under a memory budget of %d bytes (%d = %d / %d batches in flight): raise the budget, or lower Workers, QueueDepth or LoadConcurrency",
		where, e.Size, e.Memory, e.Limit, e.Memory, e.Batches)
}

// batchesInFlight is how many batches can be alive at once under c, with
// defaults applied: the count in Config's memory formula.
func (c Config) batchesInFlight() int {
	if c.LoadConcurrency == 0 {
		return 2 + c.QueueDepth + 2*c.Workers
	}
	return 2 + 2*c.QueueDepth + 2*c.Workers + c.LoadConcurrency
}

// batchShare is the most bytes one batch may hold under c's memory budget
// (c with defaults applied); 0 when there is none.
func (c Config) batchShare() int64 {
	if c.Memory <= 0 {
		return 0
	}
	return c.Memory / int64(c.batchesInFlight())
}

// validateMemory reports the contradictions of Memory with the rest of c
// (as the caller gave it): a budget below one byte per batch, or a
// BatchBytes above a batch's share.
func (c Config) validateMemory() []error {
	if c.Memory < 0 {
		return []error{fmt.Errorf("weir: Memory must be >= 0 (0 means no budget), got %d", c.Memory)}
	}
	if c.Memory == 0 || c.Workers < 0 || c.QueueDepth < 0 || c.LoadConcurrency < 0 {
		return nil // the negative fields have errors of their own
	}
	d := c.WithDefaults()
	n, share := d.batchesInFlight(), d.batchShare()
	switch {
	case share < 1:
		return []error{fmt.Errorf("weir: Memory (%d bytes) is less than one byte for each of the %d batches that can be in flight", c.Memory, n)}
	case c.BatchBytes > share:
		return []error{fmt.Errorf("weir: BatchBytes (%d) is more than Memory lets one batch hold (%d = %d / %d batches in flight): lower BatchBytes or leave it 0", c.BatchBytes, share, c.Memory, n)}
	}
	return nil
}

// checkMemory reports a budget too small for a batch of one record: every
// record takes at least the size of E itself.
func checkMemory[E any](cfg Config) error {
	share := cfg.WithDefaults().batchShare()
	if cfg.Memory <= 0 || share < 1 {
		return nil // no budget, or Validate's error
	}
	if least := int64(reflect.TypeFor[E]().Size()); share < least {
		return fmt.Errorf("weir: New: Memory (%d bytes) lets one batch hold %d bytes (/ %d batches in flight), less than one %v record (%d bytes)",
			cfg.Memory, share, cfg.WithDefaults().batchesInFlight(), reflect.TypeFor[E](), least)
	}
	return nil
}

// readLen is how many records the reader asks the next Read for: bs, or
// under a budget as many as fit in a batch's share at the largest size
// seen so far (one until a record has been measured). The reader calls it.
func (b *batcher[E]) readLen(bs int) int {
	if b.limit == 0 {
		return bs
	}
	switch {
	case b.largest < 0:
		b.want = 1
	case b.largest == 0:
		b.want = bs
	default:
		b.want = int(min(int64(bs), max(1, b.limit/b.largest)))
	}
	return b.want
}

// measure sizes chunk's records into b.sizes and returns their total, and
// the index of the first record over a batch's share (-1 when none). The
// reader calls it on every chunk when there is a budget.
func (b *batcher[E]) measure(chunk []E) (total int64, over int) {
	b.sizes = grow(b.sizes, len(chunk))
	for i := range chunk {
		sz := max(int64(b.size(&chunk[i])), 0)
		if sz > b.largest {
			b.largest = sz
			b.largestOut.Store(sz)
		}
		if sz > b.limit {
			return total, i
		}
		b.sizes[i] = sz
		total += sz
	}
	return total, -1
}

// addSized is [batcher.add] under a budget, for a chunk measure has sized:
// no batch it closes holds more than b.limit bytes. A chunk of the length
// the reader asked for that fits goes on as it is, like add's full chunks.
// It returns false once the run is cancelled.
func (b *batcher[E]) addSized(chunk []E, total int64, start, now time.Time, pos []byte, final bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	bs := int(b.bs.Load())
	b.moved = nil
	if b.perRead || len(b.cur) == 0 && len(chunk) == b.want && total <= b.limit && b.maxBytes == 0 {
		return b.emit(chunk, total, start, now, pos)
	}
	for i := range chunk {
		sz := b.sizes[i]
		if len(b.cur) > 0 && b.curBytes+sz > b.limit && !b.emitCur(now) {
			return false
		}
		if b.cur == nil {
			b.cur = b.pool.get(bs)
			b.opened = time.Now()
		}
		b.cur = append(b.cur, chunk[i])
		b.curBytes += sz
		b.curPos = nil
		if i == len(chunk)-1 {
			b.curPos = pos
		}
		// Close when the next record of the largest size would not fit
		// either: waiting for the timer would only hold the batch back.
		if len(b.cur) >= bs || b.maxBytes > 0 && b.curBytes >= b.maxBytes || b.curBytes+b.largest > b.limit {
			if !b.emitCur(now) {
				return false
			}
		}
	}
	b.pool.put(chunk)
	if len(b.cur) > 0 && !final {
		b.arm()
	}
	return true
}

// tooLarge ends the reader on chunk[over], a record over a batch's share:
// the records before it go on to be loaded (but for exactly-once runs,
// where a Read is a batch and a part of one has no position), and the
// error names it. pos is how many records were read before chunk.
func (r *run[E, T]) tooLarge(ctx context.Context, bt *batcher[E], chunk []E, over int, pos int64) error {
	m := &r.m.extract
	rec := &chunk[over]
	cfg := r.p.cfg
	err := &RecordTooLargeError{Position: pos + int64(over), Source: sourcePos(rec), Size: int64(r.p.size(rec)),
		Limit: bt.limit, Memory: cfg.Memory, Batches: cfg.batchesInFlight()}
	clear(chunk[over:]) // the pool clears only what it is given back
	if over > 0 && !bt.perRead {
		var total int64
		for _, sz := range bt.sizes[:over] {
			total += sz
		}
		m.records.Add(int64(over))
		if !bt.addSized(chunk[:over], total, time.Time{}, time.Time{}, nil, true) {
			return ctx.Err()
		}
	} else {
		bt.pool.put(chunk[:0])
	}
	m.errors.Add(1)
	bt.flush()
	return &StageError{Stage: StageExtract, Batch: -1, First: pos + int64(over), Record: pos + int64(over), Err: err}
}
