package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/weir-etl/weir/connect"
)

// decodeValue returns the value of a field of kind k from raw, its bytes
// as the server sent them: binary for every kind but kindOther, interval
// and bit, whose text becomes a text value. tmp is reused space.
func decodeValue(k kind, format int16, raw []byte, tmp *[]byte) (connect.Value, error) {
	if raw == nil {
		return connect.Null(), nil
	}
	if k == kindOther || k.parsesText() || format == pgx.TextFormatCode {
		if k != kindOther && !k.parsesText() {
			return connect.Value{}, errors.New("the server sent the value as text, not binary")
		}
		return connect.Text(string(raw)), nil
	}
	short := func(n int) error {
		if len(raw) != n {
			return fmt.Errorf("%d bytes, want %d", len(raw), n)
		}
		return nil
	}
	switch k {
	case kindBool:
		if err := short(1); err != nil {
			return connect.Value{}, err
		}
		return connect.Bool(raw[0] != 0), nil
	case kindInt2:
		if err := short(2); err != nil {
			return connect.Value{}, err
		}
		return connect.Int32(int32(int16(binary.BigEndian.Uint16(raw)))), nil
	case kindInt4:
		if err := short(4); err != nil {
			return connect.Value{}, err
		}
		return connect.Int32(int32(binary.BigEndian.Uint32(raw))), nil
	case kindInt8:
		if err := short(8); err != nil {
			return connect.Value{}, err
		}
		return connect.Int64(int64(binary.BigEndian.Uint64(raw))), nil
	case kindFloat4:
		if err := short(4); err != nil {
			return connect.Value{}, err
		}
		return connect.Float64(float64(math.Float32frombits(binary.BigEndian.Uint32(raw)))), nil
	case kindFloat8:
		if err := short(8); err != nil {
			return connect.Value{}, err
		}
		return connect.Float64(math.Float64frombits(binary.BigEndian.Uint64(raw))), nil
	case kindNumeric:
		b, err := appendNumericText((*tmp)[:0], raw)
		*tmp = b
		if err != nil {
			return connect.Value{}, err
		}
		return connect.Numeric(string(b)), nil
	case kindText, kindJSON:
		return textValue(k, string(raw)), nil
	case kindJSONB:
		if len(raw) == 0 || raw[0] != 1 {
			return connect.Value{}, errors.New("jsonb of an unknown version")
		}
		return connect.JSON(string(raw[1:])), nil
	case kindDate:
		if err := short(4); err != nil {
			return connect.Value{}, err
		}
		d := int32(binary.BigEndian.Uint32(raw))
		if d == math.MaxInt32 || d == math.MinInt32 {
			return connect.Value{}, errors.New("date infinity has no value in weir")
		}
		return connect.Date(time.Unix((int64(d)+pgEpochDays)*86400, 0).UTC()), nil
	case kindTimestamp, kindTimestampTZ:
		if err := short(8); err != nil {
			return connect.Value{}, err
		}
		us := int64(binary.BigEndian.Uint64(raw))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return connect.Value{}, errors.New("timestamp infinity has no value in weir")
		}
		t := time.UnixMicro(us + pgEpochMicros).UTC()
		if k == kindTimestamp {
			return connect.Timestamp(t), nil
		}
		return connect.TimestampTZ(t), nil
	case kindBytea:
		return connect.Bytes(raw), nil
	case kindUUID:
		if err := short(16); err != nil {
			return connect.Value{}, err
		}
		var b [36]byte
		return connect.Text(string(appendUUIDText(b[:0], raw))), nil
	}
	return connect.Value{}, fmt.Errorf("internal error: no decoder for kind %d", k)
}

func textValue(k kind, s string) connect.Value {
	if k == kindJSON {
		return connect.JSON(s)
	}
	return connect.Text(s)
}

// catalogSQL lists the columns of the table $1 (a name as SQL writes it,
// resolved by the search path as a statement would): name, type OID (the
// base type's, for a domain), type name, and type as SQL writes it. It
// returns no row when there is no such table.
const catalogSQL = `SELECT a.attname::text, b.oid, b.typname::text, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// readColumns returns every column of the table ident as the catalog
// describes it, in table order; none if the table does not exist.
func readColumns(ctx context.Context, db DB, ident pgx.Identifier) ([]column, error) {
	rows, err := db.Query(ctx, catalogSQL, ident.Sanitize())
	if err != nil {
		return nil, detailed(err)
	}
	var cols []column
	var name, typname, typ string
	var oid uint32
	_, err = pgx.ForEachRow(rows, []any{&name, &oid, &typname, &typ}, func() error {
		cols = append(cols, column{name: name, kind: kindOf(oid, typname), typ: typ})
		return nil
	})
	if err != nil {
		return nil, detailed(err)
	}
	return cols, nil
}

// pickColumns returns the columns of all named names, in that order.
func pickColumns(table string, all []column, names []string) ([]column, error) {
	out := make([]column, len(names))
	var missing []string
	for i, n := range names {
		j := -1
		for k := range all {
			if all[k].name == n {
				j = k
				break
			}
		}
		if j < 0 {
			missing = append(missing, fmt.Sprintf("%q", n))
			continue
		}
		out[i] = all[j]
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("table %s has no column %s", table, strings.Join(missing, ", "))
	}
	return out, nil
}
