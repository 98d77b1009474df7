package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/weir-etl/weir"
)

// readBufferSize is the read-ahead of the sources: big enough that reading a
// file costs few system calls, small enough not to matter next to a batch.
const readBufferSize = 64 << 10

// ctxCheckEvery is how many lines a Read handles between checks of its
// context: often enough to stop promptly, rarely enough to cost nothing.
const ctxCheckEvery = 1024

// JSONLSourceConfig configures a [JSONLSource]. The zero value is valid.
type JSONLSourceConfig struct {
	ReadOptions
}

// Validate reports an impossible value, naming the field.
func (c JSONLSourceConfig) Validate() error { return c.ReadOptions.validate("JSONLSourceConfig") }

// JSONLSource reads JSON Lines: one JSON value per line, decoded into E with
// encoding/json (so E's json tags apply). MongoDB Extended JSON wrappers, as
// mongoexport writes them in relaxed or canonical mode, are turned into
// plain values first, at any depth; see the table in this package's
// documentation. Blank lines are skipped; a UTF-8 byte order mark at the
// start is ignored; "\r\n" line ends are accepted.
//
// Reading streams: memory is bounded by the longest line (at most
// [ReadOptions.MaxLineBytes]) plus a 64 KiB buffer, whatever the size of
// the input. A malformed line makes Read return a [*weir.BadRecordError]
// wrapping a [*LineError] that names the line, and the next Read continues
// after it; or it is skipped in skip mode (see [ReadOptions.OnBadLine]).
//
// It implements weir.Positioner ([JSONLSource.Position],
// [JSONLSource.Seek]), so a run with weir's checkpoints resumes after the
// last line whose records were all loaded.
//
// Read must be called from one goroutine at a time (the engine does so);
// [JSONLSource.Line] and [JSONLSource.Skipped] may be called from any
// goroutine.
type JSONLSource[E any] struct {
	opts   ReadOptions
	lr     lineReader
	closer io.Closer // the file OpenJSONL opened, or nil
	plain  []byte    // reused buffer for lines rewritten from Extended JSON
	err    error     // sticky: io.EOF or the error that ended the read
	done   int       // last line accounted for: the checkpoint position
	badAt  int       // a bad line Read returned: accounted for by the next Read
	read   bool      // Read was called: Seek is too late
	seeked bool

	line    atomic.Int64
	skipped atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// NewJSONLSource returns a source reading JSON Lines from r. It does not
// close r: the caller owns it. It does not block; reading starts with the
// first Read.
func NewJSONLSource[E any](r io.Reader, cfg JSONLSourceConfig) (*JSONLSource[E], error) {
	if r == nil {
		return nil, errors.New("file: NewJSONLSource: nil io.Reader")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := cfg.ReadOptions.withDefaults()
	return &JSONLSource[E]{
		opts: opts,
		lr:   lineReader{br: bufio.NewReaderSize(r, readBufferSize), max: opts.MaxLineBytes},
	}, nil
}

// OpenJSONL opens the file at path and returns a source reading it; Close
// closes the file. cfg.Name defaults to path.
func OpenJSONL[E any](path string, cfg JSONLSourceConfig) (*JSONLSource[E], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("file: open JSON Lines: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = path
	}
	s, err := NewJSONLSource[E](f, cfg)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	s.closer = f
	return s, nil
}

// Read decodes up to len(buf) lines into buf. It returns io.EOF (with the
// last records, if any) at the end of the input. A malformed line is
// returned as a [*weir.BadRecordError] wrapping a [*LineError], together
// with the records decoded before it; the next Read continues after that
// line (see [ReadOptions.OnBadLine] for skip mode). Any other error (the
// reader's, a cancelled ctx) ends the read for good and is returned again
// by later calls. Read checks ctx every 1,024 lines. Cost: one
// json.Unmarshal per line, plus one pass over lines that contain `"$`.
func (s *JSONLSource[E]) Read(ctx context.Context, buf []E) (int, error) {
	s.read = true
	if s.badAt > 0 {
		s.done, s.badAt = s.badAt, 0 // the bad line the last Read returned is behind us
	}
	if s.err != nil {
		return 0, s.err
	}
	var zero E
	n := 0
	for i := 0; n < len(buf); i++ {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		text, tooLong, err := s.lr.next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("file: read %s after line %d: %w", s.label(), s.lr.line, err)
			}
			s.err = err
			return n, err
		}
		line := s.lr.line
		s.line.Store(int64(line))
		if line == 1 {
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		if tooLong {
			if err := s.bad(line, text, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, s.opts.MaxLineBytes)); err != nil {
				return n, err
			}
			s.done = line
			continue
		}
		if isBlank(text) {
			s.done = line
			continue
		}
		data := text
		if hasExtJSON(text) {
			s.plain = appendPlainJSON(s.plain[:0], text)
			data = s.plain
		}
		buf[n] = zero // a reused buffer may hold an old record: decode into a clean one
		if err := json.Unmarshal(data, &buf[n]); err != nil {
			buf[n] = zero
			if err := s.bad(line, text, err); err != nil {
				return n, err
			}
			s.done = line
			continue
		}
		s.done = line
		n++
	}
	return n, nil
}

// bad handles a malformed line; a non-nil error is for Read to return,
// and the next Read continues after the line.
func (s *JSONLSource[E]) bad(line int, text []byte, cause error) error {
	if err := s.opts.badLine(line, text, cause); err != nil {
		s.badAt = line
		return err
	}
	s.skipped.Add(1)
	return nil
}

func (s *JSONLSource[E]) label() string {
	if s.opts.Name == "" {
		return "JSON Lines"
	}
	return s.opts.Name
}

// Line returns the number of the last line consumed (decoded, skipped or
// blank), counted from 1; 0 before the first Read. Safe for concurrent use.
func (s *JSONLSource[E]) Line() int { return int(s.line.Load()) }

// Skipped returns how many malformed lines were skipped in skip mode. Safe
// for concurrent use.
func (s *JSONLSource[E]) Skipped() int64 { return s.skipped.Load() }

// Close closes the file opened by [OpenJSONL]; for a source built on a
// caller's io.Reader it only marks the source closed. Later Reads return
// [ErrClosed]. Close is idempotent: every call returns the first call's
// result. It must not be called concurrently with Read.
func (s *JSONLSource[E]) Close(context.Context) error {
	s.closeOnce.Do(func() {
		if s.err == nil || s.err == io.EOF {
			s.err = ErrClosed
		}
		if s.closer != nil {
			s.closeErr = s.closer.Close()
		}
	})
	return s.closeErr
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

// lineReader splits input into lines in bounded memory.
type lineReader struct {
	br   *bufio.Reader
	long []byte // holds a line longer than br's buffer
	max  int
	line int // lines returned so far
}

// next returns the next line without its "\n" or "\r\n". tooLong reports a
// line over max bytes; text is then its first max bytes and the rest was
// discarded. text is valid until the next call. err is io.EOF at the end,
// or the reader's error.
func (r *lineReader) next() (text []byte, tooLong bool, err error) {
	frag, err := r.br.ReadSlice('\n')
	if err == nil || (err == io.EOF && len(frag) > 0) {
		// The common case: the whole line sits in the buffer.
		r.line++
		text = trimEOL(frag)
		if len(text) > r.max {
			return text[:r.max], true, nil
		}
		return text, false, nil
	}
	if err != bufio.ErrBufferFull {
		return nil, false, err
	}
	// A line longer than the buffer: gather it, keeping at most max+2
	// bytes (room for "\r\n") so memory stays bounded, and discarding
	// the rest.
	keep := r.max + 2
	r.long = r.long[:0]
	for {
		if room := keep - len(r.long); room >= len(frag) {
			r.long = append(r.long, frag...)
		} else {
			r.long = append(r.long, frag[:room]...)
			tooLong = true
		}
		if err != bufio.ErrBufferFull {
			break // the line ended: "\n" found, or end of input
		}
		frag, err = r.br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return nil, false, err
		}
	}
	r.line++
	text = r.long
	if !tooLong {
		text = trimEOL(text)
	}
	if tooLong || len(text) > r.max {
		return text[:min(len(text), r.max)], true, nil
	}
	return text, false, nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// JSONLSinkConfig configures a [JSONLSink]. The zero value is valid.
type JSONLSinkConfig struct {
	// BufferSize is the size of the write buffer. 0 means 64 KiB.
	BufferSize int
	// FlushEveryWrite makes each Write flush the buffer to the underlying
	// writer (for a file: to the operating system) before it returns, so
	// the lines of a Write that succeeded survive a crash of the process
	// (not of the machine: nothing is synced until Close). It costs one
	// write system call per Write. The dead-letter sinks
	// ([CreateDeadLetter], [NewDeadLetter]) set it.
	FlushEveryWrite bool
}

// Validate reports an impossible value, naming the field.
func (c JSONLSinkConfig) Validate() error {
	return validateBufferSize("JSONLSinkConfig", c.BufferSize)
}

// JSONLSink writes records as JSON Lines: each record is encoded with
// json.Marshal semantics (HTML characters escaped) followed by "\n".
//
// Write may be called from many goroutines at once: records are encoded
// outside the lock, in parallel, and each batch is then appended under a
// mutex, so a batch's lines are contiguous and in batch order (batches
// themselves land in the order their Writes take the lock). Output is
// buffered; [JSONLSink.Flush] or [JSONLSink.Close] pushes it out.
type JSONLSink[T any] struct {
	out  *lockedWriter
	pool sync.Pool // *bytes.Buffer
	// fallback, if set, gives a stand-in to encode for a record that does
	// not encode (rec is a *T); nil means the Write fails.
	fallback func(rec any, err error) any
}

// NewJSONLSink returns a sink writing to w. Close flushes but does not close
// w.
func NewJSONLSink[T any](w io.Writer, cfg JSONLSinkConfig) (*JSONLSink[T], error) {
	if w == nil {
		return nil, errors.New("file: NewJSONLSink: nil io.Writer")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &JSONLSink[T]{out: newLockedWriter(w, nil, cfg.BufferSize, cfg.FlushEveryWrite, "JSON Lines")}, nil
}

// CreateJSONL creates (or truncates) the file at path and returns a sink
// writing to it; Close flushes, syncs and closes the file.
func CreateJSONL[T any](path string, cfg JSONLSinkConfig) (*JSONLSink[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("file: create JSON Lines: %w", err)
	}
	return &JSONLSink[T]{out: newLockedWriter(f, f, cfg.BufferSize, cfg.FlushEveryWrite, path)}, nil
}

// Write encodes batch, one line per record, and appends the lines to the
// output as one contiguous block. A record that fails to encode (a channel,
// a NaN, a failing MarshalJSON) fails the Write with a [*weir.RecordError]
// naming it, and nothing of the batch is written. With
// [JSONLSinkConfig.FlushEveryWrite], the lines are flushed to the underlying
// writer before Write returns. Safe for concurrent use; it blocks while
// another Write holds the lock or the buffer is being flushed.
func (s *JSONLSink[T]) Write(ctx context.Context, batch []T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, _ := s.pool.Get().(*bytes.Buffer)
	if b == nil {
		b = new(bytes.Buffer)
	}
	defer func() {
		if b.Cap() <= 4<<20 { // do not hoard the buffer of an outsized batch
			b.Reset()
			s.pool.Put(b)
		}
	}()
	b.Reset()
	enc := json.NewEncoder(b) // Encode = Marshal + "\n", HTML escaped like Marshal
	for i := range batch {
		// Encode writes nothing to b when it fails: a failed record
		// leaves no partial line.
		if err := enc.Encode(&batch[i]); err != nil {
			if s.fallback != nil {
				if alt := s.fallback(&batch[i], err); alt != nil && enc.Encode(alt) == nil {
					continue
				}
			}
			return &weir.RecordError{Index: i, Err: fmt.Errorf("encode JSON: %w", err)}
		}
	}
	return s.out.write(b.Bytes())
}

// Flush writes buffered lines to the underlying writer. Safe for concurrent
// use.
func (s *JSONLSink[T]) Flush() error { return s.out.flush() }

// Close flushes the buffer and, for a sink made by [CreateJSONL], syncs and
// closes the file. Later Writes return [ErrClosed]. Idempotent: every call
// returns the first call's result. Call it after the last Write returned.
func (s *JSONLSink[T]) Close(context.Context) error { return s.out.close() }
