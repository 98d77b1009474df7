package postgres

import (
	"encoding/hex"
	"strconv"
	"time"

	"github.com/weir-etl/weir/connect"
)

// appendPGText appends v, not NULL, in the text form PostgreSQL reads for
// a column of kind k: the text of [connect.Value.AppendText] but for
// dates and timestamps (years before 1 written "BC", as PostgreSQL does)
// and bytea (hex, "\x..."), whose forms differ.
func appendPGText(dst []byte, k kind, v connect.Value) []byte {
	switch v.Type() {
	case connect.TypeDate:
		return appendDateText(dst, v.Time(), true)
	case connect.TypeTimestamp:
		return appendTimestampText(dst, v.Time(), false)
	case connect.TypeTimestampTZ:
		return appendTimestampText(dst, v.Time(), true)
	case connect.TypeBytes:
		if k == kindBytea {
			dst = append(dst, `\x`...)
			return hex.AppendEncode(dst, []byte(v.Str()))
		}
	case connect.TypeBool:
		if v.Int() == 1 {
			return append(dst, 't')
		}
		return append(dst, 'f')
	}
	return v.AppendText(dst)
}

// appendDateText appends t's date as YYYY-MM-DD, and " BC" after it if
// bc is set and the year is before 1.
func appendDateText(dst []byte, t time.Time, bc bool) []byte {
	y, m, d := t.Date()
	bc = bc && y <= 0
	if y <= 0 {
		y = 1 - y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int(m), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, d, 2)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendTimestampText appends t (UTC) as YYYY-MM-DD HH:MM:SS[.ffffff],
// then +00 if tz, then BC for years before 1.
func appendTimestampText(dst []byte, t time.Time, tz bool) []byte {
	dst = appendDateText(dst, t, false)
	dst = append(dst, ' ')
	dst = appendPadded(dst, t.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Second(), 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		start := len(dst)
		dst = appendPadded(dst, us, 6)
		for dst[len(dst)-1] == '0' && len(dst) > start {
			dst = dst[:len(dst)-1]
		}
	}
	if tz {
		dst = append(dst, "+00"...)
	}
	if t.Year() <= 0 {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendPadded appends n with zeros in front to width digits.
func appendPadded(dst []byte, n, width int) []byte {
	var b [20]byte
	s := strconv.AppendInt(b[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendCopyText appends v as a field of COPY's text format: \N for NULL,
// else its text form with backslash, tab, newline and carriage return
// escaped. v fits k. scratch is reused space.
func appendCopyText(dst []byte, k kind, v connect.Value, scratch *[]byte) ([]byte, error) {
	if v.IsNull() {
		return append(dst, `\N`...), nil
	}
	switch v.Type() {
	case connect.TypeText, connect.TypeNumeric, connect.TypeJSON:
		if err := checkText(v.Str()); err != nil {
			return dst, err
		}
	}
	// Other values the server parses, and names the column if it cannot.
	start := len(dst)
	dst = appendPGText(dst, k, v)
	for i := start; i < len(dst); i++ {
		if c := dst[i]; c == '\\' || c == '\t' || c == '\n' || c == '\r' {
			*scratch = append((*scratch)[:0], dst[start:]...)
			return appendEscaped(dst[:start], *scratch), nil
		}
	}
	return dst, nil
}

// appendEscaped appends s with COPY text's escapes.
func appendEscaped(dst, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
