package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/weir-etl/weir"
)

// CSVSourceConfig configures a [CSVSource]. Decode is required.
type CSVSourceConfig[E any] struct {
	ReadOptions
	// Decode turns one record into an E. It is called from the goroutine
	// calling Read, with a [Record] valid only during the call. An error
	// makes the record a malformed line (see [ReadOptions.OnBadLine]).
	Decode func(rec Record) (E, error)
	// Columns lists the columns Decode needs. The header must hold each of
	// them, which is checked when the header is read, before any record is
	// decoded. Optional: without it a missing column is found by the first
	// [Record.Get] that asks for it.
	Columns []string
	// Comma is the field delimiter. 0 means ','.
	Comma rune
	// Comment, if not 0, starts comment lines, which are skipped.
	Comment rune
	// LazyQuotes and TrimLeadingSpace are passed to [csv.Reader].
	LazyQuotes       bool
	TrimLeadingSpace bool
}

// Validate reports every impossible value, each naming its field.
func (c CSVSourceConfig[E]) Validate() error {
	var errs []error
	if err := c.ReadOptions.validate("CSVSourceConfig"); err != nil {
		errs = append(errs, err)
	}
	if c.Decode == nil {
		errs = append(errs, errors.New("file: CSVSourceConfig.Decode is required"))
	}
	errs = append(errs, validateDelims("CSVSourceConfig", c.Comma, c.Comment))
	seen := make(map[string]bool, len(c.Columns))
	for _, col := range c.Columns {
		if seen[col] {
			errs = append(errs, fmt.Errorf("file: CSVSourceConfig.Columns lists %q twice", col))
		}
		seen[col] = true
	}
	return errors.Join(errs...)
}

func validateDelims(prefix string, comma, comment rune) error {
	bad := func(r rune) bool {
		return r == '\r' || r == '\n' || r == '"' || r == utf8.RuneError || !utf8.ValidRune(r)
	}
	var errs []error
	if comma != 0 && bad(comma) {
		errs = append(errs, fmt.Errorf("file: %s.Comma %q is not a valid delimiter", prefix, comma))
	}
	if comment != 0 && (bad(comment) || comment == comma || (comma == 0 && comment == ',')) {
		errs = append(errs, fmt.Errorf("file: %s.Comment %q is not valid (nor may it equal Comma)", prefix, comment))
	}
	return errors.Join(errs...)
}

// Record is one CSV record as [CSVSourceConfig.Decode] sees it: fields by column
// name. It is only valid during the Decode call; the strings it returns may
// be kept.
type Record struct{ r *csvRow }

type csvRow struct {
	fields  []string
	cols    map[string]int
	line    int
	unknown string // first column asked for that the header lacks
}

// Get returns the field in column name. Asking for a column the header
// lacks returns "" and ends the read with an error wrapping
// [ErrUnknownColumn] once Decode returns: that is a mistake in the program
// or the file, not in one record, so skip mode does not skip it. Cost: one
// map lookup.
func (r Record) Get(name string) string {
	if i, ok := r.r.cols[name]; ok {
		return r.r.fields[i]
	}
	if r.r.unknown == "" {
		r.r.unknown = name
	}
	return ""
}

// Lookup returns the field in column name and whether the header has that
// column. Unlike [Record.Get], a missing column is not an error.
func (r Record) Lookup(name string) (string, bool) {
	i, ok := r.r.cols[name]
	if !ok {
		return "", false
	}
	return r.r.fields[i], true
}

// Len returns the number of fields.
func (r Record) Len() int { return len(r.r.fields) }

// Field returns the i-th field, in header order.
func (r Record) Field(i int) string { return r.r.fields[i] }

// Line returns the line the record starts on.
func (r Record) Line() int { return r.r.line }

// CSVSource reads CSV with a header row, decoding each record with
// [CSVSourceConfig.Decode]. Quoted fields may hold the delimiter, quotes ("") and
// line breaks. Every record must have as many fields as the header.
// A UTF-8 byte order mark before the header is ignored.
//
// Reading streams: memory is bounded by the longest record (about
// [ReadOptions.MaxLineBytes]) plus 68 KiB of buffers. A malformed record
// (wrong field count, bad quoting, rejected by Decode) makes Read return a
// [*weir.BadRecordError] (with the record's raw text) wrapping a
// [*LineError] naming the line it starts on, and the next Read continues
// after it; or it is skipped in skip mode (see [ReadOptions.OnBadLine],
// which receives the record's raw text). A bad header always ends the
// read, and so does a record the parser cannot get past (over
// MaxLineBytes: in practice an unterminated quote).
//
// It implements weir.Positioner ([CSVSource.Position], [CSVSource.Seek]),
// so a run with weir's checkpoints resumes after the last record whose
// predecessors were all loaded.
//
// Read must be called from one goroutine at a time; [CSVSource.Line] and
// [CSVSource.Skipped] may be called from any goroutine.
type CSVSource[E any] struct {
	cfg    CSVSourceConfig[E]
	in     *bufio.Reader
	rec    *recorder
	cr     *csv.Reader
	closer io.Closer

	header  []string
	row     csvRow
	endLine int   // physical lines consumed so far
	done    int   // last line accounted for: the checkpoint position
	badEnd  int   // a bad record Read returned ends here: accounted for by the next Read
	err     error // sticky: io.EOF or the error that ended the read
	hdrDone bool
	read    bool // Read was called: Seek is too late
	seeked  bool

	line    atomic.Int64
	skipped atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// NewCSVSource returns a source reading CSV from r. It does not close r.
// It does not block: the header is read by the first Read (or
// [CSVSource.Header]).
func NewCSVSource[E any](r io.Reader, cfg CSVSourceConfig[E]) (*CSVSource[E], error) {
	if r == nil {
		return nil, errors.New("file: NewCSVSource: nil io.Reader")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.ReadOptions = cfg.ReadOptions.withDefaults()
	// input → in (64 KiB reads, BOM check) → rec (keeps the current
	// record's bytes) → csv.Reader (with its own 4 KiB bufio.Reader).
	in := bufio.NewReaderSize(r, readBufferSize)
	rec := &recorder{r: in, limit: cfg.MaxLineBytes + csvReadAhead}
	cr := csv.NewReader(rec)
	if cfg.Comma != 0 {
		cr.Comma = cfg.Comma
	}
	cr.Comment = cfg.Comment
	cr.LazyQuotes = cfg.LazyQuotes
	cr.TrimLeadingSpace = cfg.TrimLeadingSpace
	cr.ReuseRecord = true // the slice is reused; the strings are fresh per record
	return &CSVSource[E]{cfg: cfg, in: in, rec: rec, cr: cr}, nil
}

// OpenCSV opens the file at path and returns a source reading it; Close
// closes the file. cfg.Name defaults to path.
func OpenCSV[E any](path string, cfg CSVSourceConfig[E]) (*CSVSource[E], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("file: open CSV: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = path
	}
	s, err := NewCSVSource(f, cfg)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	s.closer = f
	return s, nil
}

// Header reads the header row if that has not happened yet (blocking on
// the input) and returns it. The error is the one the first Read would
// return: a missing header, a duplicate column name, a column from
// [CSVSourceConfig.Columns] that the header lacks.
func (s *CSVSource[E]) Header() ([]string, error) {
	if !s.hdrDone {
		s.hdrDone = true
		if err := s.readHeader(); err != nil {
			s.err = err
		}
	}
	if s.header == nil {
		return nil, s.err
	}
	return s.header, nil
}

func (s *CSVSource[E]) readHeader() error {
	if b, _ := s.in.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		s.in.Discard(len(utf8BOM)) // before the parser: a BOM before a quote is not a bare quote
	}
	fields, err := s.cr.Read()
	s.consume()
	switch {
	case err == io.EOF:
		return &LineError{Name: s.cfg.Name, Line: 1, Err: errors.New("no header row: the input is empty")}
	case err != nil:
		return s.fatal(err, 0)
	}
	line, _ := s.cr.FieldPos(0)
	hdr := make([]string, len(fields))
	copy(hdr, fields)
	cols := make(map[string]int, len(hdr))
	for i, h := range hdr {
		if _, dup := cols[h]; dup {
			return &LineError{Name: s.cfg.Name, Line: line, Err: fmt.Errorf("header: column %q appears twice", h)}
		}
		cols[h] = i
	}
	var missing []string
	for _, c := range s.cfg.Columns {
		if _, ok := cols[c]; !ok {
			missing = append(missing, fmt.Sprintf("%q", c))
		}
	}
	if len(missing) > 0 {
		return &LineError{Name: s.cfg.Name, Line: line,
			Err: fmt.Errorf("header lacks column %s (CSVSourceConfig.Columns); it has %q", strings.Join(missing, ", "), hdr)}
	}
	s.header = hdr
	s.row.cols = cols
	s.done = s.endLine
	return nil
}

// Read decodes up to len(buf) records into buf. It returns io.EOF (with
// the last records, if any) at the end of the input. A malformed record is
// returned as a [*weir.BadRecordError] wrapping a [*LineError], after the
// records before it, and the next Read continues after it. Any other error
// ends the read for good and is returned again by later calls. Read checks
// ctx every 1,024 records. Cost: encoding/csv's parse, one more copy of the
// input bytes (kept so a bad record's raw text can be reported), and Decode.
func (s *CSVSource[E]) Read(ctx context.Context, buf []E) (int, error) {
	s.read = true
	if s.badEnd > 0 {
		s.done, s.badEnd = s.badEnd, 0 // the bad record the last Read returned is behind us
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if _, err := s.Header(); err != nil {
		return 0, err
	}
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	for i := 0; n < len(buf); i++ {
		if i > 0 && i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		prevEnd := s.endLine
		fields, err := s.cr.Read()
		raw := s.consume()
		if err == io.EOF {
			s.err = io.EOF
			return n, io.EOF
		}
		var line int
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			line = pe.StartLine
		case err != nil:
			s.err = s.fatal(err, prevEnd)
			return n, s.err
		default:
			line, _ = s.cr.FieldPos(0)
		}
		if err != nil {
			// Wrong field count, bad quoting: the parser has moved past
			// the record, so it can be skipped.
			if err := s.bad(line, rawRecord(raw, line-prevEnd-1), pe.Err); err != nil {
				return n, err
			}
			s.done = s.endLine
			continue
		}
		s.row.fields, s.row.line, s.row.unknown = fields, line, ""
		v, derr := s.cfg.Decode(Record{&s.row})
		if s.row.unknown != "" {
			s.err = &LineError{Name: s.cfg.Name, Line: line,
				Err: fmt.Errorf("Decode asked for %w %q; the header has %q", ErrUnknownColumn, s.row.unknown, s.header)}
			return n, s.err
		}
		if derr != nil {
			if err := s.bad(line, rawRecord(raw, line-prevEnd-1), derr); err != nil {
				return n, err
			}
			s.done = s.endLine
			continue
		}
		buf[n] = v
		s.done = s.endLine
		n++
	}
	return n, nil
}

// consume takes the raw bytes of the record the csv.Reader just read (or
// tried to) and advances the line count past them.
func (s *CSVSource[E]) consume() []byte {
	raw := s.rec.take(s.cr.InputOffset())
	s.endLine += bytes.Count(raw, []byte{'\n'})
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		s.endLine++ // the last line, without a line break
	}
	s.line.Store(int64(s.endLine))
	return raw
}

// fatal wraps an error the parser cannot recover from, met after line
// prevEnd.
func (s *CSVSource[E]) fatal(err error, prevEnd int) error {
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return &LineError{Name: s.cfg.Name, Line: pe.StartLine, Err: pe.Err}
	case errors.Is(err, ErrLineTooLong):
		return &LineError{Name: s.cfg.Name, Line: prevEnd + 1, Err: err}
	}
	name := s.cfg.Name
	if name == "" {
		name = "CSV"
	}
	return fmt.Errorf("file: read %s after line %d: %w", name, prevEnd, err)
}

// bad handles a malformed record; a non-nil error is for Read to return,
// and the next Read continues after the record.
func (s *CSVSource[E]) bad(line int, text []byte, cause error) error {
	if err := s.cfg.badLine(line, text, cause); err != nil {
		s.badEnd = s.endLine
		return err
	}
	s.skipped.Add(1)
	return nil
}

// rawRecord drops the skip lines (blank lines and comments the parser passed
// over) before a record's raw text, and its final line break.
func rawRecord(raw []byte, skip int) []byte {
	for ; skip > 0; skip-- {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			break
		}
		raw = raw[i+1:]
	}
	return trimEOL(raw)
}

// Line returns the last line consumed, counted from 1: the line the last
// record read or skipped ends on. Safe for concurrent use.
func (s *CSVSource[E]) Line() int { return int(s.line.Load()) }

// Skipped returns how many malformed records were skipped in skip mode.
// Safe for concurrent use.
func (s *CSVSource[E]) Skipped() int64 { return s.skipped.Load() }

// Close closes the file opened by [OpenCSV]; for a source built on a
// caller's io.Reader it only marks the source closed. Later Reads return
// [ErrClosed]. Idempotent; must not be called concurrently with Read.
func (s *CSVSource[E]) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.hdrDone = true
		if s.err == nil || s.err == io.EOF {
			s.err = ErrClosed
		}
		if s.closer != nil {
			s.closeErr = s.closer.Close()
		}
	})
	return s.closeErr
}

// csvReadAhead is the buffer encoding/csv puts on the reader it is given:
// how far past the current record the recorder may have been read.
const csvReadAhead = 4096

// recorder sits between the input and the csv.Reader and keeps the bytes
// of the record being parsed, so a bad record can be reported verbatim and
// an endless one (an unterminated quote) stopped at the limit.
type recorder struct {
	r     io.Reader
	buf   []byte // input from offset base on
	base  int64  // input offset of buf[0]
	mark  int    // buf[mark:] is the record being parsed plus read-ahead
	limit int    // most bytes held past mark
}

func (rc *recorder) Read(p []byte) (int, error) {
	if len(rc.buf)-rc.mark > rc.limit {
		return 0, fmt.Errorf("%w: a record of more than %d bytes (CSVSourceConfig.MaxLineBytes)", ErrLineTooLong, rc.limit-csvReadAhead)
	}
	if rc.mark > 0 && len(rc.buf)+len(p) > cap(rc.buf) {
		// Drop the consumed bytes before growing: the buffer stays the
		// size of one record plus read-ahead.
		n := copy(rc.buf, rc.buf[rc.mark:])
		rc.buf = rc.buf[:n]
		rc.base += int64(rc.mark)
		rc.mark = 0
	}
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

// take returns the bytes from the mark up to input offset end and moves the
// mark there. The slice is valid until the next Read.
func (rc *recorder) take(end int64) []byte {
	i := int(end - rc.base)
	if i < rc.mark || i > len(rc.buf) {
		return nil
	}
	raw := rc.buf[rc.mark:i]
	rc.mark = i
	return raw
}

// CSVSinkConfig configures a [CSVSink]. Header and Encode are required.
type CSVSinkConfig[T any] struct {
	// Header is written as the first row.
	Header []string
	// Encode appends rec's fields, in Header order, to row and returns it
	// (row comes empty, with capacity to reuse). It may be called from
	// several goroutines at once.
	Encode func(rec T, row []string) []string
	// Comma is the field delimiter. 0 means ','.
	Comma rune
	// UseCRLF ends rows with "\r\n" instead of "\n".
	UseCRLF bool
	// BufferSize is the size of the write buffer. 0 means 64 KiB.
	BufferSize int
}

// Validate reports every impossible value, each naming its field.
func (c CSVSinkConfig[T]) Validate() error {
	var errs []error
	if len(c.Header) == 0 {
		errs = append(errs, errors.New("file: CSVSinkConfig.Header is required"))
	}
	if c.Encode == nil {
		errs = append(errs, errors.New("file: CSVSinkConfig.Encode is required"))
	}
	errs = append(errs, validateDelims("CSVSinkConfig", c.Comma, 0),
		validateBufferSize("CSVSinkConfig", c.BufferSize))
	return errors.Join(errs...)
}

// CSVSink writes records as CSV rows after a header row. Fields are quoted
// when needed (delimiter, quote, line break, leading space), so any string
// survives a round trip through [CSVSource].
//
// Write may be called from many goroutines at once: rows are encoded
// outside the lock, then each batch is appended under a mutex, so a batch's
// rows are contiguous and in batch order. Output is buffered;
// [CSVSink.Flush] or [CSVSink.Close] pushes it out.
type CSVSink[T any] struct {
	cfg  CSVSinkConfig[T]
	out  *lockedWriter
	pool sync.Pool // *csvEncoder
}

type csvEncoder struct {
	buf bytes.Buffer
	w   *csv.Writer
	row []string
}

// NewCSVSink returns a sink writing to w. The header goes into the buffer
// at once. Close flushes but does not close w.
func NewCSVSink[T any](w io.Writer, cfg CSVSinkConfig[T]) (*CSVSink[T], error) {
	if w == nil {
		return nil, errors.New("file: NewCSVSink: nil io.Writer")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newCSVSink(newLockedWriter(w, nil, cfg.BufferSize, false, "CSV"), cfg)
}

// CreateCSV creates (or truncates) the file at path and returns a sink
// writing to it; Close flushes, syncs and closes the file.
func CreateCSV[T any](path string, cfg CSVSinkConfig[T]) (*CSVSink[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("file: create CSV: %w", err)
	}
	s, err := newCSVSink(newLockedWriter(f, f, cfg.BufferSize, false, path), cfg)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return s, nil
}

func newCSVSink[T any](out *lockedWriter, cfg CSVSinkConfig[T]) (*CSVSink[T], error) {
	s := &CSVSink[T]{cfg: cfg, out: out}
	e := s.encoder()
	defer s.pool.Put(e)
	if err := e.write(cfg.Header, cfg.UseCRLF); err != nil {
		return nil, fmt.Errorf("file: CSV header: %w", err)
	}
	e.w.Flush()
	if err := out.write(e.buf.Bytes()); err != nil {
		return nil, err
	}
	e.buf.Reset()
	return s, nil
}

// write writes one row.
func (e *csvEncoder) write(row []string, crlf bool) error {
	if len(row) == 1 && row[0] == "" {
		// csv.Writer writes a lone empty field as an empty line, which
		// readers skip: quote it so the row survives.
		e.w.Flush()
		if crlf {
			e.buf.WriteString("\"\"\r\n")
		} else {
			e.buf.WriteString("\"\"\n")
		}
		return e.w.Error()
	}
	return e.w.Write(row)
}

func (s *CSVSink[T]) encoder() *csvEncoder {
	if e, ok := s.pool.Get().(*csvEncoder); ok {
		return e
	}
	e := &csvEncoder{row: make([]string, 0, len(s.cfg.Header))}
	e.w = csv.NewWriter(&e.buf)
	if s.cfg.Comma != 0 {
		e.w.Comma = s.cfg.Comma
	}
	e.w.UseCRLF = s.cfg.UseCRLF
	return e
}

// Write encodes batch, one row per record, and appends the rows to the
// output as one block. A record whose Encode returns the wrong number of
// fields fails the Write with a [*weir.RecordError] naming it, and nothing of
// the batch is written. Safe for concurrent use; it blocks while another
// Write holds the lock or the buffer is being flushed.
func (s *CSVSink[T]) Write(ctx context.Context, batch []T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := s.encoder()
	ok := false
	defer func() {
		// A failed encoder may hold rows in the csv.Writer's own buffer:
		// drop it. So is the buffer of an outsized batch, not to hoard it.
		if ok && e.buf.Cap() <= 4<<20 {
			e.buf.Reset()
			s.pool.Put(e)
		}
	}()
	e.buf.Reset()
	for i := range batch {
		e.row = s.cfg.Encode(batch[i], e.row[:0])
		if len(e.row) != len(s.cfg.Header) {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("CSV Encode returned %d fields for a header of %d", len(e.row), len(s.cfg.Header))}
		}
		if err := e.write(e.row, s.cfg.UseCRLF); err != nil {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("encode CSV: %w", err)}
		}
	}
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return fmt.Errorf("encode CSV: %w", err)
	}
	ok = true
	return s.out.write(e.buf.Bytes())
}

// Flush writes buffered rows to the underlying writer. Safe for concurrent
// use.
func (s *CSVSink[T]) Flush() error { return s.out.flush() }

// Close flushes the buffer and, for a sink made by [CreateCSV], syncs and
// closes the file. Later Writes return [ErrClosed]. Idempotent: every call
// returns the first call's result. Call it after the last Write returned.
func (s *CSVSink[T]) Close(context.Context) error { return s.out.close() }
