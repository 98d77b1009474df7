package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/weir-etl/weir/connect"
)

// jsonDecoder reads JSON Lines, or the objects of a JSON array one at a
// time, for a RowSource. An array is never held whole: the decoder finds
// each element's end by counting brackets outside strings, then checks it
// with json.Valid and reads its members in order, keeping numbers' text.
type jsonDecoder struct {
	in     *input
	name   string
	max    int
	cols   *columns
	detect bool // FormatJSON: an array or JSON Lines, by the first byte
	array  bool
	state  arrayState
	line   int      // line breaks consumed
	seen   []uint32 // per column, the record (gen) that last set it
	gen    uint32
	long   []byte       // the head of a line over max
	buf    bytes.Buffer // for compacting nested values
}

type arrayState uint8

const (
	arrayFirst arrayState = iota // after '['
	arrayNext                    // after an element
	arrayComma                   // after ','
	arrayEnd                     // after ']'
)

func (d *jsonDecoder) start() error {
	if err := d.in.skipBOM(); err != nil {
		return d.fatal(err)
	}
	if !d.detect {
		return nil
	}
	c, ok, err := d.skipSpace()
	if ok && c == '[' {
		d.array = true
		d.in.advance(1)
	}
	return err
}

func (d *jsonDecoder) next(dst []connect.Value) ([]connect.Value, int, error) {
	var text []byte
	var line int
	var err error
	if d.array {
		text, line, err = d.element()
	} else {
		text, line, err = d.nextLine()
	}
	if err != nil {
		return dst, line, err
	}
	return d.decode(dst, text, line)
}

// nextLine returns the next line that is not blank, without its line
// end.
func (d *jsonDecoder) nextLine() ([]byte, int, error) {
	for {
		b := d.in.unread()
		le := bytes.IndexByte(b, '\n')
		if le < 0 && !d.in.eof {
			if len(b) > d.max {
				return d.skipLong()
			}
			if err := d.in.more(); err != nil {
				return nil, 0, d.fatal(err)
			}
			continue
		}
		line := d.line + 1
		text := b
		if le >= 0 {
			text = b[:le]
			d.in.advance(le + 1)
			d.line++
		} else if len(b) == 0 {
			return nil, 0, io.EOF
		} else {
			d.in.advance(len(b)) // the last line, without a line break
		}
		text = bytes.TrimSuffix(text, []byte{'\r'})
		if len(text) > d.max {
			return nil, line, &badRecord{line, text[:d.max], fmt.Errorf("%w: more than %d bytes (MaxLineBytes)", ErrLineTooLong, d.max)}
		}
		if !isBlank(text) {
			return text, line, nil
		}
	}
}

// skipLong passes over a line longer than max, keeping its head for the
// error.
func (d *jsonDecoder) skipLong() ([]byte, int, error) {
	line := d.line + 1
	d.long = append(d.long[:0], d.in.unread()[:d.max]...)
	for {
		b := d.in.unread()
		if j := bytes.IndexByte(b, '\n'); j >= 0 {
			d.in.advance(j + 1)
			d.line++
			break
		}
		d.in.advance(len(b))
		if d.in.eof {
			break
		}
		if err := d.in.more(); err != nil {
			return nil, 0, d.fatal(err)
		}
	}
	return nil, line, &badRecord{line, d.long, fmt.Errorf("%w: more than %d bytes (MaxLineBytes)", ErrLineTooLong, d.max)}
}

// element returns the next element of the array. A break in the array's
// own syntax (a missing comma, no closing bracket) ends the read: there is
// no telling where the next element starts.
func (d *jsonDecoder) element() ([]byte, int, error) {
	for {
		c, ok, err := d.skipSpace()
		if err != nil {
			return nil, 0, err
		}
		switch {
		case d.state == arrayEnd && !ok:
			return nil, 0, io.EOF
		case d.state == arrayEnd:
			return nil, 0, d.syntax(fmt.Errorf("%q after the array's closing ]", c))
		case !ok:
			return nil, 0, d.syntax(errors.New("the input ends inside the array: no closing ]"))
		case c == ']' && d.state != arrayComma:
			d.in.advance(1)
			d.state = arrayEnd
			continue
		case d.state == arrayNext && c == ',':
			d.in.advance(1)
			d.state = arrayComma
			continue
		case d.state == arrayNext:
			return nil, 0, d.syntax(fmt.Errorf("%q where , or ] should follow an element", c))
		case c == ']':
			return nil, 0, d.syntax(errors.New("] after a comma, where an element should be"))
		}
		return d.value()
	}
}

// value returns the array element at the start of the input.
func (d *jsonDecoder) value() ([]byte, int, error) {
	for {
		b := d.in.unread()
		end, err := valueEnd(b, d.in.eof)
		if err == errNeedMore {
			if len(b) > d.max {
				return nil, 0, &LineError{Name: d.name, Line: d.line + 1,
					Err: fmt.Errorf("%w: an array element of more than %d bytes (MaxLineBytes), or a bracket never closed", ErrLineTooLong, d.max)}
			}
			if err := d.in.more(); err != nil {
				return nil, 0, d.fatal(err)
			}
			continue
		}
		if err != nil {
			return nil, 0, d.syntax(err)
		}
		line, text := d.line+1, b[:end]
		d.in.advance(end)
		d.line += bytes.Count(text, []byte{'\n'})
		d.state = arrayNext
		return text, line, nil
	}
}

// skipSpace passes over white space and returns the byte after it, or
// false at the end of the input.
func (d *jsonDecoder) skipSpace() (byte, bool, error) {
	for {
		b := d.in.unread()
		i := 0
		for ; i < len(b) && isSpace(b[i]); i++ {
			if b[i] == '\n' {
				d.line++
			}
		}
		d.in.advance(i)
		if i < len(b) {
			return b[i], true, nil
		}
		if d.in.eof {
			return 0, false, nil
		}
		if err := d.in.more(); err != nil {
			return 0, false, d.fatal(err)
		}
	}
}

// decode appends the values of the object in text to dst, by column.
func (d *jsonDecoder) decode(dst []connect.Value, text []byte, line int) ([]connect.Value, int, error) {
	base := len(dst)
	bad := func(err error) ([]connect.Value, int, error) {
		return dst[:base], line, &badRecord{line, text, err}
	}
	if !utf8.Valid(text) {
		return bad(errInvalidUTF8)
	}
	if !json.Valid(text) {
		return bad(json.Unmarshal(text, new(json.RawMessage)))
	}
	i := skipSpace(text, 0)
	if text[i] != '{' {
		return bad(fmt.Errorf("a JSON %s, not an object", kindOf(text[i])))
	}
	w := len(d.cols.names)
	dst = slices.Grow(dst, w)[:base+w]
	clear(dst[base:])
	if d.gen++; d.gen == 0 {
		clear(d.seen)
		d.gen = 1
	}
	for i = skipSpace(text, i+1); text[i] != '}'; i = skipSpace(text, i) {
		if text[i] == ',' {
			i = skipSpace(text, i+1)
		}
		ke := stringEnd(text, i)
		idx, ok := d.cols.index[string(text[i+1:ke-1])]
		key := ""
		if !ok || bytes.IndexByte(text[i:ke], '\\') >= 0 {
			if err := json.Unmarshal(text[i:ke], &key); err != nil {
				return bad(err)
			}
			idx, ok = d.cols.index[key]
		}
		if !ok {
			if d.cols.frozen {
				return bad(fmt.Errorf("key %q is not among the columns, which are the keys of the first %d records: raise the sample size", key, d.cols.sample))
			}
			idx = d.cols.add(key)
			dst = append(dst, connect.Value{})
		}
		if idx >= len(d.seen) {
			d.seen = append(d.seen, make([]uint32, idx+1-len(d.seen))...)
		}
		if d.seen[idx] == d.gen {
			return bad(fmt.Errorf("key %q appears twice", d.cols.names[idx]))
		}
		d.seen[idx] = d.gen
		i = skipSpace(text, skipSpace(text, ke)+1) // past ':'
		end, _ := valueEnd(text[i:], true)
		dst[base+idx] = d.toValue(text[i : i+end])
		i += end
	}
	return dst, line, nil
}

// toValue returns the raw value of a JSON value's text.
func (d *jsonDecoder) toValue(raw []byte) connect.Value {
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return connect.Text(string(raw[1 : len(raw)-1]))
		}
		var s string
		_ = json.Unmarshal(raw, &s) // cannot fail: the record is valid JSON
		return connect.Text(s)
	case 't':
		return connect.Bool(true)
	case 'f':
		return connect.Bool(false)
	case 'n':
		return connect.Value{}
	case '{', '[':
		d.buf.Reset()
		_ = json.Compact(&d.buf, raw) // cannot fail: the record is valid JSON
		return connect.JSON(d.buf.String())
	}
	return connect.Numeric(string(raw))
}

// valueEnd returns the length of the JSON value at the start of b, found
// by counting brackets outside strings: it does not check the value.
func valueEnd(b []byte, atEOF bool) (int, error) {
	more := func() (int, error) {
		if atEOF {
			return 0, errors.New("the input ends inside a value")
		}
		return 0, errNeedMore
	}
	switch b[0] {
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := stringEnd(b, i)
				if j < 0 {
					return more()
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, nil
				}
			}
		}
		return more()
	case '"':
		if j := stringEnd(b, 0); j >= 0 {
			return j, nil
		}
		return more()
	case ',', ':', '}', ']':
		return 0, fmt.Errorf("%q where a value should be", b[0])
	}
	i := 0
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != ']' && b[i] != '}' {
		i++
	}
	if i == len(b) && !atEOF {
		return 0, errNeedMore
	}
	return i, nil
}

// stringEnd returns the index after the closing quote of the JSON string
// that starts at b[i], or -1 if b ends first.
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		k += j
		n := 0
		for m := k - 1; m > i && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return k + 1
		}
		j = k + 1
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (d *jsonDecoder) syntax(err error) error {
	return &LineError{Name: d.name, Line: d.line + 1, Err: fmt.Errorf("JSON array: %w", err)}
}

func (d *jsonDecoder) fatal(err error) error {
	return fmt.Errorf("file: read %s after line %d: %w", nameOr(d.name), d.line, err)
}

func (d *jsonDecoder) lines() int { return d.line }

func (d *jsonDecoder) resume(lines int) {
	d.line = lines
	if d.array {
		d.state = arrayNext
	}
}

func (d *jsonDecoder) boundary(prev byte) bool { return d.array || prev == '\n' }
