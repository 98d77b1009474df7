package parquet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// ErrClosed is returned by a Read or Write after Close.
var ErrClosed = errors.New("parquet: closed")

// DefaultReadBufferSize is the size of the reads of a [RowSource] when
// [RowSourceConfig.ReadBufferSize] is 0.
const DefaultReadBufferSize = 64 << 10

// RowSourceConfig configures a [RowSource]. The zero value is valid.
type RowSourceConfig struct {
	// ReadBufferSize is the size of each read of a column's pages: memory
	// while reading is about this times the number of leaf columns, plus
	// a page per column. 0 means DefaultReadBufferSize; at least 4096.
	ReadBufferSize int
}

// Validate reports every impossible value, each naming its field.
func (c RowSourceConfig) Validate() error {
	if c.ReadBufferSize != 0 && c.ReadBufferSize < 4096 {
		return fmt.Errorf("parquet: RowSourceConfig.ReadBufferSize must be 0 (default %d) or at least 4096, got %d",
			DefaultReadBufferSize, c.ReadBufferSize)
	}
	return nil
}

// RowSource reads Parquet files into generic rows ([connect.Row]) for
// `weir copy`: a file, or a glob of files with the same columns.
//
// Columns and their types come from the file's schema, as the package
// documentation's table says: a flat column keeps its type, a nested one
// (a group, LIST, MAP or repeated field) is connect.JSON, and a NULL is
// connect.Null. Each row's Pos is the file's path and the row's number in
// the file, from 1.
//
// Reading streams row group by row group and, within a row group, page by
// page: memory is bounded by the pages of one row group's columns and the
// caller's batch, never by the file. A file that cannot be read (a corrupt
// footer or page, levels that do not add up) ends the read with an error
// naming the file and the row group; a later Read returns it again.
//
// It implements weir.Positioner and weir.Closer. Read, Position and Seek
// are for one goroutine at a time.
type RowSource struct {
	cfg   RowSourceConfig
	files []string
	cols  []connect.Column
	cur   *openFile // the file being read, or nil
	idx   int       // index in files of cur, or of the next file to open
	pbuf  []pq.Row
	at    rowPos // the position while no file is open
	total int64  // the rows of all the files, as their footers say
	err   error  // sticky: io.EOF, an error that ended the read, ErrClosed
	read  bool   // Read was called: Seek is too late
	seek  bool

	closeOnce sync.Once
	closeErr  error
}

var (
	_ weir.Source[connect.Row] = (*RowSource)(nil)
	_ weir.Positioner          = (*RowSource)(nil)
	_ weir.Closer              = (*RowSource)(nil)
)

// openFile is one open file of a RowSource.
type openFile struct {
	path string
	f    *os.File
	pf   *pq.File
	top  []*node
	asm  *assembler
	cols []connect.Column
	rg   int     // the row group being read
	rows pq.Rows // its rows, or nil before the first
	done int64   // rows of the file returned
}

// OpenRows opens the Parquet file at path, or the files a glob matches
// (any of "*?[" makes it a glob: filepath.Glob, sorted), reading each
// file's footer: the files of a glob must have the same columns with the
// same types (an error names both files otherwise). A glob matching
// nothing is an error naming it. It blocks while it reads the footers and
// keeps the first file open; Close closes it.
func OpenRows(pattern string, cfg RowSourceConfig) (*RowSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReadBufferSize == 0 {
		cfg.ReadBufferSize = DefaultReadBufferSize
	}
	files := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("parquet: glob %q: %w", pattern, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("parquet: glob %q matches no file", pattern)
		}
		slices.Sort(m)
		files = m
	}
	s := &RowSource{cfg: cfg, files: files}
	for i := len(files) - 1; i >= 0; i-- { // the first stays open
		f, err := s.open(files[i])
		if err != nil {
			if s.cur != nil {
				err = errors.Join(err, s.cur.close())
			}
			return nil, err
		}
		s.total += f.pf.NumRows()
		if s.cur != nil {
			if !slices.Equal(f.cols, s.cur.cols) {
				err := fmt.Errorf("parquet: %s has columns %v but %s has %v: the files of a glob must have the same columns",
					f.path, f.cols, s.cur.path, s.cur.cols)
				return nil, errors.Join(err, f.close(), s.cur.close())
			}
			if err := s.cur.close(); err != nil {
				return nil, errors.Join(err, f.close())
			}
		}
		s.cur = f
	}
	s.cols, s.at = s.cur.cols, rowPos{File: files[0]}
	return s, nil
}

// open opens a file and reads its footer and schema.
func (s *RowSource) open(path string) (*openFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("parquet: %w", err), f.Close())
	}
	var pf *pq.File
	err = guard(func() (err error) {
		pf, err = pq.OpenFile(f, st.Size(), pq.SkipBloomFilters(true), pq.ReadBufferSize(s.cfg.ReadBufferSize))
		return err
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("parquet: open %s: %w", path, err), f.Close())
	}
	o := &openFile{path: path, f: f, pf: pf}
	col := 0
	if o.top, err = buildTree(pf.Schema().Fields(), &node{}, &col); err != nil {
		return nil, errors.Join(fmt.Errorf("parquet: %s: %w", path, err), f.Close())
	}
	o.asm = newAssembler(o.top, col)
	numericFromMeta(pf, o.top)
	for _, n := range o.top {
		t := n.typ
		if n.kind != kindLeaf || n.repeated {
			t = connect.TypeJSON
		}
		o.cols = append(o.cols, connect.Column{Name: n.name, Type: t})
	}
	return o, nil
}

// guard runs f and turns a panic into an error: the Parquet library
// panics on some corrupt files, which must fail the read, not the program.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt file: %v", r)
		}
	}()
	return f()
}

// NumRows returns the number of rows of the files, as their footers
// said when OpenRows read them. It does not block.
func (s *RowSource) NumRows() int64 { return s.total }

// Columns returns the columns and their types, in the file's order. The
// slice must not be modified.
func (s *RowSource) Columns() []connect.Column { return s.cols }

// Read reads up to len(buf) rows into buf. It returns io.EOF (with the
// last rows, if any) at the end of the last file. An error ends the read
// and is returned again by later calls. Read checks ctx once per call and
// at each row group. Cost: the rows of one call share one slice of values;
// each text or bytes value is copied out of the page into a string.
func (s *RowSource) Read(ctx context.Context, buf []connect.Row) (int, error) {
	s.read = true
	if s.err != nil {
		return 0, s.err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var vals []connect.Value
	n := 0
	for n < len(buf) {
		if err := s.advance(ctx); err != nil {
			s.err = err
			return n, err
		}
		f := s.cur
		want := min(len(buf)-n, 1024)
		if cap(s.pbuf) < want {
			s.pbuf = make([]pq.Row, want)
		}
		var k int
		err := guard(func() (err error) {
			k, err = f.rows.ReadRows(s.pbuf[:want])
			return err
		})
		if vals == nil {
			vals = make([]connect.Value, 0, (len(buf)-n)*len(s.cols))
		}
		for _, r := range s.pbuf[:k] {
			start := len(vals)
			var cerr error
			if vals, cerr = f.asm.row(r, vals); cerr != nil {
				s.err = fmt.Errorf("parquet: read %s row %d: %w", f.path, f.done+1, cerr)
				return n, s.err
			}
			f.done++
			buf[n] = connect.Row{Values: vals[start:len(vals):len(vals)], Pos: connect.Pos{Name: f.path, Line: f.done}}
			n++
		}
		if k == 0 && err == nil {
			err = io.ErrNoProgress // the library returned nothing: do not spin
		}
		switch {
		case err == io.EOF:
			if cerr := f.rows.Close(); cerr != nil {
				s.err = fmt.Errorf("parquet: read %s row group %d: %w", f.path, f.rg, cerr)
				return n, s.err
			}
			f.rows = nil
			f.rg++
		case err != nil:
			s.err = fmt.Errorf("parquet: read %s row group %d: %w", f.path, f.rg, err)
			return n, s.err
		}
	}
	return n, nil
}

// advance makes s.cur.rows the rows of a row group with rows left,
// opening the next row group or file as needed. It returns io.EOF after
// the last file.
func (s *RowSource) advance(ctx context.Context) error {
	for {
		if s.cur == nil {
			if s.idx >= len(s.files) {
				return io.EOF
			}
			f, err := s.open(s.files[s.idx])
			if err != nil {
				return err
			}
			if !slices.Equal(f.cols, s.cols) {
				return errors.Join(fmt.Errorf("parquet: %s has columns %v, no longer %v", f.path, f.cols, s.cols), f.close())
			}
			s.cur = f
		}
		f := s.cur
		if f.rows != nil {
			return nil
		}
		groups := f.pf.RowGroups()
		if f.rg < len(groups) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := guard(func() error { f.rows = groups[f.rg].Rows(); return nil }); err != nil {
				return fmt.Errorf("parquet: read %s row group %d: %w", f.path, f.rg, err)
			}
			continue
		}
		if f.done != f.pf.NumRows() {
			return fmt.Errorf("parquet: read %s: %d rows read, the footer says %d (a corrupt file?)", f.path, f.done, f.pf.NumRows())
		}
		if err := f.close(); err != nil {
			return err
		}
		s.cur, s.at = nil, rowPos{File: f.path, Row: f.done}
		s.idx++
	}
}

func (f *openFile) close() error {
	var errs []error
	if f.rows != nil {
		errs = append(errs, f.rows.Close())
		f.rows = nil
	}
	errs = append(errs, f.f.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("parquet: close %s: %w", f.path, err)
	}
	return nil
}

// Close closes the file the source has open. Later Reads return
// [ErrClosed]. Idempotent; must not be called concurrently with Read.
func (s *RowSource) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.err = ErrClosed
		if s.cur != nil {
			s.closeErr = s.cur.close()
			s.cur = nil
		}
	})
	return s.closeErr
}

// numericFromMeta reads back as numeric the string columns that a
// [RowSink] wrote from numeric ones, as its metadata records.
func numericFromMeta(pf *pq.File, top []*node) {
	meta, ok := pf.Lookup(metaKey)
	if !ok {
		return
	}
	var cols []connect.Column
	if json.Unmarshal([]byte(meta), &cols) != nil || len(cols) != len(top) {
		return // not what a RowSink wrote: the Parquet types stand
	}
	for i, n := range top {
		if cols[i].Name == n.name && cols[i].Type == connect.TypeNumeric && n.kind == kindLeaf && n.typ == connect.TypeText && !n.repeated {
			n.typ = connect.TypeNumeric
			n.conv = func(v pq.Value) connect.Value { return connect.Numeric(string(v.ByteArray())) }
		}
	}
}
