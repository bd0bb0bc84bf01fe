//go:build !linux

package postgres

import (
	"syscall"
	"time"
)

// setUserTimeout does nothing outside Linux: keepalive and the per-call
// deadlines bound a black-holed connection there.
func setUserTimeout(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
