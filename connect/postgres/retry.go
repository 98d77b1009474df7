package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Retryable reports whether err is transient: the same operation may
// succeed if tried again, after a pause. It looks through wrapping with
// [errors.As]; it never matches message text.
//
// True for:
//   - errors pgconn marks safe to retry ([pgconn.SafeToRetry]: nothing was
//     sent, or the connection was already closed);
//   - serialization_failure (40001) and deadlock_detected (40P01);
//   - lost or refused connections: SQLSTATE class 08, admin_shutdown
//     (57P01, a server restart), crash_shutdown (57P02),
//     cannot_connect_now (57P03), too_many_connections (53300), a failed
//     connect ([*pgconn.ConnectError]), and network errors (reset, refused,
//     broken pipe, unexpected EOF).
//
// False for nil, for the caller's own cancellation or deadline
// ([context.Canceled], [context.DeadlineExceeded]), for an [*InDoubtError]
// (a batch that may have loaded), and for every other
// server error, in particular integrity constraint violations (class 23:
// unique, foreign key, NOT NULL, check), data exceptions (class 22) and
// syntax or access errors (class 42): those fail again.
//
// Its signature is the one weir.WithRetryable takes:
// weir.WithRetryable(postgres.Retryable) makes weir.Config.Retry retry exactly
// these errors (the engine's default classifier does not know SQLSTATE
// codes).
//
// Repeating a Write of this package's sinks is safe whenever Retryable
// says yes: a Write whose COMMIT was sent but not answered asks the server
// whether it committed before returning (see [Sink]), and returns nil if it
// did, the retryable error if it did not, and a non-retryable
// [*InDoubtError] if it cannot find out.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var inDoubt *InDoubtError
	if errors.As(err, &inDoubt) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == "40001", code == "40P01":
			return true
		case len(code) == 5 && code[:2] == "08":
			return true
		case code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return true
		}
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE, net.ErrClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
