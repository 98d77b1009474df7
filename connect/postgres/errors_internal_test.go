package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestDetailedKeepsTheServerError checks, for errors a test server cannot
// easily be made to raise (a deadlock, a serialization failure), that adding
// the DETAIL leaves errors.As and Retryable as they were.
func TestDetailedKeepsTheServerError(t *testing.T) {
	cases := []struct {
		name      string
		pg        *pgconn.PgError
		retryable bool
		want      string // the message's tail; "" for unchanged
	}{
		{"deadlock", &pgconn.PgError{Severity: "ERROR", Code: "40P01", Message: "deadlock detected", Detail: "Process 1 waits for ShareLock on transaction 2.", Hint: "See server log for query details."},
			true, "(SQLSTATE 40P01) DETAIL: Process 1 waits for ShareLock on transaction 2. HINT: See server log for query details."},
		{"serialization failure", &pgconn.PgError{Severity: "ERROR", Code: "40001", Message: "could not serialize access", Detail: "Reason code: Canceled on identification as a pivot."},
			true, "DETAIL: Reason code: Canceled on identification as a pivot."},
		{"unique violation", &pgconn.PgError{Severity: "ERROR", Code: "23505", Message: "duplicate key", Detail: "Key (id)=(7) already exists.", Where: "COPY t, line 3"},
			false, "DETAIL: Key (id)=(7) already exists. (COPY t, line 3)"},
		{"nothing to add", &pgconn.PgError{Severity: "ERROR", Code: "42P01", Message: "relation does not exist"}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := detailed(fmt.Errorf("copy t: %w", c.pg))
			if c.want == "" {
				if _, ok := err.(*serverError); ok {
					t.Errorf("%v: wrapped with nothing to add", err)
				}
			} else if !strings.HasSuffix(err.Error(), c.want) {
				t.Errorf("message %q does not end with %q", err, c.want)
			}
			var pg *pgconn.PgError
			if !errors.As(err, &pg) || pg != c.pg {
				t.Errorf("errors.As does not find the *pgconn.PgError")
			}
			if got := Retryable(err); got != c.retryable {
				t.Errorf("Retryable = %v, want %v", got, c.retryable)
			}
			if again := detailed(fmt.Errorf("upsert t: %w", err)); strings.Count(again.Error(), "DETAIL") > 1 {
				t.Errorf("detail added twice: %v", again)
			}
		})
	}
}
