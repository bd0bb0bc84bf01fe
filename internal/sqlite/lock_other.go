//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

// tryLock is not implemented off Unix: Lock fails there.
func tryLock(f *os.File) (bool, error) {
	return false, errors.New("locks need a Unix system")
}
