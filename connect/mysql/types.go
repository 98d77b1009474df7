package mysql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weir-etl/weir/connect"
	"github.com/weir-etl/weir/connect/catalog"
)

// kind is how a column's values are decoded; docs/MYSQL.md has the table.
type kind uint8

const (
	kText      kind = iota // CHAR, VARCHAR, TEXT, SET, unknown types: connect.Text
	kBool                  // TINYINT(1): connect.Bool
	kInt32                 // TINYINT..MEDIUMINT, INT, YEAR: connect.Int32
	kInt64                 // INT UNSIGNED, BIGINT: connect.Int64
	kUint64                // BIGINT UNSIGNED: connect.Numeric
	kNumeric               // DECIMAL: connect.Numeric
	kFloat32               // FLOAT: connect.Float64 holding a float32
	kFloat64               // DOUBLE: connect.Float64
	kBytes                 // BINARY, VARBINARY, BLOB, geometry: connect.Bytes
	kJSON                  // JSON: connect.JSON
	kDate                  // DATE: connect.Date, zero dates NULL
	kDatetime              // DATETIME: connect.Timestamp, zero dates NULL
	kTimestamp             // TIMESTAMP: connect.TimestampTZ, zero dates NULL
	kTime                  // TIME: connect.Text of an interval
	kBit                   // BIT(n): connect.Text of n binary digits
	kEnum                  // ENUM: connect.Text, '' (the invalid value) NULL
)

// colInfo is a column as information_schema.COLUMNS describes it.
type colInfo struct {
	table, name, dataType, columnType, extra string
	def                                      *string
	nullable                                 bool
	precision, scale, length                 int64 // -1: none
	json                                     bool  // MariaDB's JSON: LONGTEXT CHECK (json_valid(col))
}

// mapColumn returns the catalog column for c and the kind its values are
// decoded as.
func mapColumn(c colInfo) (catalog.Column, kind) {
	unsigned := strings.Contains(c.columnType, "unsigned")
	col := catalog.Column{Name: c.name, SourceType: c.columnType, NotNull: !c.nullable,
		Identity: strings.Contains(c.extra, "auto_increment")}
	var k kind
	switch c.dataType {
	case "tinyint":
		if strings.HasPrefix(c.columnType, "tinyint(1)") && !unsigned {
			k, col.PGType = kBool, "boolean"
		} else {
			k, col.PGType = kInt32, "smallint"
		}
	case "smallint":
		k, col.PGType = kInt32, pick(unsigned, "integer", "smallint")
	case "mediumint":
		k, col.PGType = kInt32, "integer"
	case "int", "integer":
		k, col.PGType = pick(unsigned, kInt64, kInt32), pick(unsigned, "bigint", "integer")
	case "bigint":
		k, col.PGType = pick(unsigned, kUint64, kInt64), pick(unsigned, "numeric(20,0)", "bigint")
	case "decimal", "numeric":
		k, col.PGType = kNumeric, fmt.Sprintf("numeric(%d,%d)", c.precision, c.scale)
	case "float":
		k, col.PGType = kFloat32, "real"
	case "double", "real":
		k, col.PGType = kFloat64, "double precision"
	case "char", "varchar":
		k, col.PGType = kText, fmt.Sprintf("varchar(%d)", c.length)
	case "tinytext", "text", "mediumtext", "longtext":
		k, col.PGType = kText, "text"
		if c.json {
			k, col.PGType = kJSON, "jsonb"
		}
	case "json":
		k, col.PGType = kJSON, "jsonb"
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		k, col.PGType = kBytes, "bytea"
	case "date":
		k, col.PGType = kDate, "date"
	case "datetime":
		k, col.PGType = kDatetime, fmt.Sprintf("timestamp(%d)", max(c.precision, 0))
	case "timestamp":
		k, col.PGType = kTimestamp, fmt.Sprintf("timestamptz(%d)", max(c.precision, 0))
	case "time":
		k, col.PGType = kTime, "interval"
	case "year":
		k, col.PGType = kInt32, "smallint"
	case "bit":
		k, col.PGType = kBit, fmt.Sprintf("bit(%d)", c.precision)
	case "enum":
		k, col.PGType = kEnum, "text"
		col.Check = enumCheck(c.name, c.columnType)
	case "uuid":
		k, col.PGType = kText, "uuid"
	default: // set, inet4, inet6 and anything newer: its text
		k, col.PGType = kText, "text"
	}
	col.Type = k.connectType()
	col.Default = pgDefault(k, c)
	if col.NotNull && k >= kDate && k <= kTimestamp && col.Default == "" && c.def != nil && isZeroDate(unquote(*c.def)) {
		col.NotNull = false // as pgloader does: the zero dates it holds become NULL
	}
	return col, k
}

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

// connectType is the type of the values of kind k.
func (k kind) connectType() connect.Type {
	switch k {
	case kBool:
		return connect.TypeBool
	case kInt32:
		return connect.TypeInt32
	case kInt64:
		return connect.TypeInt64
	case kUint64, kNumeric:
		return connect.TypeNumeric
	case kFloat32, kFloat64:
		return connect.TypeFloat64
	case kBytes:
		return connect.TypeBytes
	case kJSON:
		return connect.TypeJSON
	case kDate:
		return connect.TypeDate
	case kDatetime:
		return connect.TypeTimestamp
	case kTimestamp:
		return connect.TypeTimestampTZ
	}
	return connect.TypeText
}

// enumValues returns the values of "enum('a','b”c')" (or a SET's).
func enumValues(columnType string) []string {
	s := columnType[strings.IndexByte(columnType, '(')+1:]
	var vals []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			continue // a comma or the closing parenthesis
		}
		cur.Reset()
		for i++; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					cur.WriteByte('\'')
					i++
					continue
				}
				break
			}
			cur.WriteByte(s[i])
		}
		vals = append(vals, cur.String())
	}
	return vals
}

// enumCheck is the CHECK of an ENUM column: its values, quoted for
// PostgreSQL.
func enumCheck(name, columnType string) string {
	vals := enumValues(columnType)
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = pgLiteral(v)
	}
	return pgIdent(name) + " IN (" + strings.Join(quoted, ", ") + ")"
}

func pgIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func pgLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// unquote returns MariaDB's quoted default 'it”s' as it's; anything else
// as it is.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		r := strings.NewReplacer(`''`, `'`, `\\`, `\`, `\'`, `'`, `\n`, "\n", `\t`, "\t", `\0`, "\x00")
		return r.Replace(s[1 : len(s)-1])
	}
	return s
}

// pgDefault translates a column's default into PostgreSQL: literals and
// CURRENT_TIMESTAMP; other expressions and zero dates are dropped ("").
func pgDefault(k kind, c colInfo) string {
	if c.def == nil || *c.def == "NULL" || strings.Contains(c.extra, "GENERATED") {
		return ""
	}
	raw := *c.def
	v := unquote(raw)
	lower := strings.ToLower(raw)
	switch k {
	case kBool:
		return pick(v == "0", "false", "true")
	case kInt32, kInt64, kUint64, kNumeric, kFloat32, kFloat64:
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return v
		}
	case kDate, kDatetime, kTimestamp:
		if strings.HasPrefix(lower, "current_timestamp") || strings.HasPrefix(lower, "now(") {
			return "CURRENT_TIMESTAMP"
		}
		if raw != v && !isZeroDate(v) {
			return pgLiteral(v)
		}
	case kBit:
		if strings.HasPrefix(lower, "b'") {
			bits := strings.Trim(raw[1:], "'")
			if p := int(c.precision); len(bits) < p {
				bits = strings.Repeat("0", p-len(bits)) + bits
			}
			return "B'" + bits + "'"
		}
	case kText, kEnum, kTime, kJSON:
		if raw != v {
			return pgLiteral(v)
		}
	}
	return ""
}

// isZeroDate reports whether s is a date or datetime with a zero year,
// month or day part ("0000-00-00", "2020-00-10 12:00:00"), which
// PostgreSQL has no value for.
func isZeroDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	return s[:4] == "0000" && s[5:7] == "00" && s[8:10] == "00" || s[5:7] == "00" || s[8:10] == "00"
}

// kindOf returns the kind of a column [mapColumn] made, from its types, so
// that a reader can decode a Table built or filtered by the caller.
func kindOf(c catalog.Column) kind {
	switch c.Type {
	case connect.TypeBool:
		return kBool
	case connect.TypeInt32:
		return kInt32
	case connect.TypeInt64:
		return kInt64
	case connect.TypeNumeric:
		return pick(strings.HasPrefix(c.SourceType, "bigint"), kUint64, kNumeric)
	case connect.TypeFloat64:
		return pick(c.PGType == "real", kFloat32, kFloat64)
	case connect.TypeBytes:
		return kBytes
	case connect.TypeJSON:
		return kJSON
	case connect.TypeDate:
		return kDate
	case connect.TypeTimestamp:
		return kDatetime
	case connect.TypeTimestampTZ:
		return kTimestamp
	}
	switch {
	case c.PGType == "interval":
		return kTime
	case strings.HasPrefix(c.PGType, "bit("):
		return kBit
	case strings.HasPrefix(c.SourceType, "enum("):
		return kEnum
	}
	return kText
}
