package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// RowSinkConfig configures a [RowSink]. Columns is required.
type RowSinkConfig struct {
	// Format is the output's layout: FormatCSV, FormatTSV or FormatJSONL.
	// FormatAuto, for [CreateRows] only, goes by the path's extension
	// (.csv, .tsv, .jsonl or .ndjson, maybe followed by .gz).
	Format Format
	// Columns are the output's columns, in the order of a row's values: a
	// CSV file's header, a JSON object's keys.
	Columns []connect.Column
	// Null is, in CSV and TSV, what NULL is written as, unquoted. A value
	// whose text equals it is quoted, so that it reads back as text. ""
	// (the default) writes NULL as an empty field and an empty string as "".
	Null string
	// BufferSize is the size of the write buffer. 0 means 64 KiB.
	BufferSize int
}

// Validate reports every impossible value, each naming its field.
func (c RowSinkConfig) Validate() error {
	var errs []error
	switch c.Format {
	case FormatAuto, FormatCSV, FormatTSV, FormatJSONL:
	case FormatJSON:
		errs = append(errs, errors.New("file: RowSinkConfig.Format json: a sink writes JSON Lines (FormatJSONL), not an array"))
	default:
		errs = append(errs, fmt.Errorf("file: RowSinkConfig.Format %d is not a Format", uint8(c.Format)))
	}
	if len(c.Columns) == 0 {
		errs = append(errs, errors.New("file: RowSinkConfig.Columns is required"))
	}
	seen := make(map[string]bool, len(c.Columns))
	for i, col := range c.Columns {
		if col.Name == "" || seen[col.Name] {
			errs = append(errs, fmt.Errorf("file: RowSinkConfig.Columns[%d] has an empty or repeated name %q", i, col.Name))
		}
		seen[col.Name] = true
	}
	if strings.ContainsAny(c.Null, "\"\r\n") || c.Format != FormatTSV && strings.Contains(c.Null, ",") {
		errs = append(errs, fmt.Errorf("file: RowSinkConfig.Null %q must not hold a quote, a line break or the delimiter", c.Null))
	}
	if c.Format == FormatJSONL && c.Null != "" {
		errs = append(errs, errors.New("file: RowSinkConfig.Null is for CSV and TSV; JSON writes null"))
	}
	errs = append(errs, validateBufferSize("RowSinkConfig", c.BufferSize))
	return errors.Join(errs...)
}

// RowSink writes generic rows as CSV, TSV or JSON Lines, for `weir copy`.
//
// CSV and TSV get a header row of the column names. NULL is written as
// [RowSinkConfig.Null] unquoted (by default an empty field) and an empty
// string as "", so that a [RowSource] reads the file back as it was
// written; a field is quoted when it holds the delimiter, a quote, a line
// break or a leading space, or equals Null. Values are written as
// [connect.Value.AppendText] writes them. JSON Lines get one object per
// row, keyed by column name, with each value as [connect.Value.MarshalJSON]
// writes it: a JSON value inline, NULL as null.
//
// Write may be called from many goroutines at once: rows are encoded
// outside the lock, then each batch is appended under a mutex, so a batch's
// rows are contiguous and in order. Output is buffered; [RowSink.Flush] or
// [RowSink.Close] pushes it out.
type RowSink struct {
	cfg   RowSinkConfig
	comma byte
	keys  [][]byte // JSON Lines: `{"name":`, then `,"name":`
	out   *lockedWriter
	gz    *gzip.Writer // CreateRows on a .gz path
	file  *os.File     // the file CreateRows created
	pool  sync.Pool    // *[]byte

	closeOnce sync.Once
	closeErr  error
}

var (
	_ weir.Sink[connect.Row] = (*RowSink)(nil)
	_ weir.Closer            = (*RowSink)(nil)
)

// NewRowSink returns a sink writing to w; cfg.Format must be set. A CSV
// header goes into the buffer at once. Close flushes but does not close w.
func NewRowSink(w io.Writer, cfg RowSinkConfig) (*RowSink, error) {
	if w == nil {
		return nil, errors.New("file: NewRowSink: nil io.Writer")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Format == FormatAuto {
		return nil, errors.New("file: RowSinkConfig.Format is required for NewRowSink (FormatCSV, FormatTSV or FormatJSONL)")
	}
	return newRowSink(newLockedWriter(w, nil, cfg.BufferSize, false, "rows"), cfg)
}

// CreateRows creates (or truncates) the file at path and returns a sink
// writing to it, gzip-compressed if the path ends in .gz. Close flushes,
// syncs and closes the file.
func CreateRows(path string, cfg RowSinkConfig) (*RowSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Format == FormatAuto {
		f, ok := formatOf(path)
		if !ok || f == FormatJSON {
			return nil, fmt.Errorf("file: cannot tell the format to write %s in from its extension (.csv, .tsv, .jsonl or .ndjson, maybe .gz): set RowSinkConfig.Format", path)
		}
		cfg.Format = f
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("file: create rows: %w", err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	s, err := newRowSink(newLockedWriter(w, nil, cfg.BufferSize, false, path), cfg)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	s.gz, s.file = zw, f
	return s, nil
}

func newRowSink(out *lockedWriter, cfg RowSinkConfig) (*RowSink, error) {
	s := &RowSink{cfg: cfg, out: out, comma: ','}
	if cfg.Format == FormatTSV {
		s.comma = '\t'
	}
	if cfg.Format == FormatJSONL {
		for i, c := range cfg.Columns {
			name, _ := json.Marshal(c.Name) // a string always encodes
			sep := byte(',')
			if i == 0 {
				sep = '{'
			}
			s.keys = append(s.keys, append(append([]byte{sep}, name...), ':'))
		}
		return s, nil
	}
	var hdr []byte
	for i, c := range cfg.Columns {
		if i > 0 {
			hdr = append(hdr, s.comma)
		}
		hdr = s.appendField(hdr, connect.Text(c.Name))
	}
	if err := out.write(append(hdr, '\n')); err != nil {
		return nil, err
	}
	return s, nil
}

// Write encodes rows, one line per row, and appends them to the output as
// one block. A row with a number of values other than that of Columns
// fails the Write with a [*weir.RecordError] naming it, and nothing of the
// batch is written. Safe for concurrent use; it blocks while another Write
// holds the lock or the buffer is being flushed.
func (s *RowSink) Write(ctx context.Context, rows []connect.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bp, _ := s.pool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= 4<<20 { // do not hoard the buffer of an outsized batch
			*bp = buf
			s.pool.Put(bp)
		}
	}()
	for i, r := range rows {
		if len(r.Values) != len(s.cfg.Columns) {
			return &weir.RecordError{Index: i, Err: fmt.Errorf("row from %v has %d values for %d columns", r.Pos, len(r.Values), len(s.cfg.Columns))}
		}
		if s.cfg.Format == FormatJSONL {
			for j, v := range r.Values {
				buf = append(buf, s.keys[j]...)
				js, err := v.MarshalJSON()
				if err != nil {
					return &weir.RecordError{Index: i, Err: fmt.Errorf("encode JSON: %w", err)}
				}
				buf = append(buf, js...)
			}
			buf = append(buf, '}', '\n')
			continue
		}
		for j, v := range r.Values {
			if j > 0 {
				buf = append(buf, s.comma)
			}
			buf = s.appendField(buf, v)
		}
		buf = append(buf, '\n')
	}
	return s.out.write(buf)
}

// appendField appends v as a CSV field.
func (s *RowSink) appendField(buf []byte, v connect.Value) []byte {
	if v.IsNull() {
		return append(buf, s.cfg.Null...)
	}
	start := len(buf)
	buf = v.AppendText(buf)
	f := buf[start:]
	if string(f) != s.cfg.Null && (len(f) == 0 || f[0] != ' ') &&
		bytes.IndexByte(f, s.comma) < 0 && bytes.IndexAny(f, "\"\r\n") < 0 {
		return buf
	}
	// Quote: the text moves one byte right, and each quote doubles.
	n := len(f) + 2 + bytes.Count(f, []byte{'"'})
	buf = append(buf, make([]byte, n-len(f))...)
	f = buf[start : start+len(f)]
	q := buf[start:]
	j := len(q) - 1
	q[j] = '"'
	for i := len(f) - 1; i >= 0; i-- {
		j--
		q[j] = f[i]
		if f[i] == '"' {
			j--
			q[j] = '"'
		}
	}
	q[0] = '"'
	return buf
}

// Flush writes buffered rows to the underlying writer. Safe for concurrent
// use.
func (s *RowSink) Flush() error { return s.out.flush() }

// Close flushes the buffer and, for a sink made by [CreateRows], finishes
// the gzip stream, syncs and closes the file. Later Writes return
// [ErrClosed]. Idempotent: every call returns the first call's result.
// Call it after the last Write returned.
func (s *RowSink) Close(context.Context) error {
	s.closeOnce.Do(func() {
		errs := []error{s.out.close()}
		if s.gz != nil {
			if err := s.gz.Close(); err != nil {
				errs = append(errs, fmt.Errorf("file: close %s: gzip: %w", s.file.Name(), err))
			}
		}
		if s.file != nil {
			// Sync before reporting success: a caller that records "done"
			// after Close must not lose the file to a crash.
			if err := s.file.Sync(); err != nil {
				errs = append(errs, fmt.Errorf("file: sync %s: %w", s.file.Name(), err))
			}
			if err := s.file.Close(); err != nil {
				errs = append(errs, fmt.Errorf("file: close %s: %w", s.file.Name(), err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
