package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// expand returns the files pattern names, sorted, and their format.
func expand(pattern string, f Format) ([]string, Format, error) {
	files := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, 0, fmt.Errorf("file: glob %q: %w", pattern, err)
		}
		if len(m) == 0 {
			return nil, 0, fmt.Errorf("file: glob %q matches no file", pattern)
		}
		slices.Sort(m)
		files = m
	}
	if f != FormatAuto {
		return files, f, nil
	}
	for i, p := range files {
		g, ok := formatOf(p)
		if !ok {
			return nil, 0, fmt.Errorf("file: cannot tell the format of %s from its extension (.csv, .tsv, .jsonl, .ndjson or .json, maybe .gz): set RowSourceConfig.Format", p)
		}
		if i > 0 && g != f {
			return nil, 0, fmt.Errorf("file: %s is %v but %s is %v: the files of a glob must have one format", files[0], f, p, g)
		}
		f = g
	}
	return files, f, nil
}

// formatOf returns the format a path's extension names.
func formatOf(path string) (Format, bool) {
	switch filepath.Ext(strings.TrimSuffix(strings.ToLower(path), ".gz")) {
	case ".csv":
		return FormatCSV, true
	case ".tsv", ".tab":
		return FormatTSV, true
	case ".jsonl", ".ndjson":
		return FormatJSONL, true
	case ".json":
		return FormatJSON, true
	}
	return FormatAuto, false
}

var gzipMagic = []byte{0x1f, 0x8b}

// rowFile is one open input of a RowSource: the file, its decompressor,
// the read buffer and the decoder.
type rowFile struct {
	name string
	file *os.File // the file OpenRows opened, or nil for a reader
	gz   *gzip.Reader
	br   *bufio.Reader
	in   *input
	dec  decoder
}

// decoder reads the records of one format.
type decoder interface {
	// start reads what comes before the first record: a byte order mark,
	// the header, the opening of a JSON array.
	start() error
	// next appends the values of the next record to dst and returns them
	// with the line it starts on. err is io.EOF at the end, a *badRecord
	// for a malformed record (the next call reads the one after it), or an
	// error that ends the read.
	next(dst []connect.Value) (vals []connect.Value, line int, err error)
	// lines returns the number of line breaks consumed.
	lines() int
	// resume is called after a jump to a record boundary after line
	// breaks: the decoder goes on from there.
	resume(lines int)
	// boundary reports whether a record can follow the byte prev.
	boundary(prev byte) bool
}

func (s *RowSource) openFile(path string) (*rowFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	rf, err := s.newRowFile(f, f, path)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return rf, nil
}

// newRowFile sets up the reading of r and reads up to its first record.
func (s *RowSource) newRowFile(r io.Reader, f *os.File, name string) (*rowFile, error) {
	rf := &rowFile{name: name, file: f, br: bufio.NewReaderSize(r, 4096)}
	var src io.Reader = rf.br
	head, err := rf.br.Peek(len(gzipMagic))
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("file: read %s: %w", nameOr(name), err)
	}
	if strings.HasSuffix(strings.ToLower(name), ".gz") || bytes.Equal(head, gzipMagic) {
		zr, err := gzip.NewReader(rf.br)
		if err != nil {
			return nil, fmt.Errorf("file: read %s: gzip: %w", nameOr(name), err)
		}
		rf.gz, src = zr, zr
	}
	rf.in = &input{r: src, buf: make([]byte, readBufferSize)}
	if s.format == FormatAuto {
		if s.format, err = sniff(rf.in); err != nil {
			return nil, fmt.Errorf("file: read %s: %w", nameOr(name), err)
		}
	}
	switch s.format {
	case FormatCSV, FormatTSV:
		rf.dec = newCSVDecoder(rf.in, name, s.cfg, s.format, s.cols)
	default:
		rf.dec = &jsonDecoder{in: rf.in, name: name, max: s.cfg.MaxLineBytes, cols: s.cols, detect: s.format == FormatJSON}
	}
	if err := rf.dec.start(); err != nil {
		return nil, err
	}
	return rf, nil
}

// sniff tells JSON from CSV by the first byte that is not a byte order
// mark or white space, reading but not consuming the input.
func sniff(in *input) (Format, error) {
	for {
		b := bytes.TrimLeft(bytes.TrimPrefix(in.unread(), utf8BOM), " \t\r\n")
		if len(b) > 0 || in.eof || len(in.unread()) >= readBufferSize {
			if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
				return FormatJSON, nil
			}
			return FormatCSV, nil
		}
		if err := in.more(); err != nil {
			return FormatAuto, err
		}
	}
}

func nameOr(name string) string {
	if name == "" {
		return "input"
	}
	return name
}

// jump moves the read to input offset off, the start of a record after
// line breaks, as Seek found it in a position. A plain file seeks; a
// gzipped file or a reader reads and discards up to off.
func (f *rowFile) jump(off int64, lines int) error {
	cur := f.in.offset()
	switch {
	case off == 0:
		return nil // the start: nothing read yet
	case off < cur:
		return fmt.Errorf("offset %d is inside what comes before the records, which end at offset %d", off, cur)
	case f.file != nil && f.gz == nil && off-1 > cur:
		if _, err := f.file.Seek(off-1, io.SeekStart); err != nil {
			return err
		}
		f.br.Reset(f.file)
		f.in.reset(off - 1)
	}
	prev, err := f.in.discardTo(off)
	if err != nil {
		return err
	}
	end, err := f.in.atEnd()
	if err != nil {
		return err
	}
	if off > cur && !end && !f.dec.boundary(prev) {
		return fmt.Errorf("offset %d is not where a record starts: the input is not the one the position was taken on", off)
	}
	f.dec.resume(lines)
	return nil
}

func (f *rowFile) close() error {
	var errs []error
	if f.gz != nil {
		errs = append(errs, f.gz.Close())
	}
	if f.file != nil {
		errs = append(errs, f.file.Close())
	}
	return errors.Join(errs...)
}

// input is a read buffer over a file's uncompressed bytes that knows the
// offset of each byte and grows to hold a record whole: the decoders parse
// in place, and start a record over when it is cut by the buffer's end.
type input struct {
	r    io.Reader
	buf  []byte
	pos  int   // buf[pos:end] is unread
	end  int   //
	base int64 // input offset of buf[0]
	eof  bool  // r is exhausted: buf[pos:end] is all that is left
}

func (in *input) unread() []byte { return in.buf[in.pos:in.end] }
func (in *input) offset() int64  { return in.base + int64(in.pos) }
func (in *input) advance(n int)  { in.pos += n }

// more reads more input after the unread bytes, moving them to the front
// of the buffer, which doubles when they fill it. Slices of the buffer
// taken before are invalid after. At the end of the input it sets eof.
// The decoders bound the growth: they stop at ReadOptions.MaxLineBytes.
func (in *input) more() error {
	if in.eof {
		return nil
	}
	if in.pos > 0 {
		n := copy(in.buf, in.buf[in.pos:in.end])
		in.base += int64(in.pos)
		in.pos, in.end = 0, n
	}
	if in.end == len(in.buf) {
		in.buf = append(in.buf, make([]byte, len(in.buf))...)
	}
	for range 100 {
		n, err := in.r.Read(in.buf[in.end:])
		in.end += n
		if err == io.EOF {
			in.eof = true
			return nil
		}
		if err != nil || n > 0 {
			return err
		}
	}
	return io.ErrNoProgress
}

// reset starts the buffer over at input offset base, after a seek.
func (in *input) reset(base int64) {
	in.pos, in.end, in.base, in.eof = 0, 0, base, false
}

// discardTo reads and drops input up to offset off and returns the last
// byte dropped. It returns an error wrapping ErrPastEnd if the input ends
// first.
func (in *input) discardTo(off int64) (prev byte, err error) {
	for in.offset() < off {
		if in.pos == in.end {
			if in.eof {
				return 0, fmt.Errorf("%w: the input ends at offset %d, before offset %d", ErrPastEnd, in.offset(), off)
			}
			if err := in.more(); err != nil {
				return 0, err
			}
			continue
		}
		in.pos += int(min(int64(in.end-in.pos), off-in.offset()))
		prev = in.buf[in.pos-1]
	}
	return prev, nil
}

// atEnd reports whether the input has no byte left.
func (in *input) atEnd() (bool, error) {
	for in.pos == in.end && !in.eof {
		if err := in.more(); err != nil {
			return false, err
		}
	}
	return in.pos == in.end, nil
}

// skipBOM drops a UTF-8 byte order mark at the start of the input.
func (in *input) skipBOM() error {
	for len(in.unread()) < len(utf8BOM) && !in.eof {
		if err := in.more(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(in.unread(), utf8BOM) {
		in.advance(len(utf8BOM))
	}
	return nil
}
