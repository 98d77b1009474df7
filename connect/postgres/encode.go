package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/weir-etl/weir"
	"github.com/weir-etl/weir/connect"
)

// kind is how the row sink writes a column's values and the row source
// reads them back: one per PostgreSQL type with an encoder of its own.
type kind uint8

const (
	kindOther kind = iota // no binary encoder: values travel as text
	kindBool
	kindInt2
	kindInt4
	kindInt8
	kindFloat4
	kindFloat8
	kindNumeric
	kindText // text, varchar, bpchar, name, citext
	kindDate
	kindTimestamp
	kindTimestampTZ
	kindJSON
	kindJSONB
	kindBytea
	kindUUID
	kindInterval // from text: see parseInterval
	kindBit      // bit and bit varying, from text
)

// kindOf returns the kind of a column of type oid named typname (the base
// type's, for a domain). citext has no fixed OID; its binary form is text's.
func kindOf(oid uint32, typname string) kind {
	switch oid {
	case pgtype.BoolOID:
		return kindBool
	case pgtype.Int2OID:
		return kindInt2
	case pgtype.Int4OID:
		return kindInt4
	case pgtype.Int8OID:
		return kindInt8
	case pgtype.Float4OID:
		return kindFloat4
	case pgtype.Float8OID:
		return kindFloat8
	case pgtype.NumericOID:
		return kindNumeric
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		return kindText
	case pgtype.DateOID:
		return kindDate
	case pgtype.TimestampOID:
		return kindTimestamp
	case pgtype.TimestamptzOID:
		return kindTimestampTZ
	case pgtype.JSONOID:
		return kindJSON
	case pgtype.JSONBOID:
		return kindJSONB
	case pgtype.ByteaOID:
		return kindBytea
	case pgtype.UUIDOID:
		return kindUUID
	case pgtype.IntervalOID:
		return kindInterval
	case pgtype.BitOID, pgtype.VarbitOID:
		return kindBit
	}
	if typname == "citext" {
		return kindText
	}
	return kindOther
}

// connectType is the connect.Type a column of kind k reads as.
func (k kind) connectType() connect.Type {
	switch k {
	case kindBool:
		return connect.TypeBool
	case kindInt2, kindInt4:
		return connect.TypeInt32
	case kindInt8:
		return connect.TypeInt64
	case kindFloat4, kindFloat8:
		return connect.TypeFloat64
	case kindNumeric:
		return connect.TypeNumeric
	case kindDate:
		return connect.TypeDate
	case kindTimestamp:
		return connect.TypeTimestamp
	case kindTimestampTZ:
		return connect.TypeTimestampTZ
	case kindJSON, kindJSONB:
		return connect.TypeJSON
	case kindBytea:
		return connect.TypeBytes
	}
	return connect.TypeText
}

// fits reports whether a value of type t may be written to a column of
// kind k. Only exact conversions are allowed: integers into floats and
// numerics (checked for range or exactness when encoded), any text-held
// value into text; never text into a number or a date.
func (k kind) fits(t connect.Type) bool {
	switch k {
	case kindBool:
		return t == connect.TypeBool
	case kindInt2, kindInt4, kindInt8:
		return t == connect.TypeInt32 || t == connect.TypeInt64
	case kindFloat4, kindFloat8:
		return t == connect.TypeFloat64 || t == connect.TypeInt32 || t == connect.TypeInt64
	case kindNumeric:
		return t == connect.TypeNumeric || t == connect.TypeInt32 || t == connect.TypeInt64 || t == connect.TypeFloat64
	case kindText:
		return t == connect.TypeText || t == connect.TypeNumeric || t == connect.TypeJSON
	case kindDate:
		return t == connect.TypeDate
	case kindTimestamp:
		return t == connect.TypeTimestamp
	case kindTimestampTZ:
		return t == connect.TypeTimestampTZ
	case kindJSON, kindJSONB:
		return t == connect.TypeJSON
	case kindBytea:
		return t == connect.TypeBytes
	case kindUUID:
		return t == connect.TypeText
	}
	// A type weir does not know (or parses only in some forms, as
	// interval): the server parses the value's text.
	return t != connect.TypeBytes
}

// column is a target column as the catalog describes it.
type column struct {
	name string
	kind kind
	typ  string // format_type, for errors ("character varying(20)")
}

// Microseconds and days between 1970-01-01 (connect.Value's epoch) and
// 2000-01-01 (PostgreSQL's).
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1_000_000
)

var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

// appendBinary appends v, which is not NULL and fits k, in PostgreSQL's
// binary format, preceded by its length. scratch is a reused buffer.
func appendBinary(dst []byte, k kind, v connect.Value, scratch *[]byte) ([]byte, error) {
	switch k {
	case kindBool:
		return append(dst, 0, 0, 0, 1, byte(v.Int())), nil
	case kindInt2:
		i := v.Int()
		if i < math.MinInt16 || i > math.MaxInt16 {
			return dst, fmt.Errorf("%d is out of range for smallint", i)
		}
		return binary.BigEndian.AppendUint16(append(dst, 0, 0, 0, 2), uint16(i)), nil
	case kindInt4:
		i := v.Int()
		if i < math.MinInt32 || i > math.MaxInt32 {
			return dst, fmt.Errorf("%d is out of range for integer", i)
		}
		return binary.BigEndian.AppendUint32(append(dst, 0, 0, 0, 4), uint32(i)), nil
	case kindInt8:
		return binary.BigEndian.AppendUint64(append(dst, 0, 0, 0, 8), uint64(v.Int())), nil
	case kindFloat4:
		f, err := floatOf(v, 1<<24)
		if err != nil {
			return dst, err
		}
		if f32 := float32(f); math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return dst, fmt.Errorf("%g is out of range for real", f)
		}
		return binary.BigEndian.AppendUint32(append(dst, 0, 0, 0, 4), math.Float32bits(float32(f))), nil
	case kindFloat8:
		f, err := floatOf(v, 1<<53)
		if err != nil {
			return dst, err
		}
		return binary.BigEndian.AppendUint64(append(dst, 0, 0, 0, 8), math.Float64bits(f)), nil
	case kindNumeric:
		return appendNumericOf(dst, v, scratch)
	case kindText, kindJSON:
		return appendString(dst, v.Str())
	case kindJSONB:
		if err := checkText(v.Str()); err != nil {
			return dst, err
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.Str())+1))
		return append(append(dst, 1), v.Str()...), nil
	case kindDate:
		d := v.Int() - pgEpochDays
		if d < math.MinInt32+1 || d > math.MaxInt32-1 { // the extremes mean ±infinity
			return dst, fmt.Errorf("date %s is out of range", v)
		}
		return binary.BigEndian.AppendUint32(append(dst, 0, 0, 0, 4), uint32(d)), nil
	case kindTimestamp, kindTimestampTZ:
		us := v.Int()
		if us < math.MinInt64+pgEpochMicros+1 { // would wrap, or mean -infinity
			return dst, fmt.Errorf("timestamp %s is out of range", v)
		}
		return binary.BigEndian.AppendUint64(append(dst, 0, 0, 0, 8), uint64(us-pgEpochMicros)), nil
	case kindBytea:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.Str())))
		return append(dst, v.Str()...), nil
	case kindUUID:
		return appendUUID(append(dst, 0, 0, 0, 16), v.Str())
	case kindInterval:
		// The batch's values were checked by batchBinary.
		if iv, ok := parseInterval(v.Str()); ok {
			return appendInterval(dst, iv), nil
		}
	case kindBit:
		if isBits(v.Str()) {
			return appendBits(dst, v.Str()), nil
		}
	}
	return dst, fmt.Errorf("internal error: no binary encoder for kind %d", k)
}

// appendString appends s, checked as PostgreSQL text, with its length.
func appendString(dst []byte, s string) ([]byte, error) {
	if err := checkText(s); err != nil {
		return dst, err
	}
	if len(s) > math.MaxInt32 {
		return dst, errors.New("text longer than 2 GB")
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...), nil
}

// checkText returns why the server would refuse s as text: PostgreSQL text
// is UTF-8 (the encoding weir's connections use) and holds no NUL byte.
// Found here, the error names the column; found by the server, only a COPY
// line.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 { // vectorised, unlike a loop
		return errors.New("text holds a NUL byte, which PostgreSQL text cannot")
	}
	return nil
}

// floatOf returns v, a double or an integer, as a float64; an integer only
// if its magnitude is at most exact, so that it converts exactly.
func floatOf(v connect.Value, exact int64) (float64, error) {
	if v.Type() == connect.TypeFloat64 {
		return v.Float(), nil
	}
	if i := v.Int(); i > exact || i < -exact {
		return 0, fmt.Errorf("integer %d has no exact floating-point value of the column's precision", i)
	}
	return float64(v.Int()), nil
}

// copyReader streams a batch of rows as the data of a COPY: an io.Reader
// that pgconn's CopyFrom reads on a goroutine of its own, encoding rows
// into a reused buffer as it goes. It stops at the first row that does not
// fit the columns, with a *weir.RecordError that err keeps (pgconn only
// sends the server a CopyFail).
type copyReader struct {
	table  string
	cols   []column
	binary bool
	rows   []connect.Row
	next   int    // next row to encode; -1 before the header
	ended  bool   // the trailer is in buf
	buf    []byte // encoded, not yet read: buf[off:]
	off    int
	tmp    []byte // scratch for numerics
	err    error
	// mu orders Read with abandon: when a COPY fails, pgconn may still
	// call Read from a goroutine of its own (it does not wait for it when
	// the connection breaks), which must then stop at once rather than
	// read the batch, which the caller reuses.
	mu        sync.Mutex
	abandoned bool
}

// reset prepares r to stream rows into the columns cols.
func (r *copyReader) reset(table string, cols []column, binary bool, rows []connect.Row) {
	r.table, r.cols, r.binary, r.rows = table, cols, binary, rows
	r.next, r.ended, r.buf, r.off, r.err = -1, false, r.buf[:0], 0, nil
}

// errAbandoned ends a Read of a COPY that already failed.
var errAbandoned = errors.New("postgres: COPY abandoned")

// abandon ends r's use after a failed COPY: a later Read (from pgconn's
// goroutine) returns at once. It returns the error Read met encoding a
// row, if any.
func (r *copyReader) abandon() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.abandoned = true
	return r.err
}

// release drops the reader's reference to the batch.
func (r *copyReader) release() { r.rows = nil }

// Read fills p with the next encoded bytes. It encodes rows until at least
// len(p) bytes are pending or the batch is done.
func (r *copyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abandoned {
		return 0, errAbandoned
	}
	if r.err != nil {
		return 0, r.err
	}
	if r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
	} else if r.off > 0 {
		r.buf = r.buf[:copy(r.buf, r.buf[r.off:])]
		r.off = 0
	}
	for len(r.buf) < len(p) && !r.ended {
		switch {
		case r.next < 0:
			if r.binary {
				r.buf = append(r.buf, copyHeader...)
			}
		case r.next == len(r.rows):
			if r.binary {
				r.buf = append(r.buf, copyTrailer...)
			}
			r.ended = true
		default:
			if err := r.appendRow(&r.rows[r.next], r.next); err != nil {
				r.err = err
				return 0, err
			}
		}
		r.next++
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	if n == 0 && r.ended {
		return 0, io.EOF
	}
	return n, nil
}

// appendRow appends row i of the batch, or returns why it cannot.
func (r *copyReader) appendRow(row *connect.Row, i int) error {
	if len(row.Values) != len(r.cols) {
		return r.rowErr(row, i, fmt.Errorf("copy %s: the row has %d values for %d columns", r.table, len(row.Values), len(r.cols)))
	}
	start := len(r.buf)
	if r.binary {
		r.buf = binary.BigEndian.AppendUint16(r.buf, uint16(len(r.cols)))
	}
	for j := range r.cols {
		c := &r.cols[j]
		v := row.Values[j]
		var err error
		switch {
		case r.binary && v.IsNull():
			r.buf = append(r.buf, 0xff, 0xff, 0xff, 0xff)
		case !c.kind.fits(v.Type()) && !v.IsNull():
			err = fmt.Errorf("a %s value does not fit: %s", v.Type(), quoteValue(v))
		case r.binary:
			r.buf, err = appendBinary(r.buf, c.kind, v, &r.tmp)
		default:
			if j > 0 {
				r.buf = append(r.buf, '\t')
			}
			r.buf, err = appendCopyText(r.buf, c.kind, v, &r.tmp)
		}
		if err != nil {
			r.buf = r.buf[:start]
			return r.rowErr(row, i, fmt.Errorf("copy %s: column %q (%s): %w", r.table, c.name, c.typ, err))
		}
	}
	if !r.binary {
		r.buf = append(r.buf, '\n')
	}
	return nil
}

// rowErr returns err for row i of the batch, naming where the row came
// from when the source said.
func (r *copyReader) rowErr(row *connect.Row, i int, err error) error {
	if row.Pos != (connect.Pos{}) {
		err = fmt.Errorf("%s: %w", row.Pos, err)
	}
	return &weir.RecordError{Index: i, Err: err}
}

// quoteValue shows v in an error, cut to a readable length.
func quoteValue(v connect.Value) string {
	s := v.String()
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("%q", s)
}
