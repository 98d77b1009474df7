package mongo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/internal/jsontext"
)

// How a RowSource turns BSON into values: the package doc's "Generic rows"
// section has the table.

var (
	errMalformed = errors.New("malformed BSON value")
	errUTF8      = errors.New("a string that is not valid UTF-8")
)

// minMillis and maxMillis bound the BSON dates that are timestamps: the
// years 1 to 9999, which every target and connect's text forms hold.
var (
	minMillis = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxMillis = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - 1
)

// toValue returns the raw value of a top-level field.
func toValue(rv bson.RawValue) (connect.Value, error) {
	bad := func(ok bool) error {
		if ok {
			return nil
		}
		return fmt.Errorf("%w of type %v", errMalformed, rv.Type)
	}
	switch rv.Type {
	case bson.TypeString:
		s, ok := rv.StringValueOK()
		if !ok {
			return connect.Value{}, bad(ok)
		}
		if !utf8.ValidString(s) {
			return connect.Value{}, errUTF8
		}
		return connect.Text(s), nil
	case bson.TypeInt32:
		i, ok := rv.Int32OK()
		return connect.Int32(i), bad(ok)
	case bson.TypeInt64:
		i, ok := rv.Int64OK()
		return connect.Int64(i), bad(ok)
	case bson.TypeDouble:
		f, ok := rv.DoubleOK()
		return connect.Float64(f), bad(ok)
	case bson.TypeDecimal128:
		d, ok := rv.Decimal128OK()
		if !ok {
			return connect.Value{}, bad(ok)
		}
		if f, special := decimalSpecial(d); special {
			return connect.Float64(f), nil
		}
		return connect.Numeric(decimalText(d)), nil
	case bson.TypeBoolean:
		b, ok := rv.BooleanOK()
		return connect.Bool(b), bad(ok)
	case bson.TypeDateTime:
		ms, ok := rv.DateTimeOK()
		if !ok {
			return connect.Value{}, bad(ok)
		}
		if ms < minMillis || ms > maxMillis {
			return extJSONText(rv)
		}
		return connect.TimestampTZ(time.UnixMilli(ms)), nil
	case bson.TypeObjectID:
		id, ok := rv.ObjectIDOK()
		return connect.Text(id.Hex()), bad(ok)
	case bson.TypeNull, bson.TypeUndefined:
		return connect.Null(), nil
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		b, err := appendJSON(nil, rv)
		if err != nil {
			return connect.Value{}, err
		}
		return connect.JSON(string(b)), nil
	case bson.TypeBinary:
		_, data, ok := rv.BinaryOK()
		return connect.Bytes(data), bad(ok)
	}
	return extJSONText(rv)
}

// appendJSON appends rv as plain JSON, as connect/file rewrites
// mongoexport's Extended JSON: an ObjectID as its hex string, a date as an
// RFC 3339 string, numbers as numbers (non-finite ones as null); types
// JSON has no plain form for (binary, regex, timestamp, ...) as their
// relaxed Extended JSON object.
func appendJSON(dst []byte, rv bson.RawValue) ([]byte, error) {
	switch rv.Type {
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		open, end := byte('{'), byte('}')
		if rv.Type == bson.TypeArray {
			open, end = '[', ']'
		}
		elems, err := bson.Raw(rv.Value).Elements()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errMalformed, err)
		}
		dst = append(dst, open)
		for i, e := range elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			if open == '{' {
				if !utf8.ValidString(e.Key()) {
					return nil, errUTF8
				}
				dst = append(jsontext.AppendString(dst, e.Key()), ':')
			}
			if dst, err = appendJSON(dst, e.Value()); err != nil {
				return nil, err
			}
		}
		return append(dst, end), nil
	case bson.TypeDouble:
		if f, ok := rv.DoubleOK(); ok {
			return appendFloat(dst, f), nil
		}
	case bson.TypeDecimal128:
		if d, ok := rv.Decimal128OK(); ok {
			if f, special := decimalSpecial(d); special {
				return appendFloat(dst, f), nil
			}
			return append(dst, decimalText(d)...), nil
		}
	case bson.TypeDateTime:
		if ms, ok := rv.DateTimeOK(); ok && ms >= minMillis && ms <= maxMillis {
			dst = append(dst, '"')
			dst = time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.999Z07:00")
			return append(dst, '"'), nil
		}
	case bson.TypeObjectID:
		if id, ok := rv.ObjectIDOK(); ok {
			return append(append(append(dst, '"'), id.Hex()...), '"'), nil
		}
	case bson.TypeNull, bson.TypeUndefined:
		return append(dst, "null"...), nil
	case bson.TypeBoolean:
		if b, ok := rv.BooleanOK(); ok {
			return strconv.AppendBool(dst, b), nil
		}
	case bson.TypeInt32:
		if i, ok := rv.Int32OK(); ok {
			return strconv.AppendInt(dst, int64(i), 10), nil
		}
	case bson.TypeInt64:
		if i, ok := rv.Int64OK(); ok {
			return strconv.AppendInt(dst, i, 10), nil
		}
	case bson.TypeString:
		s, ok := rv.StringValueOK()
		if ok && !utf8.ValidString(s) {
			return nil, errUTF8
		}
		if ok {
			return jsontext.AppendString(dst, s), nil
		}
	}
	// The types without a plain form, and malformed values (an error).
	b, err := extJSONValue(rv)
	return append(dst, b...), err
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// extJSONText returns rv's relaxed Extended JSON as text.
func extJSONText(rv bson.RawValue) (connect.Value, error) {
	b, err := extJSONValue(rv)
	return connect.Text(string(b)), err
}

// extJSONValue returns rv in relaxed Extended JSON ({"$regularExpression":
// ...}, 12, true). The driver encodes documents only: rv is encoded as the
// one field of a document, which is then cut away.
func extJSONValue(rv bson.RawValue) ([]byte, error) {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: rv}}, false, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	b, ok := bytes.CutPrefix(b, []byte(`{"v":`))
	if !ok || len(b) == 0 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("%w: unexpected Extended JSON %q", errMalformed, b)
	}
	return b[:len(b)-1], nil
}

// extJSON returns a document's relaxed Extended JSON, or nil if it does
// not encode, for a bad record's Raw.
func extJSON(d bson.Raw) []byte {
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		return nil
	}
	return b
}

// decimalSpecial returns NaN and the infinities as doubles: numeric text
// cannot spell them.
func decimalSpecial(d bson.Decimal128) (float64, bool) {
	switch {
	case d.IsNaN():
		return math.NaN(), true
	case d.IsInf() != 0:
		return math.Inf(d.IsInf()), true
	}
	return 0, false
}

// decimalText returns a finite decimal without exponent, keeping its
// scale: 1.50E+2 is "150", 12.50 stays "12.50", 1E-3 is "0.001".
func decimalText(d bson.Decimal128) string {
	bi, exp, err := d.BigInt()
	if err != nil { // only NaN and the infinities, handled before
		return d.String()
	}
	var b strings.Builder
	if bi.Sign() < 0 {
		b.WriteByte('-')
		bi.Neg(bi)
	}
	digits := bi.String()
	switch {
	case exp >= 0:
		b.WriteString(digits)
		if digits != "0" {
			b.WriteString(strings.Repeat("0", exp))
		}
	case len(digits) > -exp:
		b.WriteString(digits[:len(digits)+exp])
		b.WriteByte('.')
		b.WriteString(digits[len(digits)+exp:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -exp-len(digits)))
		b.WriteString(digits)
	}
	return b.String()
}
