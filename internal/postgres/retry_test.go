package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signet-auth/signet"
)

// TestConnLost lists which errors make a read, or a transaction that failed
// before COMMIT, run once more.
func TestConnLost(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"admin_shutdown (pg_terminate_backend)", pg("57P01"), true},
		{"crash_shutdown", pg("57P02"), true},
		{"connection_failure", pg("08006"), true},
		{"connection_does_not_exist", pg("08003"), true},
		{"wrapped admin_shutdown", fmt.Errorf("keyset acme: %w", pg("57P01")), true},
		{"unexpected EOF", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{"reset by peer", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"closed connection", net.ErrClosed, true},
		{"unique violation", pg("23505"), false},
		{"serialization failure", pg("40001"), false},
		{"query canceled (statement_timeout)", pg("57014"), false},
		{"idle-in-transaction timeout", pg("25P03"), false},
		{"deadline exceeded", context.DeadlineExceeded, false},
		{"wrapped deadline", fmt.Errorf("keyset: %w", context.DeadlineExceeded), false},
		{"canceled", context.Canceled, false},
		{"timeout net error", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"domain error", signet.ErrConflict, false},
		{"other", errors.New("boom"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := connLost(tc.err); got != tc.want {
				t.Errorf("connLost(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
