package postgres

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// dialer returns the DialFunc of every connection: TCP keepalive probes
// every few seconds and, on Linux, TCP_USER_TIMEOUT, so that a connection to
// a black-holed server fails within userTimeout instead of after the kernel's
// 15 minutes of retransmissions; and a conn that abortHandler can reset.
func dialer(userTimeout time.Duration) pgconn.DialFunc {
	d := &net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3},
		Control:         setUserTimeout(userTimeout),
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &abortableConn{Conn: c}, nil
	}
}

// abortableConn is a connection to the server that abort closes with a
// reset.
type abortableConn struct {
	net.Conn
	aborted atomic.Bool
}

// abort resets the connection at once: SO_LINGER 0 makes the close send RST
// and discard what is still unsent or unacknowledged in the kernel's send
// queue, so a COMMIT written just before the deadline is never delivered by
// a later retransmission. The reset is sent before a read or write in
// progress returns: they, and any to come, fail with a timeout error, which
// pgconn reports as the context's.
func (c *abortableConn) abort() {
	c.aborted.Store(true)
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
		tc.Close()
		return
	}
	c.Conn.SetDeadline(time.Unix(1, 0))
	c.Conn.Close()
}

func (c *abortableConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.aborted.Load() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

func (c *abortableConn) Write(b []byte) (int, error) {
	if c.aborted.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	n, err := c.Conn.Write(b)
	if err != nil && c.aborted.Load() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

// abortHandler is the pgconn context watcher of every connection: when the
// context of a call is done (its deadline passed, or the caller gave up), it
// resets the connection instead of pgconn's default, which sets a deadline
// and later closes the connection gracefully — after a cancel request and a
// drain of up to 15 s, during which a COMMIT stuck in the network could
// still reach the server and commit a transaction already reported failed.
type abortHandler struct{ conn net.Conn }

func newAbortHandler(pgConn *pgconn.PgConn) ctxwatch.Handler {
	return &abortHandler{conn: pgConn.Conn()}
}

// HandleCancel resets the connection.
func (h *abortHandler) HandleCancel(context.Context) {
	c := h.conn
	for c != nil {
		if a, ok := c.(*abortableConn); ok {
			a.abort()
			return
		}
		u, ok := c.(interface{ NetConn() net.Conn }) // TLS
		if !ok {
			break
		}
		c = u.NetConn()
	}
	// Not dialled by us (a unix socket through a custom dialer): at least
	// stop the call in progress.
	h.conn.SetDeadline(time.Unix(1, 0))
}

// HandleUnwatchAfterCancel does nothing: the connection is closed.
func (h *abortHandler) HandleUnwatchAfterCancel() {}
