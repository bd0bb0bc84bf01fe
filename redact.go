package signet

import (
	"crypto/sha256"
	"encoding/hex"
)

// EmailLogHash returns a short digest of a well-formed e-mail address (its
// NormalizeEmail form) for logs, which must not hold what a user typed: a
// failed sign-in may carry a password in the e-mail field. It returns ""
// for anything that is not an address.
func EmailLogHash(email string) string {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:6])
}
