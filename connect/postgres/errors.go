package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/weir-etl/weir"
)

// serverError is a server error as the connector reports it.
// [pgconn.PgError]'s own message is severity, message and SQLSTATE only; it
// leaves out what tells the user which row or key is at fault: the DETAIL
// ("Key (id)=(7) already exists."), the HINT and the context (WHERE:
// "COPY users, line 3"). errors.As still finds the *pgconn.PgError, so
// [Retryable] and callers' own checks of the code are unchanged.
type serverError struct {
	err error // wraps pg
	pg  *pgconn.PgError
}

func (e *serverError) Error() string {
	var b strings.Builder
	b.WriteString(e.err.Error())
	if d := e.pg.Detail; d != "" {
		b.WriteString(" DETAIL: " + d)
	}
	if h := e.pg.Hint; h != "" {
		b.WriteString(" HINT: " + h)
	}
	if w := e.pg.Where; w != "" {
		b.WriteString(" (" + w + ")")
	}
	return b.String()
}

func (e *serverError) Unwrap() error { return e.err }

// detailed returns err with the DETAIL, HINT and WHERE of the server error
// it holds added to its message, or err itself when there is nothing to add
// (or it was added already).
func detailed(err error) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Detail == "" && pg.Hint == "" && pg.Where == "" {
		return err
	}
	var done *serverError
	if errors.As(err, &done) {
		return err
	}
	return &serverError{err: err, pg: pg}
}

// copySource is a COPY's row source that can show again the rows pgx has
// taken from it, so that a failed COPY can be traced to a value.
type copySource interface {
	pgx.CopyFromSource
	// taken returns how many rows pgx has made current with Next.
	taken() int
	// row returns row i (< taken) and the index, in the Write's batch, of
	// the record it came from.
	rowAt(i int) (values []any, record int, err error)
}

// copyFailed is the error of a COPY that may have stumbled on one of its
// own values. pgx aborts a COPY whose value it cannot encode for the
// column's type (a string for an integer column), and the server then
// reports nothing but "COPY from stdin failed" as a cancelled query
// (57014); a value the server refuses as text (invalid UTF-8, a NUL byte:
// class 22) is reported by COPY line, not by record. [explainCopy] finds the
// value once the transaction has ended. Until then the error reads as the
// COPY's own.
type copyFailed struct {
	t     *table
	src   copySource // nil once explained
	cause error      // what CopyFrom returned
	err   error      // cause as reported: with the table and the server's detail
}

func (e *copyFailed) Error() string { return e.err.Error() }
func (e *copyFailed) Unwrap() error { return e.err }

// copyErr returns the error to report for a COPY of t from src that failed
// with err: the row source's own error when it has one (pgx reports that
// to the server, which answers with a generic "COPY from stdin failed", so
// the original, a *weir.PanicError say, would be lost); a *copyFailed when
// the server's answer says a value may be at fault; else err with the
// table and the server's detail.
func (t *table) copyErr(src copySource, err error) error {
	if serr := src.Err(); serr != nil {
		return t.wrap("copy", serr)
	}
	wrapped := t.wrap("copy", err)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (pg.Code == codeQueryCanceled || strings.HasPrefix(pg.Code, "22")) {
		return &copyFailed{t: t, src: src, cause: err, err: wrapped}
	}
	return wrapped
}

const codeQueryCanceled = "57014"

// explainCopy looks for the value a failed COPY in err stumbled on and, if
// it finds one, returns a [*weir.RecordError] naming the record, the table
// and the column, with pgx's encoding error (rather than the server's
// cancellation) or the server's refusal of the text. It returns nil when err
// holds no *copyFailed or no value is to blame: a statement timeout also
// cancels a COPY with 57014, and a caller's cancellation is just that.
//
// It reads the columns' types from db with one query, so it runs after the
// COPY's transaction has ended (an aborted transaction answers nothing); on
// a db that is itself an aborted transaction it finds nothing. It must run
// before the row source is released, and drops its reference to it.
func explainCopy(ctx context.Context, db DB, err error) error {
	var cf *copyFailed
	if !errors.As(err, &cf) || cf.src == nil {
		return nil
	}
	src := cf.src
	cf.src = nil
	if ctx.Err() != nil {
		return nil
	}
	n := src.taken()
	if n == 0 {
		return nil
	}
	var pg *pgconn.PgError
	cancelled := errors.As(cf.cause, &pg) && pg.Code == codeQueryCanceled
	first := 0
	if cancelled {
		// pgx stops at the first row it cannot encode, the last it took;
		// the rows before it were sent.
		first = n - 1
	}
	rows, qerr := db.Query(ctx, cf.t.describe)
	if qerr != nil {
		return nil
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != len(cf.t.cols) {
		return nil
	}
	// The connection's own map knows the types registered on it (enums,
	// domains), as the one that encoded the COPY did. A pool hands the
	// connection back when rows is closed, not before.
	m := pgtype.NewMap()
	if c := rows.Conn(); c != nil {
		m = c.TypeMap()
	}
	for i := first; i < n; i++ {
		vals, rec, rerr := src.rowAt(i)
		if rerr != nil || len(vals) != len(fds) {
			return nil
		}
		for j, v := range vals {
			bad := checkValue(m, fds[j].DataTypeOID, v)
			if bad == nil {
				continue
			}
			if !cancelled {
				// The server's refusal is the error; bad says which value.
				bad = fmt.Errorf("%w: %w", bad, detailed(cf.cause))
			}
			return &weir.RecordError{Index: rec, Err: fmt.Errorf("copy %s: column %s: %w", cf.t.name, cf.t.cols[j], bad)}
		}
	}
	return nil
}

// checkValue returns why the COPY cannot carry v into a column of type oid:
// pgx cannot encode it, or it is text the server will refuse.
func checkValue(m *pgtype.Map, oid uint32, v any) error {
	buf, err := m.Encode(oid, pgtype.BinaryFormatCode, v, nil)
	if err != nil {
		alt, altErr := encodeViaText(m, oid, v)
		if altErr != nil {
			return err
		}
		buf = alt
	}
	if !isText(oid) {
		return nil
	}
	switch {
	case !utf8.Valid(buf):
		return errors.New("not valid UTF-8")
	case bytes.IndexByte(buf, 0) >= 0:
		return errors.New("holds a NUL byte, which PostgreSQL text cannot")
	}
	return nil
}

// encodeViaText is pgx's second try at a COPY value it cannot encode
// directly (tryScanStringCopyValueThenEncode in pgx's values.go): the value
// as text, parsed as the column's type, then encoded.
func encodeViaText(m *pgtype.Map, oid uint32, v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		text, err := m.Encode(oid, pgtype.TextFormatCode, v, nil)
		if err != nil {
			return nil, err
		}
		s = string(text)
	}
	if typ, ok := m.TypeForOID(oid); ok {
		if _, ok := typ.Codec.(*pgtype.ArrayCodec); ok {
			var arr pgtype.Array[any]
			if err := m.Scan(oid, pgtype.TextFormatCode, []byte(s), &arr); err == nil {
				return m.Encode(oid, pgtype.BinaryFormatCode, arr, nil)
			}
		}
	}
	var parsed any
	if err := m.Scan(oid, pgtype.TextFormatCode, []byte(s), &parsed); err != nil {
		return nil, err
	}
	return m.Encode(oid, pgtype.BinaryFormatCode, parsed, nil)
}

// isText reports whether values of type oid travel as text the server
// checks (their binary form is the text, jsonb's after a version byte).
func isText(oid uint32) bool {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return true
	}
	return false
}

// valuesAgain calls values on rec again, for a row the COPY already took,
// turning a panic into an error.
func valuesAgain[T any](values func(T, []any) []any, rec T) (row []any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &weir.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return values(rec, nil), nil
}
