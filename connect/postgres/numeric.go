package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// PostgreSQL's numeric in binary: int16 ndigits, int16 weight, uint16
// sign, int16 dscale, then ndigits base-10000 digits, most significant
// first; the first has weight weight (10000^weight). dscale is the number
// of decimal digits shown after the point.
const (
	numericPos    = 0x0000
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPosInf = 0xD000
	numericNegInf = 0xF000
	maxDscale     = 0x3FFF
)

// appendNumericOf appends v, a numeric, integer or double, as a binary
// numeric with its length. An integer converts exactly; a double as the
// shortest decimal that reads back as the same double.
func appendNumericOf(dst []byte, v connect.Value, scratch *[]byte) ([]byte, error) {
	switch v.Type() {
	case connect.TypeInt32, connect.TypeInt64:
		var b [24]byte
		return appendNumeric(dst, string(strconv.AppendInt(b[:0], v.Int(), 10)), scratch)
	case connect.TypeFloat64:
		var b [32]byte
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return appendNumeric(dst, v.String(), scratch)
		}
		return appendNumeric(dst, string(strconv.AppendFloat(b[:0], f, 'e', -1, 64)), scratch)
	}
	return appendNumeric(dst, v.Str(), scratch)
}

// appendNumeric appends the decimal s ("-12.50", "1e3", "NaN",
// "Infinity") as a binary numeric with its length. digits is scratch
// space for the decimal digits.
func appendNumeric(dst []byte, s string, digits *[]byte) ([]byte, error) {
	bad := func() ([]byte, error) { return dst, fmt.Errorf("%q is not a number", s) }
	neg := false
	rest := s
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	special := -1
	switch {
	case strings.EqualFold(rest, "NaN") && len(rest) == len(s):
		special = numericNaN
	case strings.EqualFold(rest, "Infinity"), strings.EqualFold(rest, "inf"):
		special = numericPosInf
		if neg {
			special = numericNegInf
		}
	}
	if special >= 0 {
		dst = append(dst, 0, 0, 0, 8, 0, 0, 0, 0)
		return append(binary.BigEndian.AppendUint16(dst, uint16(special)), 0, 0), nil
	}

	// The mantissa's digits without leading zeros, how many of them
	// follow the point, and the exponent.
	d := (*digits)[:0]
	frac, exp, seen, point := 0, 0, false, false
	i := 0
	for ; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if len(d) > 0 || c != '0' {
				d = append(d, c-'0')
			}
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			goto exponent
		}
	}
exponent:
	if !seen {
		return bad()
	}
	if i < len(rest) {
		if rest[i] != 'e' && rest[i] != 'E' {
			return bad()
		}
		e, err := strconv.Atoi(rest[i+1:])
		if err != nil || e > 1_000_000 || e < -1_000_000 {
			return bad()
		}
		exp = e
	}
	*digits = d
	dscale := max(0, frac-exp)
	exp10 := exp - frac // value = d × 10^exp10
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
		exp10++
	}
	if dscale > maxDscale {
		return dst, fmt.Errorf("%q has more than %d digits after the point", s, maxDscale)
	}
	sign := uint16(numericPos)
	if neg && len(d) > 0 {
		sign = numericNeg
	}
	if len(d) == 0 {
		dst = append(dst, 0, 0, 0, 8, 0, 0, 0, 0)
		dst = binary.BigEndian.AppendUint16(dst, sign)
		return binary.BigEndian.AppendUint16(dst, uint16(dscale)), nil
	}
	// Pad d on the left so that the point falls between groups of four.
	p := len(d) + exp10 // digits before the point (negative: zeros after it)
	pad := ((-p)%4 + 4) % 4
	weight := (p+pad)/4 - 1
	ngroups := (pad + len(d) + 3) / 4
	if weight > math.MaxInt16 || weight < math.MinInt16 || ngroups > math.MaxInt16 {
		return dst, fmt.Errorf("%q is out of range for numeric", s)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(8+2*ngroups))
	dst = binary.BigEndian.AppendUint16(dst, uint16(ngroups))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	for g := range ngroups {
		var n uint16
		for j := range 4 {
			n *= 10
			if k := g*4 + j - pad; k >= 0 && k < len(d) {
				n += uint16(d[k])
			}
		}
		dst = binary.BigEndian.AppendUint16(dst, n)
	}
	return dst, nil
}

// appendNumericText appends the binary numeric b as PostgreSQL writes it:
// dscale digits after the point.
func appendNumericText(dst, b []byte) ([]byte, error) {
	if len(b) < 8 {
		return dst, errors.New("numeric: short value")
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n {
		return dst, errors.New("numeric: length does not match its digits")
	}
	switch sign {
	case numericNaN:
		return append(dst, "NaN"...), nil
	case numericPosInf:
		return append(dst, "Infinity"...), nil
	case numericNegInf:
		return append(dst, "-Infinity"...), nil
	case numericNeg:
		dst = append(dst, '-')
	}
	digit := func(k int) int {
		if k < 0 || k >= n {
			return 0
		}
		return int(binary.BigEndian.Uint16(b[8+2*k:]))
	}
	if weight < 0 {
		dst = append(dst, '0')
	}
	for k := 0; k <= weight; k++ {
		if k == 0 {
			dst = strconv.AppendInt(dst, int64(digit(k)), 10)
		} else {
			dst = append4(dst, digit(k))
		}
	}
	if dscale > 0 {
		dst = append(dst, '.')
		for j := 1; dscale > 0; j++ {
			var g [4]byte
			append4(g[:0], digit(weight+j))
			c := min(4, dscale)
			dst = append(dst, g[:c]...)
			dscale -= c
		}
	}
	return dst, nil
}

// append4 appends n (< 10000) as four digits.
func append4(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// appendUUID appends the 16 bytes of the UUID s, in the forms PostgreSQL
// reads: 32 hex digits, optionally in braces, with a hyphen allowed after
// any group of four.
func appendUUID(dst []byte, s string) ([]byte, error) {
	t := s
	if len(t) >= 2 && t[0] == '{' && t[len(t)-1] == '}' {
		t = t[1 : len(t)-1]
	}
	var out [16]byte
	n := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '-' && n > 0 && n%4 == 0 && n < 32 && i+1 < len(t) && t[i+1] != '-' {
			continue
		}
		h := unhex(c)
		if h < 0 || n == 32 {
			return dst, fmt.Errorf("%q is not a UUID", s)
		}
		out[n/2] |= byte(h) << (4 * (1 - n%2))
		n++
	}
	if n != 32 {
		return dst, fmt.Errorf("%q is not a UUID", s)
	}
	return append(dst, out[:]...), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// appendUUIDText appends the 16 bytes b as 8-4-4-4-12 lower-case hex.
func appendUUIDText(dst, b []byte) []byte {
	const hexDigits = "0123456789abcdef"
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}
