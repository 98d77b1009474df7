package postgres

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// Columns of interval, bit and bit varying hold values weir reads as text
// (MySQL's TIME and BIT arrive that way): the row sink parses the text
// itself to send them in COPY's binary format, and sends a batch as COPY
// text when any of its values is in a form these parsers do not take, so
// that the server parses that batch as it always has. The parsers take
// only forms whose meaning is beyond doubt; anything else is "not mine",
// never an error.

// parsesText reports whether the binary encoder of kind k parses the
// value's text (and may not take every value the server would).
func (k kind) parsesText() bool { return k == kindInterval || k == kindBit }

// binaryTakes reports whether v, not NULL, of a column of kind k, which
// parsesText, can be sent in COPY's binary format.
func binaryTakes(k kind, v connect.Value) bool {
	if v.Type() != connect.TypeText {
		return false
	}
	switch k {
	case kindInterval:
		_, ok := parseInterval(v.Str())
		return ok
	case kindBit:
		return isBits(v.Str())
	}
	return false
}

// batchBinary reports whether every value of batch in the columns cols[i]
// for i in parsed can be sent in COPY's binary format.
func batchBinary(cols []column, parsed []int, batch []connect.Row) bool {
	for r := range batch {
		vals := batch[r].Values
		for _, j := range parsed {
			if j < len(vals) && !vals[j].IsNull() && !binaryTakes(cols[j].kind, vals[j]) {
				return false
			}
		}
	}
	return true
}

// interval is PostgreSQL's interval: months, days and microseconds, each
// kept apart (a month is not a fixed number of days).
type interval struct {
	micros int64
	days   int32
	months int32
}

// parseInterval parses the forms of PostgreSQL's own output style
// (IntervalStyle postgres) — "1 year 2 mons -3 days +04:05:06.789",
// "-838:59:59", "00:00:00" — which are also MySQL's TIME: numbers with
// the units year(s), mon(s) and day(s), each at most once, then at most
// one [+-]H:MM:SS[.ffffff] (minutes and seconds below 60, at most six
// fractional digits). It refuses (ok false) any other form, values out of
// range, and a negative first field followed by unsigned ones, which
// IntervalStyle sql_standard reads otherwise.
func parseInterval(s string) (iv interval, ok bool) {
	if s == "" {
		return iv, false
	}
	var months, days int64
	var seen uint8
	leadingMinus, unsignedLater := false, false
	for i := 0; s != ""; i++ {
		tok, rest, _ := strings.Cut(s, " ")
		signed := tok != "" && (tok[0] == '-' || tok[0] == '+')
		if i == 0 {
			leadingMinus = tok != "" && tok[0] == '-'
		} else if !signed {
			unsignedLater = true
		}
		if strings.IndexByte(tok, ':') >= 0 {
			if rest != "" {
				return iv, false
			}
			us, ok := parseClock(tok)
			if !ok {
				return iv, false
			}
			iv.micros = us
			break
		}
		n, ok := parseSigned(tok)
		unit, after, _ := strings.Cut(rest, " ")
		if !ok {
			return iv, false
		}
		var bit uint8
		switch unit {
		case "year", "years":
			bit, months = 1, months+n*12
		case "mon", "mons":
			bit, months = 2, months+n
		case "day", "days":
			bit, days = 4, days+n
		default:
			return iv, false
		}
		if seen&bit != 0 {
			return iv, false
		}
		seen |= bit
		s = after
	}
	if leadingMinus && unsignedLater ||
		months < math.MinInt32 || months > math.MaxInt32 || days < math.MinInt32 || days > math.MaxInt32 {
		return iv, false
	}
	iv.months, iv.days = int32(months), int32(days)
	return iv, true
}

// parseSigned parses [+-]digits, at most 9 of them.
func parseSigned(s string) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	n := digits(s, 9)
	if n < 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseClock parses [+-]H:MM:SS[.ffffff] as microseconds, the sign
// applying to the whole.
func parseClock(s string) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	h, rest, _ := strings.Cut(s, ":")
	if len(rest) < 5 || rest[2] != ':' {
		return 0, false
	}
	hours, mins, secs := digits(h, 9), digits(rest[:2], 2), digits(rest[3:5], 2)
	if hours < 0 || mins < 0 || mins > 59 || secs < 0 || secs > 59 {
		return 0, false
	}
	us := ((hours*60+mins)*60 + secs) * 1_000_000
	if frac := rest[5:]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 7 {
			return 0, false
		}
		f := digits(frac[1:], 6)
		if f < 0 {
			return 0, false
		}
		for range 7 - len(frac) {
			f *= 10
		}
		us += f
	}
	if neg {
		us = -us
	}
	return us, true
}

// digits parses 1 to max decimal digits, or returns -1.
func digits(s string, max int) int64 {
	if s == "" || len(s) > max {
		return -1
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// appendInterval appends iv in the binary format, with its length.
func appendInterval(dst []byte, iv interval) []byte {
	dst = append(dst, 0, 0, 0, 16)
	dst = binary.BigEndian.AppendUint64(dst, uint64(iv.micros))
	dst = binary.BigEndian.AppendUint32(dst, uint32(iv.days))
	return binary.BigEndian.AppendUint32(dst, uint32(iv.months))
}

// isBits reports whether s holds only the digits 0 and 1, bit's text form
// (the hexadecimal form "x1F" is left to the server).
func isBits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' && s[i] != '1' {
			return false
		}
	}
	return len(s) <= math.MaxInt32/8
}

// appendBits appends the bit string s (isBits) in the binary format of bit
// and bit varying: its length in bits, then the bits from the first,
// eight to a byte, the last byte padded with zeros; the server checks the
// length against the column's.
func appendBits(dst []byte, s string) []byte {
	n := (len(s) + 7) / 8
	dst = binary.BigEndian.AppendUint32(dst, uint32(4+n))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	for i := 0; i < len(s); i += 8 {
		var b byte
		for j := range 8 {
			b <<= 1
			if i+j < len(s) && s[i+j] == '1' {
				b |= 1
			}
		}
		dst = append(dst, b)
	}
	return dst
}
