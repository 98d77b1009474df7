package sqlite

// The mapping of SQLite's declared types and defaults to PostgreSQL's.

import (
	"regexp"
	"strings"

	"github.com/weir-etl/weir/connect"
)

// precision matches a declared (p) or (p,s).
var precision = regexp.MustCompile(`\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)`)

// pgTypeOf returns the PostgreSQL type of a column declared decl and read
// as t.
func pgTypeOf(decl string, t connect.Type) string {
	switch t {
	case connect.TypeInt32:
		return "integer"
	case connect.TypeInt64:
		return "bigint"
	case connect.TypeFloat64:
		return "double precision"
	case connect.TypeNumeric:
		if m := precision.FindStringSubmatch(decl); m != nil && m[1] != "0" && len(m[1]) <= 4 {
			if m[2] != "" {
				return "numeric(" + m[1] + "," + m[2] + ")"
			}
			return "numeric(" + m[1] + ")"
		}
		return "numeric"
	case connect.TypeBool:
		return "boolean"
	case connect.TypeDate:
		return "date"
	case connect.TypeTimestamp:
		return "timestamp"
	case connect.TypeTimestampTZ:
		return "timestamptz"
	case connect.TypeJSON:
		return "jsonb"
	case connect.TypeBytes:
		return "bytea"
	}
	return "text"
}

// pgDefault translates a SQLite DEFAULT of a column read as t into
// PostgreSQL, or says it cannot. NULL is no default at all.
func pgDefault(d string, t connect.Type) (string, bool) {
	d = strings.TrimSpace(d)
	for len(d) > 2 && d[0] == '(' && d[len(d)-1] == ')' {
		d = strings.TrimSpace(d[1 : len(d)-1])
	}
	up := strings.ToUpper(d)
	switch {
	case up == "NULL":
		return "", true
	case up == "CURRENT_TIMESTAMP" || up == "CURRENT_DATE" || up == "CURRENT_TIME":
		return up, true
	case t == connect.TypeBool && (up == "1" || up == "TRUE"):
		return "true", true
	case t == connect.TypeBool && (up == "0" || up == "FALSE"):
		return "false", true
	case t == connect.TypeBool:
		return "", false
	case isDecimal(d):
		return d, true
	case len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' && !strings.Contains(strings.ReplaceAll(d[1:len(d)-1], "''", ""), "'"):
		return d, true
	}
	return "", false
}
