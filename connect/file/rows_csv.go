package file

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/weir-etl/weir/connect"
)

// csvDecoder reads CSV or TSV records for a RowSource. Unlike
// encoding/csv it keeps whether a field was quoted, which is what tells
// NULL from an empty string, and it parses in the input's buffer: a
// record costs one string for all its fields.
type csvDecoder struct {
	in       *input
	name     string
	comma    byte
	null     string
	max      int
	cols     *columns
	noHeader bool
	header   bool // reading the header: blank lines are skipped
	line     int  // line breaks consumed
	fields   []csvField
	text     []byte // a quoted record's fields, unescaped
}

// csvField is where a field's text is in the string scan returns.
type csvField struct {
	start, end int
	quoted     bool
}

// errNeedMore says that a record goes on past the bytes given.
var errNeedMore = errors.New("need more input")

var errInvalidUTF8 = errors.New("invalid UTF-8")

func newCSVDecoder(in *input, name string, cfg RowSourceConfig, f Format, cols *columns) *csvDecoder {
	comma := byte(',')
	if f == FormatTSV {
		comma = '\t'
	}
	if cfg.Comma != 0 {
		comma = byte(cfg.Comma)
	}
	return &csvDecoder{in: in, name: name, comma: comma, null: cfg.Null, max: cfg.MaxLineBytes, cols: cols, noHeader: cfg.NoHeader}
}

// start drops a byte order mark and reads the header: the first file's
// sets the columns, a later file's must equal them.
func (d *csvDecoder) start() error {
	if err := d.in.skipBOM(); err != nil {
		return d.fatal(err)
	}
	if d.noHeader {
		return nil
	}
	d.header = true
	src, _, line, err := d.scan()
	d.header = false
	var bad *badRecord
	switch {
	case err == io.EOF:
		return &LineError{Name: d.name, Line: 1, Err: errors.New("no header row: the input is empty")}
	case errors.As(err, &bad):
		return &LineError{Name: d.name, Line: bad.line, Err: fmt.Errorf("header: %w", bad.err)}
	case err != nil:
		return err
	}
	names := make([]string, len(d.fields))
	seen := make(map[string]int, len(d.fields))
	for i, f := range d.fields {
		n := strings.TrimPrefix(src[f.start:f.end], "\ufeff")
		if n == "" {
			return &LineError{Name: d.name, Line: line, Err: fmt.Errorf("header: column %d has no name", i+1)}
		}
		if j, dup := seen[n]; dup {
			return &LineError{Name: d.name, Line: line, Err: fmt.Errorf("header: column %d is named %q, as column %d is", i+1, n, j)}
		}
		seen[n], names[i] = i+1, n
	}
	if d.cols.from == "" && len(d.cols.names) == 0 {
		d.cols.from = nameOr(d.name)
		for _, n := range names {
			d.cols.add(n)
		}
	} else if !slices.Equal(names, d.cols.names) {
		return fmt.Errorf("file: %s has the columns %q, but %s has %q: the files of a glob must have the same header",
			nameOr(d.name), names, d.cols.from, d.cols.names)
	}
	return nil
}

// next appends the next record's values to dst.
func (d *csvDecoder) next(dst []connect.Value) ([]connect.Value, int, error) {
	src, raw, line, err := d.scan()
	if err != nil {
		return dst, line, err
	}
	w := len(d.cols.names)
	if d.noHeader && !d.cols.frozen && w == 0 {
		d.cols.from = nameOr(d.name)
		for i := range d.fields {
			d.cols.add("column" + strconv.Itoa(i+1))
		}
		w = len(d.fields)
	}
	if len(d.fields) != w {
		return dst, line, &badRecord{line, raw, fmt.Errorf("%w: %d fields, want %d", csv.ErrFieldCount, len(d.fields), w)}
	}
	for _, f := range d.fields {
		if v := src[f.start:f.end]; f.quoted || v != d.null {
			dst = append(dst, connect.Text(v))
		} else {
			dst = append(dst, connect.Value{})
		}
	}
	return dst, line, nil
}

// scan parses the next record into d.fields. It returns the string they
// index, the record's raw text (valid until the next call) and the line it
// starts on.
func (d *csvDecoder) scan() (src string, raw []byte, line int, err error) {
	for {
		b := d.in.unread()
		if len(b) < 2 && !d.in.eof {
			if err := d.in.more(); err != nil {
				return "", nil, 0, d.fatal(err)
			}
			continue
		}
		if len(b) == 0 {
			return "", nil, 0, io.EOF
		}
		// Blank lines are passed over, except in a file of one column,
		// where they hold a NULL (as PostgreSQL reads them).
		if d.header || len(d.cols.names) != 1 {
			switch {
			case b[0] == '\n':
				d.in.advance(1)
				d.line++
				continue
			case b[0] == '\r' && len(b) == 1: // a lone "\r" at the end
				d.in.advance(1)
				continue
			case b[0] == '\r' && b[1] == '\n':
				d.in.advance(2)
				d.line++
				continue
			}
		}
		n, nl, text, err := d.parse(b, d.in.eof)
		if err == errNeedMore {
			if len(b) > d.max {
				return "", nil, 0, &LineError{Name: d.name, Line: d.line + 1,
					Err: fmt.Errorf("%w: a record of more than %d bytes (MaxLineBytes), or a quote never closed", ErrLineTooLong, d.max)}
			}
			if err := d.in.more(); err != nil {
				return "", nil, 0, d.fatal(err)
			}
			continue
		}
		line = d.line + 1
		raw = b[:n]
		d.in.advance(n)
		d.line += nl
		if err == nil && !utf8.Valid(raw) {
			err = errInvalidUTF8
		}
		if err != nil {
			return "", trimEOL(raw), line, &badRecord{line, trimEOL(raw), err}
		}
		return string(text), trimEOL(raw), line, nil
	}
}

// parse parses the record at the start of b, which holds all the input
// left if atEOF. It returns the bytes the record takes with its line end,
// the line breaks in them, and the bytes d.fields index. It returns
// errNeedMore if the record may go on past b.
func (d *csvDecoder) parse(b []byte, atEOF bool) (n, nl int, text []byte, err error) {
	d.fields = d.fields[:0]
	le := bytes.IndexByte(b, '\n')
	if le < 0 && !atEOF {
		return 0, 0, nil, errNeedMore
	}
	end := le
	if le < 0 {
		end = len(b)
	}
	line := b[:end]
	if bytes.IndexByte(line, '"') >= 0 {
		return d.parseQuoted(b, atEOF)
	}
	// The fast path: no quote, so the line is the record.
	n = end
	if le >= 0 {
		n, nl = end+1, 1
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	start := 0
	for {
		j := bytes.IndexByte(line[start:], d.comma)
		if j < 0 {
			d.fields = append(d.fields, csvField{start: start, end: len(line)})
			return n, nl, line, nil
		}
		d.fields = append(d.fields, csvField{start: start, end: start + j})
		start += j + 1
	}
}

// parseQuoted is parse for a record with quotes: RFC 4180, where a quoted
// field may hold the delimiter, line breaks and doubled quotes. A syntax
// error passes over the rest of the line it is on, as encoding/csv does.
func (d *csvDecoder) parseQuoted(b []byte, atEOF bool) (n, nl int, text []byte, err error) {
	d.text = d.text[:0]
	i := 0
	for {
		start := len(d.text)
		if i < len(b) && b[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					if !atEOF {
						return 0, 0, nil, errNeedMore
					}
					return len(b), nl + bytes.Count(b[i:], []byte{'\n'}), nil, csv.ErrQuote
				}
				nl += bytes.Count(b[i:i+j], []byte{'\n'})
				d.text = append(d.text, b[i:i+j]...)
				i += j + 1
				if i == len(b) && !atEOF {
					return 0, 0, nil, errNeedMore
				}
				if i < len(b) && b[i] == '"' {
					d.text = append(d.text, '"')
					i++
					continue
				}
				break
			}
			d.fields = append(d.fields, csvField{start: start, end: len(d.text), quoted: true})
			switch {
			case i == len(b):
				return i, nl, d.text, nil
			case b[i] == d.comma:
				i++
				continue
			case b[i] == '\n':
				return i + 1, nl + 1, d.text, nil
			case b[i] == '\r' && i+1 == len(b):
				if !atEOF {
					return 0, 0, nil, errNeedMore
				}
				return i + 1, nl, d.text, nil
			case b[i] == '\r' && b[i+1] == '\n':
				return i + 2, nl + 1, d.text, nil
			}
			return d.restOfLine(b, i, nl, atEOF, csv.ErrQuote)
		}
		// An unquoted field: up to the delimiter or the line's end.
		k := i
		for k < len(b) && b[k] != d.comma && b[k] != '\n' {
			if b[k] == '"' {
				return d.restOfLine(b, k, nl, atEOF, csv.ErrBareQuote)
			}
			k++
		}
		if k == len(b) && !atEOF {
			return 0, 0, nil, errNeedMore
		}
		f := b[i:k]
		if (k == len(b) || b[k] == '\n') && len(f) > 0 && f[len(f)-1] == '\r' {
			f = f[:len(f)-1]
		}
		d.text = append(d.text, f...)
		d.fields = append(d.fields, csvField{start: start, end: len(d.text)})
		switch {
		case k == len(b):
			return k, nl, d.text, nil
		case b[k] == '\n':
			return k + 1, nl + 1, d.text, nil
		}
		i = k + 1
	}
}

// restOfLine returns a syntax error found at b[i], taking the record to
// the end of that line.
func (d *csvDecoder) restOfLine(b []byte, i, nl int, atEOF bool, cause error) (int, int, []byte, error) {
	j := bytes.IndexByte(b[i:], '\n')
	switch {
	case j >= 0:
		return i + j + 1, nl + 1, nil, cause
	case !atEOF:
		return 0, 0, nil, errNeedMore
	}
	return len(b), nl, nil, cause
}

func (d *csvDecoder) fatal(err error) error {
	return fmt.Errorf("file: read %s after line %d: %w", nameOr(d.name), d.line, err)
}

func (d *csvDecoder) lines() int              { return d.line }
func (d *csvDecoder) resume(lines int)        { d.line = lines }
func (d *csvDecoder) boundary(prev byte) bool { return prev == '\n' }
