package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// ErrClosed is returned by a Read after Close.
var ErrClosed = errors.New("mysql: read after Close")

// Read fills buf with the next rows, as the engine's source contract says.
// A value it cannot decode is a [*weir.BadRecordError] naming the row,
// after which reading goes on with the next row. It checks ctx every 256
// rows; a server that stops answering is interrupted by the context given
// to Open.
func (r *reader) Read(ctx context.Context, buf []connect.Row) (int, error) {
	if r.closed {
		return 0, ErrClosed
	}
	if r.done {
		return 0, io.EOF
	}
	defer r.flushNotes()
	nc := len(r.dest)
	vals := make([]connect.Value, len(buf)*nc)
	for n := range buf {
		if n%checkCtxEveryN == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if err := r.rows.Next(r.dest); err != nil {
			if err == io.EOF {
				r.done = true
				return n, io.EOF
			}
			return n, fmt.Errorf("mysql: read %s after row %d: %w", r.table.Name, r.line, err)
		}
		r.line++
		row := vals[n*nc : (n+1)*nc : (n+1)*nc]
		for j, v := range r.dest {
			val, err := r.decode(j, v)
			if err != nil {
				return n, &weir.BadRecordError{Pos: r.rowPos().String(),
					Err: fmt.Errorf("column %q (%s): %w", r.table.Columns[j].Name, r.table.Columns[j].SourceType, err)}
			}
			row[j] = val
		}
		buf[n] = connect.Row{Values: row, Pos: r.rowPos()}
	}
	return len(buf), nil
}

// rowPos is the position of the row in r.dest.
func (r *reader) rowPos() connect.Pos {
	switch {
	case r.pos >= 0:
		i, _ := r.dest[r.pos].(int64)
		return connect.Pos{Name: r.table.Name, Line: i}
	case len(r.key) == 0:
		return connect.Pos{Name: r.table.Name, Line: r.line}
	}
	b := append(r.keyBuf[:0], r.table.Name...)
	for i, k := range r.key {
		b = append(b, ", "[:min(2, i*2)]...)
		if i == 0 {
			b = append(b, " ("...)
		}
		b = append(b, r.table.Columns[k].Name...)
		b = append(b, '=')
		b = appendDriverValue(b, r.dest[k])
	}
	b = append(b, ')')
	r.keyBuf = b
	return connect.Pos{Name: string(b), Line: r.line}
}

func appendDriverValue(b []byte, v driver.Value) []byte {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case []byte:
		return strconv.AppendQuote(b, string(x))
	case nil:
		return append(b, "NULL"...)
	}
	return fmt.Append(b, v)
}

// decode turns the driver's value of column j into a connect.Value. The
// text protocol gives integers as int64 (uint64 for BIGINT UNSIGNED),
// FLOAT as float32, DOUBLE as float64 and everything else as the bytes of
// its text (or a BLOB's bytes), valid until the next row.
func (r *reader) decode(j int, v driver.Value) (connect.Value, error) {
	if v == nil {
		return connect.Value{}, nil
	}
	switch r.kinds[j] {
	case kBool:
		i, err := asInt(v)
		if i != 0 && i != 1 {
			r.note(j, noteBoolNot01)
		}
		return connect.Bool(i != 0), err
	case kInt32:
		i, err := asInt(v)
		if err == nil && int64(int32(i)) != i {
			err = fmt.Errorf("%d does not fit an integer", i)
		}
		return connect.Int32(int32(i)), err
	case kInt64:
		i, err := asInt(v)
		return connect.Int64(i), err
	case kUint64:
		switch x := v.(type) {
		case uint64:
			return connect.Numeric(strconv.FormatUint(x, 10)), nil
		case int64:
			return connect.Numeric(strconv.FormatInt(x, 10)), nil
		}
	case kFloat32:
		if f, ok := v.(float32); ok {
			return connect.Float64(float64(f)), nil
		}
	case kFloat64:
		if f, ok := v.(float64); ok {
			return connect.Float64(f), nil
		}
	}
	b, ok := v.([]byte)
	if !ok {
		return connect.Value{}, fmt.Errorf("unexpected %T from the driver", v)
	}
	switch r.kinds[j] {
	case kNumeric:
		return connect.Numeric(string(b)), nil
	case kBytes:
		return connect.Bytes(b), nil
	case kJSON:
		return connect.JSON(string(b)), nil
	case kEnum:
		if len(b) == 0 {
			r.note(j, noteEnumEmpty)
			return connect.Value{}, nil
		}
	case kBit:
		return connect.Text(bits(b, r.widths[j])), nil
	case kDate, kDatetime, kTimestamp:
		return r.decodeTime(j, b)
	}
	return connect.Text(string(b)), nil
}

func asInt(v driver.Value) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		if int64(x) >= 0 {
			return int64(x), nil
		}
		return 0, fmt.Errorf("%d does not fit a bigint", x)
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	}
	return 0, fmt.Errorf("unexpected %T from the driver", v)
}

// bits returns the n low bits of the big-endian b as binary digits.
func bits(b []byte, n int) string {
	out := make([]byte, n)
	for i := range n {
		bit := n - 1 - i // from the most significant
		byteIdx := len(b) - 1 - bit/8
		if byteIdx >= 0 && b[byteIdx]>>(bit%8)&1 == 1 {
			out[i] = '1'
		} else {
			out[i] = '0'
		}
	}
	return string(out)
}

// decodeTime parses "YYYY-MM-DD[ HH:MM:SS[.ffffff]]", the session being in
// UTC; a zero date, or one with a zero month or day, is NULL and noted.
func (r *reader) decodeTime(j int, b []byte) (connect.Value, error) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return connect.Value{}, fmt.Errorf("%q is not a date", b)
	}
	y, m, d := digits(b[0:4]), digits(b[5:7]), digits(b[8:10])
	if y < 0 || m < 0 || d < 0 {
		return connect.Value{}, fmt.Errorf("%q is not a date", b)
	}
	if m == 0 || d == 0 {
		r.note(j, pick(y == 0 && m == 0 && d == 0, noteZeroDate, noteZeroPart))
		return connect.Value{}, nil
	}
	var hh, mm, ss, ns int
	if len(b) > 10 {
		if len(b) < 19 || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
			return connect.Value{}, fmt.Errorf("%q is not a date and time", b)
		}
		hh, mm, ss = digits(b[11:13]), digits(b[14:16]), digits(b[17:19])
		if len(b) > 20 && b[19] == '.' {
			frac := b[20:]
			ns = digits(frac)
			for range 9 - len(frac) {
				ns *= 10
			}
		}
		if hh < 0 || mm < 0 || ss < 0 || ns < 0 {
			return connect.Value{}, fmt.Errorf("%q is not a date and time", b)
		}
	}
	t := time.Date(y, time.Month(m), d, hh, mm, ss, ns, time.UTC)
	switch r.kinds[j] {
	case kDate:
		return connect.Date(t), nil
	case kDatetime:
		return connect.Timestamp(t), nil
	}
	return connect.TimestampTZ(t), nil
}

// digits parses decimal digits, or returns -1.
func digits(b []byte) int {
	if len(b) == 0 || len(b) > 9 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Close ends the read and returns the connection: rows not read are
// skipped on the server's side by closing the connection rather than
// reading them. It is idempotent.
func (r *reader) Close(context.Context) error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.flushNotes()
	if !r.done {
		// Draining the rest of a big result set to reuse the connection
		// would cost as much as reading it: the connection is closed
		// instead. The driver then complains that the result set is
		// unread ("busy buffer") but closes the socket all the same.
		r.conn.Close()
		return nil
	}
	err := errors.Join(r.rows.Close(), r.conn.Close())
	if err != nil {
		return fmt.Errorf("mysql: close read of %s: %w", r.table.Name, err)
	}
	return nil
}
