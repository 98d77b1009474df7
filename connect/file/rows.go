package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// RowSource reads CSV, TSV, JSON Lines or a JSON array of objects into
// generic rows ([connect.Row]) of raw values, for `weir copy`: a file, a
// glob of files with the same columns, each maybe gzipped, or a reader.
//
// Values are raw, for a schema.Converter to type. A CSV field is
// connect.Text, or connect.Null when unquoted and equal to
// [RowSourceConfig.Null] (by default: empty); a quoted empty field is an
// empty string. A JSON string is Text, a number is connect.Numeric with
// its literal text ("1e3", "12.50"), true and false are Bool, null and a
// missing key are Null, an object or array is connect.JSON (compact text).
// Each row's Pos is the file's path and the line the record starts on.
//
// Columns are known when the constructor returns: it reads ahead up to
// [RowSourceConfig.SampleSize] records ([RowSource.Sample]), which Read then
// returns first. A CSV file's columns are its header. A JSON input's are the
// keys of the sampled records in first-seen order; a later record with a
// key outside them is a malformed line (raise SampleSize). See the package
// documentation for the rules of each format.
//
// Reading streams: memory is bounded by the longest record
// ([ReadOptions.MaxLineBytes]), the sample and the caller's batch, never
// by the file. A malformed record is handed to [ReadOptions.OnBadLine] and
// skipped, or returned by Read as a [*LineError] after the good records
// before it; the next Read goes on after it. Errors that leave no next
// record to find (an unreadable file, a broken JSON array, a CSV record
// over MaxLineBytes) end the read.
//
// It implements weir.Positioner and weir.Closer. Read, Position and Seek
// are for one goroutine at a time.
type RowSource struct {
	cfg    RowSourceConfig
	files  []string  // the paths to read, or [cfg.Name] for a reader
	format Format    // resolved: never FormatAuto
	rd     io.Reader // NewRowSource's reader; nil for OpenRows
	cur    *rowFile  // the file being read, or nil
	idx    int       // index in files of cur, or of the next file to open
	cols   *columns
	sample []connect.Row
	queue  []sampled // what the read-ahead found that Read has not returned
	done   rowPos    // position after the last record accounted for
	next   *rowPos   // after a bad record Read returned: done moves there on the next Read
	err    error     // sticky: io.EOF, an error that ended the read, ErrClosed
	read   bool      // Read was called: Seek is too late
	seeked bool

	progress progress // for Progress

	closeOnce sync.Once
	closeErr  error
}

var (
	_ weir.Source[connect.Row] = (*RowSource)(nil)
	_ weir.Positioner          = (*RowSource)(nil)
	_ weir.Closer              = (*RowSource)(nil)
)

// sampled is one thing the read-ahead met, in input order.
type sampled struct {
	row   connect.Row
	kind  sampleKind
	err   error  // sampleBad, sampleStop
	after rowPos // sampleRow, sampleSkip, sampleBad: the position after it
}

type sampleKind uint8

const (
	sampleRow  sampleKind = iota // a good record
	sampleSkip                   // a bad record OnBadLine skipped
	sampleBad                    // a bad record: Read returns err, then goes on
	sampleStop                   // io.EOF or an error that ends the read
)

// OpenRows opens the file at path, or the files a glob matches (any of
// "*?[" makes it a glob: filepath.Glob, sorted), and reads ahead the
// sample. A glob matching nothing is an error naming it; the files of a
// glob must have one format and, for CSV, equal headers (an error names
// both files otherwise; every header is checked here, before any record is
// returned). A file is gzip-decompressed when its name ends in .gz or it
// starts with gzip's magic bytes. Each row's Pos.Name is its file's path
// ([ReadOptions.Name] is not used). Close closes the open file.
//
// It blocks while it reads the headers and the sample. It does not handle
// "-" (standard input): use [NewRowSource].
func OpenRows(pattern string, cfg RowSourceConfig) (*RowSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	files, format, err := expand(pattern, cfg.Format)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &RowSource{cfg: cfg, files: files, format: format, cols: newColumns(cfg.SampleSize), done: rowPos{File: files[0]}}
	s.progress.measure(files)
	if err := s.openAt(0); err != nil {
		return nil, err
	}
	if (format == FormatCSV || format == FormatTSV) && !cfg.NoHeader {
		if err := s.checkHeaders(); err != nil {
			return nil, errors.Join(err, s.Close(context.Background()))
		}
	}
	s.readSample()
	return s, nil
}

// NewRowSource returns a source reading r, gzip-decompressed if it starts
// with gzip's magic bytes, and reads ahead the sample. It does not close
// r. Rows' Pos.Name is [ReadOptions.Name]. It blocks while it reads the
// sample.
func NewRowSource(r io.Reader, cfg RowSourceConfig) (*RowSource, error) {
	if r == nil {
		return nil, errors.New("file: NewRowSource: nil io.Reader")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	format := cfg.Format
	if format == FormatAuto {
		format, _ = formatOf(cfg.Name) // FormatAuto left: sniffed when the input is opened
	}
	s := &RowSource{cfg: cfg, files: []string{cfg.Name}, format: format, rd: r, cols: newColumns(cfg.SampleSize),
		done: rowPos{File: cfg.Name}}
	f, err := s.newRowFile(r, nil, cfg.Name)
	if err != nil {
		return nil, err
	}
	s.cur = f
	s.readSample()
	return s, nil
}

// openAt opens files[i] as the current file.
func (s *RowSource) openAt(i int) error {
	f, err := s.openFile(s.files[i])
	if err != nil {
		return err
	}
	s.cur, s.idx = f, i
	return nil
}

// checkHeaders reads the header of every file after the first and
// compares it with the first's.
func (s *RowSource) checkHeaders() error {
	for _, path := range s.files[1:] {
		f, err := s.openFile(path)
		if err != nil {
			return err
		}
		if err := f.close(); err != nil {
			return fmt.Errorf("file: close %s: %w", path, err)
		}
	}
	return nil
}

// readSample reads ahead up to SampleSize records into the queue, then
// fixes the columns.
func (s *RowSource) readSample() {
	var good []int // indexes in queue of the rows
	for len(good) < s.cfg.SampleSize {
		vals, line, err := s.pull(nil)
		bad, isBad := err.(*badRecord)
		switch {
		case err == nil:
			good = append(good, len(s.queue))
			s.queue = append(s.queue, sampled{row: s.row(vals, line), after: s.pos()})
		case isBad:
			e := s.badLine(bad)
			kind := sampleBad
			if e == nil {
				kind = sampleSkip
			}
			s.queue = append(s.queue, sampled{kind: kind, err: e, after: s.pos()})
		default:
			s.queue = append(s.queue, sampled{kind: sampleStop, err: err})
		}
		if err != nil && !isBad {
			break
		}
	}
	s.cols.freeze()
	// JSON rows sampled before a column was found lack it: give every row
	// the full width, in one slice.
	w := len(s.cols.names)
	all := make([]connect.Value, len(good)*w)
	s.sample = make([]connect.Row, len(good))
	for k, qi := range good {
		row := all[k*w : (k+1)*w : (k+1)*w]
		copy(row, s.queue[qi].row.Values)
		s.queue[qi].row.Values = row
		s.sample[k] = s.queue[qi].row
	}
}

// Columns returns the column names, in order: the header of a CSV file,
// the keys of the sampled records of a JSON input. The slice must not be
// modified.
func (s *RowSource) Columns() []string { return s.cols.names }

// Sample returns the records read ahead by the constructor (at most
// [RowSourceConfig.SampleSize], without the malformed ones), for a schema
// to be inferred from. Read returns them too. The rows must not be
// modified.
func (s *RowSource) Sample() []connect.Row { return s.sample }

// Read reads up to len(buf) rows into buf, first those of the sample. It
// returns io.EOF (with the last rows, if any) at the end of the last file.
// A malformed record not skipped by [ReadOptions.OnBadLine] is returned as
// the error (a [*LineError]) after the rows before it; the next Read goes
// on after it. Any other error ends the read and is returned again by
// later calls. Read checks ctx every 1,024 records. Cost: the rows of one
// call share one slice of values; a CSV record costs one string for all
// its fields.
func (s *RowSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	s.read = true
	defer s.noteProgress()
	if s.next != nil {
		s.done, s.next = *s.next, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(buf) && len(s.queue) > 0 {
		e := s.queue[0]
		s.queue = s.queue[1:]
		switch e.kind {
		case sampleRow:
			buf[n], s.done = e.row, e.after
			n++
		case sampleSkip:
			s.done = e.after
		case sampleBad:
			s.next = &e.after
			return n, e.err
		case sampleStop:
			s.err = e.err
			return n, e.err
		}
	}
	w := len(s.cols.names)
	var vals []connect.Value
	used := 0
	for i := 0; n < len(buf); i++ {
		if i > 0 && i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if vals == nil {
			vals = make([]connect.Value, (len(buf)-n)*w)
		}
		row, line, err := s.pull(vals[used:used:min(used+w, len(vals))])
		bad, isBad := err.(*badRecord) // the decoders return it unwrapped
		switch {
		case err == nil:
			buf[n] = s.row(row, line)
			s.done = s.pos()
			used += w
			n++
		case isBad:
			pos := s.pos()
			if e := s.badLine(bad); e != nil {
				s.next = &pos
				return n, e
			}
			s.done = pos
		default:
			s.err = err
			return n, err
		}
	}
	return n, nil
}

// pull reads the next record of the files, opening the next file at the
// end of one. It returns io.EOF after the last, a *badRecord for a
// malformed record, and any other error for one that ends the read.
func (s *RowSource) pull(dst []connect.Value) ([]connect.Value, int, error) {
	for {
		if s.cur == nil {
			if s.rd != nil || s.idx >= len(s.files) {
				return dst, 0, io.EOF
			}
			if err := s.openAt(s.idx); err != nil {
				return dst, 0, err
			}
		}
		vals, line, err := s.cur.dec.next(dst)
		if err != io.EOF {
			return vals, line, err
		}
		if err := s.cur.close(); err != nil {
			return dst, 0, fmt.Errorf("file: close %s: %w", s.cur.name, err)
		}
		s.cur = nil
		s.idx++
	}
}

func (s *RowSource) row(vals []connect.Value, line int) connect.Row {
	return connect.Row{Values: vals, Pos: connect.Pos{Name: s.cur.name, Line: int64(line)}}
}

// badLine hands a malformed record to ReadOptions.badLine, named after
// its file.
func (s *RowSource) badLine(b *badRecord) error {
	o := s.cfg.ReadOptions
	o.Name = s.cur.name
	return o.badLine(b.line, b.text, b.err)
}

// Close closes the file the source has open, if it opened it: never the
// reader given to [NewRowSource]. Later Reads return [ErrClosed].
// Idempotent; must not be called concurrently with Read.
func (s *RowSource) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.err, s.queue = ErrClosed, nil
		if s.cur != nil {
			if err := s.cur.close(); err != nil {
				s.closeErr = fmt.Errorf("file: close %s: %w", s.cur.name, err)
			}
			s.cur = nil
		}
	})
	return s.closeErr
}
