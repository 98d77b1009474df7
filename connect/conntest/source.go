package conntest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/weir-etl/weir"
)

// SourceCase is the source [Source] checks, and what it holds.
type SourceCase[E any] struct {
	// Open returns a new source over the same data on each call, not yet
	// read. Required.
	Open func(t *testing.T) weir.Source[E]
	// Want is what reading a source from Open to io.EOF returns, in order.
	// A dozen records or more give the seek checks distinct cut points.
	Want []E
	// Equal reports whether two records are the same. Optional: nil means
	// reflect.DeepEqual.
	Equal func(a, b E) bool
	// Malformed, if not nil, is a source whose data holds a record that
	// cannot be decoded. Leave it nil for a source that cannot hold one.
	Malformed *MalformedCase[E]
	// BadPositions lists positions Seek must refuse, for a source that
	// implements weir.Positioner: a corrupt checkpoint must fail the
	// resume, not restart the job somewhere. Optional.
	BadPositions [][]byte
}

// MalformedCase is a source over data with one record that cannot be
// decoded, for [SourceCase.Malformed].
type MalformedCase[E any] struct {
	// Open returns a new source over that data on each call. Required.
	Open func(t *testing.T) weir.Source[E]
	// Before is what Read returns before the error for the malformed
	// record, in order: the records before it, or fewer if the source
	// drops the rest of a page that holds a record it cannot decode.
	Before []E
	// ErrContains is text the error for the malformed record must
	// contain: its position, as a person would look for it ("line 3",
	// "_id 5"). Required.
	ErrContains string
	// After is what reading on after the error returns, to io.EOF, for a
	// source that reports the record as a [*weir.BadRecordError] (and so
	// moves past it): the records after the malformed one. Ignored for a
	// source whose error is not one: that error must come back on the next
	// Read.
	After []E
}

// smallBuf is the buffer size of most reads: small, so that records
// straddle Reads, and prime, so that it divides no page size.
const smallBuf = 7

// maxEmptyReads is how many Reads in a row may return no record and no
// error before the kit decides the source is stuck.
const maxEmptyReads = 1000

// Source checks the source c.Open returns against the contract of
// [weir.Source], and of [weir.Positioner] and [weir.Closer] when it
// implements them. It blocks until every check has run, as subtests of t
// named after what they check:
//
//   - reads everything in order: with buffers of 1, 7 and more than
//     len(Want) records, Read returns Want in order; it never returns more
//     records than the buffer holds, and the buffer is cleared between
//     Reads, as the engine reuses it.
//   - Read after io.EOF keeps returning io.EOF: 0, io.EOF, unwrapped (the
//     engine compares err == io.EOF).
//   - Read overwrites the records in a reused buffer: a record does not
//     inherit fields from the one that sat in its slot before.
//   - Read with a cancelled context returns the context's error: on a new
//     source, Reads given a cancelled context return within 5 seconds; they
//     may hand over records already fetched, but must end with an error
//     wrapping context.Canceled, not io.EOF.
//   - Positioner: a position taken before any Read (unless it is empty),
//     after the first record, in the middle of what one Read returns, after one whole Read,
//     in the middle of Want and at its end, passed to Seek on a new source,
//     makes it read exactly the records after it; so does a position taken
//     by a source that was itself resumed; Seek refuses BadPositions.
//     Positions taken after records are not empty (the engine saves none
//     that is).
//   - malformed record (when Malformed is set): Read returns the records
//     before it, then an error containing ErrContains; the next Read fails
//     again rather than passing over it, unless the error is a
//     [*weir.BadRecordError], after which reading on returns
//     Malformed.After; and a position taken at the error resumes at the
//     malformed record.
//   - Closer: Close returns nil when called twice, before any Read, in the
//     middle of the data and after io.EOF.
//
// A source that does not implement weir.Positioner or weir.Closer has those
// checks skipped.
//
// Cost: about 35 sources opened (and one per bad position), each read in
// part or to the end: about 25 times the reading of Want. Keep Want to
// hundreds of records, not millions.
func Source[E any](t *testing.T, c SourceCase[E]) {
	testSource(testingT{t}, c)
}

func testSource[E any](t tester, c SourceCase[E]) {
	switch {
	case c.Open == nil:
		t.Fatalf("conntest: SourceCase.Open is nil")
	case c.Malformed != nil && c.Malformed.Open == nil:
		t.Fatalf("conntest: SourceCase.Malformed.Open is nil")
	case c.Malformed != nil && c.Malformed.ErrContains == "":
		t.Fatalf("conntest: SourceCase.Malformed.ErrContains is empty: say what the error must contain, such as the record's line")
	}
	s := &sourceCheck[E]{c: c, want: c.Want, eq: equalFunc(c.Equal)}
	t.Run("reads everything in order", s.readsInOrder)
	t.Run("Read after io.EOF keeps returning io.EOF", s.eofSticks)
	t.Run("Read overwrites the records in a reused buffer", s.reusedBuffer)
	t.Run("Read with a cancelled context returns the context's error", s.cancelled)
	t.Run("Positioner", s.positioner)
	t.Run("malformed record", s.malformed)
	t.Run("Closer", s.closer)
}

type sourceCheck[E any] struct {
	c    SourceCase[E]
	want []E
	eq   func(a, b E) bool
	// sample is a source from c.Open, to learn which interfaces the
	// sources implement without opening one more.
	sample weir.Source[E]
}

// openSrc opens a source with c.Open.
func (s *sourceCheck[E]) openSrc(t tester) *opened[E] {
	src := openSource(t, s.c.Open)
	if s.sample == nil {
		s.sample = src.Source
	}
	return src
}

// sampled returns a source from c.Open, opening one if no check has yet.
func (s *sourceCheck[E]) sampled(t tester) weir.Source[E] {
	if s.sample == nil {
		s.openSrc(t)
	}
	return s.sample
}

// opened is a source the kit opened.
type opened[E any] struct {
	weir.Source[E]
	*closing
}

func openSource[E any](t tester, open func(*testing.T) weir.Source[E]) *opened[E] {
	src := open(t.Test())
	if src == nil {
		t.Fatalf("Open returned a nil source")
	}
	return &opened[E]{src, closeLater(t, src, "source")}
}

// read calls Read once and checks that n fits buf.
func read[E any](t tester, ctx context.Context, src weir.Source[E], buf []E) (int, error) {
	n, err := src.Read(ctx, buf)
	if n < 0 || n > len(buf) {
		t.Fatalf("Read = %d, %v for a buffer of %d records; want 0 <= n <= len(buf)", n, err, len(buf))
	}
	return n, err
}

// errText formats err for a message, pointing out a wrapped io.EOF.
func errText(err error) string {
	if err != io.EOF && errors.Is(err, io.EOF) {
		return fmt.Sprintf("%v (io.EOF wrapped: the engine takes it for an error; return io.EOF itself)", err)
	}
	return fmt.Sprint(err)
}

// readAll reads src to the end with buffers of size bufSize and returns the
// records and the error that ended the read, nil for io.EOF. Before each
// Read it clears the buffer, or calls fill on it if fill is not nil.
func readAll[E any](t tester, src weir.Source[E], bufSize int, fill func(read int, buf []E)) ([]E, error) {
	buf := make([]E, bufSize)
	var got []E
	empty := 0
	for {
		if fill != nil {
			fill(len(got), buf)
		} else {
			clear(buf)
		}
		n, err := read(t, t.Context(), src, buf)
		got = append(got, buf[:n]...)
		switch {
		case err == io.EOF:
			return got, nil
		case err != nil:
			return got, err
		case n > 0:
			empty = 0
		default:
			if empty++; empty == maxEmptyReads {
				t.Fatalf("after %s, Read returned 0 records and no error %d times in a row; want records, io.EOF or an error", records(len(got)), empty)
			}
		}
	}
}

// readHead reads exactly len(want) records from src, with buffers never
// larger than what is left, and checks them against want. where, if not
// empty, says where src started.
func (s *sourceCheck[E]) readHead(t tester, src weir.Source[E], want []E, where string) {
	if where != "" {
		where += ", "
	}
	var got []E
	buf := make([]E, len(want))
	empty := 0
	for len(got) < len(want) {
		clear(buf)
		n, err := read(t, t.Context(), src, buf[:len(want)-len(got)])
		got = append(got, buf[:n]...)
		switch {
		case err == io.EOF && len(got) < len(want):
			t.Fatalf("%sRead returned io.EOF after %s; want at least %s before the end", where, records(len(got)), records(len(want)))
		case err != nil && err != io.EOF:
			t.Fatalf("%sRead after %s = %d, %s; want no error", where, records(len(got)-n), n, errText(err))
		case n > 0:
			empty = 0
		default:
			if empty++; empty == maxEmptyReads {
				t.Fatalf("after %s, Read returned 0 records and no error %d times in a row", records(len(got)), empty)
			}
		}
	}
	if d := diffSeq(s.eq, got, want); d != "" {
		t.Fatalf("%sreading %s: %s", where, records(len(want)), d)
	}
}

func (s *sourceCheck[E]) readsInOrder(t tester) {
	sizes := []int{1, smallBuf}
	if n := len(s.want) + 1; n > smallBuf {
		sizes = append(sizes, n)
	}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("buffer of %d", size), func(t tester) {
			src := s.openSrc(t)
			got, err := readAll(t, src, size, nil)
			if err != nil {
				t.Fatalf("Read after %s: %s; want io.EOF after %d", records(len(got)), errText(err), len(s.want))
			}
			if d := diffSeq(s.eq, got, s.want); d != "" {
				t.Errorf("read to io.EOF: %s", d)
			}
		})
	}
}

func (s *sourceCheck[E]) eofSticks(t tester) {
	src := s.openSrc(t)
	if got, err := readAll(t, src, len(s.want)+1, nil); err != nil {
		t.Fatalf("Read after %s: %s; want io.EOF after %d", records(len(got)), errText(err), len(s.want))
	}
	for i := range 2 {
		if n, err := read(t, t.Context(), src, make([]E, smallBuf)); n != 0 || err != io.EOF {
			t.Errorf("Read #%d after io.EOF = %d, %s; want 0, io.EOF", i+1, n, errText(err))
		}
	}
}

func (s *sourceCheck[E]) reusedBuffer(t tester) {
	if len(s.want) < 2 {
		t.Skipf("needs 2 records in Want, has %d", len(s.want))
	}
	// The stale records come from a read of their own, not from Want: a
	// source that decodes into what the slot holds (a map, a slice) would
	// change them.
	stale, err := readAll(t, s.openSrc(t), smallBuf, nil)
	if err != nil || len(stale) == 0 {
		t.Fatalf("reading the records to fill the buffer with: got %d records, error %s", len(stale), errText(err))
	}
	fill := func(read int, buf []E) {
		for i := range buf {
			// Shifted by one, so that each slot holds another record
			// than the one it will receive.
			buf[i] = stale[(read+i+1)%len(stale)]
		}
	}
	got, err := readAll(t, s.openSrc(t), smallBuf, fill)
	if err != nil {
		t.Fatalf("Read after %s: %s", records(len(got)), errText(err))
	}
	if d := diffSeq(s.eq, got, s.want); d != "" {
		t.Errorf("with a buffer holding older records: %s; a record must not keep fields of the one that sat in its slot", d)
	}
}

func (s *sourceCheck[E]) cancelled(t tester) {
	src := s.openSrc(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	buf := make([]E, smallBuf)
	var got []E
	for empty := 0; ; {
		var n int
		var err error
		if !within(func() { n, err = src.Read(ctx, buf) }) {
			src.done = true // still in Read: closing it would race
			t.Fatalf("Read with a cancelled context had not returned after %v (after %s); want it to return the context's error", promptly, records(len(got)))
		}
		if n < 0 || n > len(buf) {
			t.Fatalf("Read = %d, %v for a buffer of %d records; want 0 <= n <= len(buf)", n, err, len(buf))
		}
		got = append(got, buf[:n]...)
		if len(got) > len(s.want) || diffSeq(s.eq, got, s.want[:len(got)]) != "" {
			t.Fatalf("Read with a cancelled context returned other records than Want's first: %s", diffSeq(s.eq, got, s.want[:min(len(got), len(s.want))]))
		}
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err == io.EOF:
			t.Fatalf("Read with a cancelled context returned %s and io.EOF; want an error wrapping context.Canceled", records(len(got)))
		case err != nil:
			t.Fatalf("Read with a cancelled context = %d, %s; want an error wrapping context.Canceled", n, errText(err))
		case n == 0:
			if empty++; empty == maxEmptyReads {
				t.Fatalf("Read with a cancelled context returned 0 records and no error %d times in a row; want an error wrapping context.Canceled", empty)
			}
		}
	}
}

// positionerOf skips the check if src cannot say where it is.
func positionerOf[E any](t tester, src *opened[E]) weir.Positioner {
	p, ok := src.Source.(weir.Positioner)
	if !ok {
		t.Skipf("%T does not implement weir.Positioner", src.Source)
	}
	return p
}

// after says where a position was taken: after read records.
func after(read int) string {
	if read == 0 {
		return "the position before any Read"
	}
	return "the position after " + records(read)
}

// positionAfter returns src's position after it read read records.
func positionAfter(t tester, p weir.Positioner, read int) []byte {
	pos, err := p.Position()
	switch {
	case err != nil:
		t.Fatalf("Position after %s: %v", records(read), err)
	case read > 0 && len(pos) == 0:
		t.Fatalf("Position after %s = %s; want a position that is not empty (the engine saves none that is)", records(read), describe(pos))
	}
	return pos
}

// seekTo opens a source and seeks it to pos, the position after read
// records.
func (s *sourceCheck[E]) seekTo(t tester, open func(*testing.T) weir.Source[E], pos []byte, read int) *opened[E] {
	src := openSource(t, open)
	if err := positionerOf(t, src).Seek(pos); err != nil {
		t.Fatalf("Seek(%s), %s, on a new source: %v", describe(pos), after(read), err)
	}
	return src
}

// recordsPerRead is how many records the first Read of a new source
// returns when it may return them all.
func (s *sourceCheck[E]) recordsPerRead(t tester) int {
	src := s.openSrc(t)
	buf := make([]E, len(s.want))
	for empty := 0; empty < maxEmptyReads; empty++ {
		n, err := read(t, t.Context(), src, buf)
		if n > 0 || err != nil {
			return n
		}
	}
	return 0
}

func (s *sourceCheck[E]) positioner(t tester) {
	if _, ok := s.sampled(t).(weir.Positioner); !ok {
		t.Skipf("%T does not implement weir.Positioner", s.sample)
	}
	n := len(s.want)
	m := 0
	if n > 0 {
		m = s.recordsPerRead(t)
	}
	seen := map[int]bool{}
	for _, cut := range []struct {
		name string
		k    int
	}{
		{"seek to the start reads everything", 0},
		{"seek after the first record reads the rest", 1},
		{"seek into the middle of one Read's records reads the rest", m / 2},
		{"seek after one whole Read reads the rest", m},
		{"seek to the middle reads exactly the tail", n / 2},
		{"seek to the end reads nothing", n},
	} {
		if cut.k > n || seen[cut.k] {
			continue
		}
		seen[cut.k] = true
		t.Run(cut.name, func(t tester) { s.resumeAt(t, cut.k) })
	}
	t.Run("a resumed source's positions resume too", s.resumeResumed)
	t.Run("Seek refuses a malformed position", s.badPositions)
}

// resumeAt takes the position after k records and checks that a new
// source sought to it reads the records after them.
func (s *sourceCheck[E]) resumeAt(t tester, k int) {
	first := s.openSrc(t)
	s.readHead(t, first, s.want[:k], "")
	pos := positionAfter(t, positionerOf(t, first), k)
	if len(pos) == 0 {
		t.Skipf("Position before the first Read is empty: the engine never seeks to it")
	}
	second := s.seekTo(t, s.c.Open, pos, k)
	got, err := readAll(t, second, smallBuf, nil)
	if err != nil {
		t.Fatalf("after Seek(%s), %s: Read after %s more: %s", describe(pos), after(k), records(len(got)), errText(err))
	}
	if d := diffSeq(s.eq, got, s.want[k:]); d != "" {
		t.Errorf("after Seek(%s), %s, want the last %s of Want: %s", describe(pos), after(k), records(len(s.want)-k), d)
	}
}

func (s *sourceCheck[E]) resumeResumed(t tester) {
	if len(s.want) < 2 {
		t.Skipf("needs 2 records in Want, has %d", len(s.want))
	}
	k := len(s.want) / 2
	first := s.openSrc(t)
	s.readHead(t, first, s.want[:k], "")
	pos := positionAfter(t, positionerOf(t, first), k)
	second := s.seekTo(t, s.c.Open, pos, k)
	s.readHead(t, second, s.want[k:k+1], "after Seek("+describe(pos)+")")
	pos2 := positionAfter(t, positionerOf(t, second), k+1)
	third := s.seekTo(t, s.c.Open, pos2, k+1)
	got, err := readAll(t, third, smallBuf, nil)
	if err != nil {
		t.Fatalf("after Seek(%s): Read after %s: %s", describe(pos2), records(len(got)), errText(err))
	}
	if d := diffSeq(s.eq, got, s.want[k+1:]); d != "" {
		t.Errorf("a source sought to %s (after %s) read one record and gave the position %s; a source sought there read other records than the %s after the first %s: %s",
			describe(pos), records(k), describe(pos2), records(len(s.want)-k-1), records(k+1), d)
	}
}

func (s *sourceCheck[E]) badPositions(t tester) {
	if len(s.c.BadPositions) == 0 {
		t.Skipf("SourceCase.BadPositions is empty")
	}
	for _, pos := range s.c.BadPositions {
		p := positionerOf(t, s.openSrc(t))
		if err := p.Seek(pos); err == nil {
			t.Errorf("Seek(%s) = nil; want an error for a malformed position", describe(pos))
		}
	}
}

func (s *sourceCheck[E]) malformed(t tester) {
	m := s.c.Malformed
	if m == nil {
		t.Skipf("SourceCase.Malformed is nil")
	}
	// readToError reads a new malformed source to its error and checks it.
	readToError := func(t tester, src weir.Source[E], want []E, where string) error {
		got, err := readAll(t, src, smallBuf, nil)
		if err == nil {
			t.Fatalf("%sread %s and io.EOF; want an error for the malformed record after %s", where, records(len(got)), records(len(want)))
		}
		if d := diffSeq(s.eq, got, want); d != "" {
			t.Errorf("%sbefore the error (%s): %s", where, errText(err), d)
		}
		if !strings.Contains(err.Error(), m.ErrContains) {
			t.Errorf("error %q does not contain %q; it must say where the malformed record is", err, m.ErrContains)
		}
		return err
	}
	t.Run("Read returns the records before it, then an error naming its position", func(t tester) {
		readToError(t, openSource(t, m.Open), m.Before, "")
	})
	t.Run("a Read after the error fails again, or reads on after a BadRecordError", func(t tester) {
		src := openSource(t, m.Open)
		var bad *weir.BadRecordError
		if errors.As(readToError(t, src, m.Before, ""), &bad) {
			got, err := readAll(t, src, smallBuf, nil)
			if err != nil {
				t.Fatalf("reading on after the BadRecordError: %s after %s", errText(err), records(len(got)))
			}
			if d := diffSeq(s.eq, got, m.After); d != "" {
				t.Errorf("reading on after the BadRecordError (the source has moved past the record): %s", d)
			}
			return
		}
		if n, err := read(t, t.Context(), src, make([]E, smallBuf)); n != 0 || err == nil || err == io.EOF {
			t.Errorf("Read after the malformed record's error = %d, %s; want 0 and an error: the engine may retry a Read, which must not pass over the record", n, errText(err))
		}
	})
	t.Run("a position taken at the error resumes at the malformed record", func(t tester) {
		first := openSource(t, m.Open)
		p := positionerOf(t, first)
		readToError(t, first, m.Before, "")
		pos := positionAfter(t, p, len(m.Before))
		if len(pos) == 0 {
			t.Skipf("Position before the first record is empty: the engine never seeks to it")
		}
		readToError(t, s.seekTo(t, m.Open, pos, len(m.Before)), nil, fmt.Sprintf("after Seek(%s), %s: ", describe(pos), after(len(m.Before))))
	})
}

func (s *sourceCheck[E]) closer(t tester) {
	if _, ok := s.sampled(t).(weir.Closer); !ok {
		t.Skipf("%T does not implement weir.Closer", s.sample)
	}
	t.Run("Close twice before the first Read", func(t tester) {
		s.openSrc(t).closeTwice(t)
	})
	t.Run("Close twice in the middle of the data", func(t tester) {
		src := s.openSrc(t)
		s.readHead(t, src, s.want[:(len(s.want)+1)/2], "")
		src.closeTwice(t)
	})
	t.Run("Close twice after io.EOF", func(t tester) {
		src := s.openSrc(t)
		if got, err := readAll(t, src, smallBuf, nil); err != nil {
			t.Fatalf("Read after %s: %s", records(len(got)), errText(err))
		}
		src.closeTwice(t)
	})
}
