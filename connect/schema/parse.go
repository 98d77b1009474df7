package schema

import (
	"strconv"
	"strings"
	"time"
)

// PostgreSQL's limits on a numeric: digits before the point and after it.
// A decimal beyond them is not a numeric.
const (
	maxNumericInt   = 131072
	maxNumericScale = 16383
)

// number is a decimal literal split into its parts:
// [sign] whole [. frac] [e exp].
type number struct {
	neg      bool
	plus     bool   // a leading '+'
	whole    string // digits before the point; may be empty (".5")
	frac     string // digits after the point
	point    bool   // the literal has a '.'
	exp      int    // the exponent, clamped to ±1e9
	hasExp   bool   // the literal has an exponent
	nonZero  bool   // some digit is not '0'
	leadZero bool   // whole has a leading zero and more than one digit ("007")
}

// parseNumber reads s as [+-]digits[.digits][(e|E)[+-]digits], with at
// least one digit in the mantissa. It accepts no spaces, underscores or
// hexadecimal.
func parseNumber(s string) (n number, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		n.neg, n.plus = s[i] == '-', s[i] == '+'
		i++
	}
	start := i
	i = skipDigits(s, i)
	n.whole = s[start:i]
	if i < len(s) && s[i] == '.' {
		n.point = true
		i++
		start = i
		i = skipDigits(s, i)
		n.frac = s[start:i]
	}
	if n.whole == "" && n.frac == "" {
		return n, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		n.hasExp = true
		i++
		neg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			neg = s[i] == '-'
			i++
		}
		start = i
		i = skipDigits(s, i)
		if i == start {
			return n, false
		}
		for _, c := range []byte(s[start:i]) {
			if n.exp < 1e9 {
				n.exp = n.exp*10 + int(c-'0')
			}
		}
		if neg {
			n.exp = -n.exp
		}
	}
	n.nonZero = strings.Trim(n.whole, "0") != "" || strings.Trim(n.frac, "0") != ""
	n.leadZero = len(n.whole) > 1 && n.whole[0] == '0'
	return n, i == len(s)
}

func skipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// isInteger reports whether n is written as an integer: digits, no point,
// no exponent.
func (n number) isInteger() bool { return n.whole != "" && !n.point && !n.hasExp }

// canonical returns n as a numeric's text: "-I.F" with no exponent, no
// '+', no leading zeros in I (but at least one digit), and the scale the
// literal implies (trailing zeros kept: "1.50e1" is "15.0"). A zero has no
// sign. ok is false beyond PostgreSQL's limits. s is the literal n was
// parsed from; when it is already canonical, canonical returns it and
// allocates nothing.
func (n number) canonical(s string) (string, bool) {
	if !n.hasExp && !n.plus && n.whole != "" && !n.leadZero && (!n.point || n.frac != "") &&
		(n.nonZero || !n.neg) {
		return s, len(n.whole) <= maxNumericInt && len(n.frac) <= maxNumericScale
	}
	z, p, scale, ok := n.shape()
	if !ok {
		return "", false
	}
	nd := len(n.whole) + len(n.frac)
	var b strings.Builder
	b.Grow(int(max(p, 0)+scale) + 3)
	if n.neg && n.nonZero {
		b.WriteByte('-')
	}
	if p <= 0 {
		b.WriteByte('0')
	}
	for k := int64(0); k < max(p, 0); k++ { // integer digits, padded with zeros
		if i := int64(z) + k; i < int64(nd) {
			b.WriteByte(digitAt(n, int(i)))
		} else {
			b.WriteByte('0')
		}
	}
	if scale > 0 {
		b.WriteByte('.')
		for k := int64(0); k < scale; k++ { // the digits after the point
			if i := int64(z) + p + k; i >= int64(z) && i < int64(nd) {
				b.WriteByte(digitAt(n, int(i)))
			} else {
				b.WriteByte('0')
			}
		}
	}
	return b.String(), true
}

// shape returns where n's canonical digits are: the value is 0.D × 10^p,
// D being the mantissa's digits without its z leading zeros, written with
// scale digits after the point. ok is false beyond PostgreSQL's limits.
func (n number) shape() (z int, p, scale int64, ok bool) {
	nd := len(n.whole) + len(n.frac)
	p = int64(len(n.whole)) + int64(n.exp)
	scale = max(int64(len(n.frac))-int64(n.exp), 0)
	for z < nd && digitAt(n, z) == '0' { // each leading zero moves the point left
		z++
	}
	p -= int64(z)
	if z == nd { // zero: no sign, the scale the literal gives
		p = 0
	}
	return z, p, scale, max(p, 0) <= maxNumericInt && scale <= maxNumericScale
}

// digitAt returns the i-th digit of n's mantissa (whole then frac).
func digitAt(n number, i int) byte {
	if i < len(n.whole) {
		return n.whole[i]
	}
	return n.frac[i-len(n.whole)]
}

// parseFloat reads s as a double: a decimal literal, or NaN, Infinity or
// Inf (any case, the latter two signed). A literal beyond a double's range,
// or one so small that it would read as zero, is errRange.
func parseFloat(s string) (float64, error) {
	n, ok := parseNumber(s)
	if !ok {
		if isSpecialFloat(s) {
			f, err := strconv.ParseFloat(s, 64)
			if err == nil {
				return f, nil
			}
		}
		return 0, errSyntax
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || (f == 0 && n.nonZero) {
		return 0, errRange
	}
	return f, nil
}

// isSpecialFloat reports whether s is NaN, or Inf or Infinity with an
// optional sign, in any case: the words PostgreSQL reads as doubles.
func isSpecialFloat(s string) bool {
	if strings.EqualFold(s, "nan") {
		return true
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")
	return strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity")
}

// parseInt reads s as a signed integer of bits bits: an optional sign and
// digits (leading zeros allowed).
func parseInt(s string, bits int) (int64, error) {
	i := 0
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		i = 1
	}
	if i == len(s) || skipDigits(s, i) != len(s) {
		return 0, errSyntax
	}
	v, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, errRange
	}
	return v, nil
}

// parseBool reads true, false, t or f, in any case.
func parseBool(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "true"), strings.EqualFold(s, "t"):
		return true, nil
	case strings.EqualFold(s, "false"), strings.EqualFold(s, "f"):
		return false, nil
	}
	return false, errSyntax
}

// The instants a timestamp may hold: years 1 to 9999.
var (
	minMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxMicros = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() - 1
)

// parseDate reads YYYY-MM-DD, a real calendar day of the years 1 to 9999,
// and returns the days since 1970-01-01.
func parseDate(s string) (int64, error) {
	if len(s) != 10 {
		return 0, errSyntax
	}
	t, err := dateAt(s)
	if err != nil {
		return 0, err
	}
	return t.Unix() / 86400, nil
}

// dateAt reads the YYYY-MM-DD that s starts with, as midnight UTC.
func dateAt(s string) (time.Time, error) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, errSyntax
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, errSyntax
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1 || m < 1 || m > 12 || d < 1 || t.Day() != d { // time.Date normalises Feb 30 to Mar 2
		return time.Time{}, errRange
	}
	return t, nil
}

// digits reads s, all ASCII digits, as a number.
func digits(s string) (int, bool) {
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseTimestamp reads a date, or a date and a time of day:
//
//	YYYY-MM-DD[(T|t|space)HH:MM[:SS[.fraction]][Z|z|±HH[:MM]|±HHMM]]
//
// It returns the microseconds since 1970-01-01 (UTC when s has an offset,
// the wall clock otherwise) and whether s has an offset. A fraction finer
// than a microsecond must be zeros (errPrecision otherwise), so that nothing
// is cut off.
func parseTimestamp(s string) (micros int64, zoned bool, err error) {
	day, err := dateAt(s)
	if err != nil {
		return 0, false, err
	}
	if len(s) == 10 {
		return day.UnixMicro(), false, nil
	}
	r := s[10:]
	if len(r) < 6 || (r[0] != 'T' && r[0] != 't' && r[0] != ' ') || r[3] != ':' {
		return 0, false, errSyntax
	}
	h, ok1 := digits(r[1:3])
	mi, ok2 := digits(r[4:6])
	if !ok1 || !ok2 {
		return 0, false, errSyntax
	}
	r = r[6:]
	sec, frac := 0, int64(0)
	if len(r) > 0 && r[0] == ':' {
		var ok bool
		if sec, ok = digits(r[1:min(3, len(r))]); !ok || len(r) < 3 {
			return 0, false, errSyntax
		}
		r = r[3:]
		if len(r) > 0 && r[0] == '.' {
			n := skipDigits(r, 1)
			if n == 1 {
				return 0, false, errSyntax
			}
			for i, c := range []byte(r[1:n]) {
				switch {
				case i < 6:
					frac = frac*10 + int64(c-'0')
				case c != '0':
					return 0, false, errPrecision
				}
			}
			for i := n - 1; i < 6; i++ {
				frac *= 10
			}
			r = r[n:]
		}
	}
	if h > 23 || mi > 59 || sec > 59 {
		return 0, false, errRange
	}
	offset, zoned, err := parseOffset(r)
	if err != nil {
		return 0, false, err
	}
	micros = day.UnixMicro() + (int64(h*3600+mi*60+sec)-int64(offset))*1e6 + frac
	if micros < minMicros || micros > maxMicros {
		return 0, false, errRange
	}
	return micros, zoned, nil
}

// parseOffset reads "", Z, z, ±HH, ±HH:MM or ±HHMM, and returns the offset
// east of UTC in seconds.
func parseOffset(r string) (seconds int, zoned bool, err error) {
	switch {
	case r == "":
		return 0, false, nil
	case r == "Z" || r == "z":
		return 0, true, nil
	case r[0] != '+' && r[0] != '-':
		return 0, false, errSyntax
	}
	var hh, mm string
	switch len(r) {
	case 3:
		hh = r[1:3]
	case 5:
		hh, mm = r[1:3], r[3:5]
	case 6:
		if r[3] != ':' {
			return 0, false, errSyntax
		}
		hh, mm = r[1:3], r[4:6]
	default:
		return 0, false, errSyntax
	}
	h, ok1 := digits(hh)
	m, ok2 := digits(mm)
	if !ok1 || !ok2 {
		return 0, false, errSyntax
	}
	if h > 23 || m > 59 {
		return 0, false, errRange
	}
	seconds = h*3600 + m*60
	if r[0] == '-' {
		seconds = -seconds
	}
	return seconds, true, nil
}
