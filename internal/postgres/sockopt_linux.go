package postgres

import (
	"syscall"
	"time"
)

// tcpUserTimeout is TCP_USER_TIMEOUT (linux/tcp.h), missing from syscall.
const tcpUserTimeout = 0x12

// setUserTimeout returns a Dialer.Control that sets TCP_USER_TIMEOUT to d:
// the kernel drops the connection once data it sent stays unacknowledged
// (or keepalive probes unanswered) for d.
func setUserTimeout(d time.Duration) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		if d <= 0 || (network != "tcp" && network != "tcp4" && network != "tcp6") {
			return nil
		}
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(d.Milliseconds()))
		})
		if err != nil {
			return err
		}
		return serr
	}
}
