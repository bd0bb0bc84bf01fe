package secret

import (
	"crypto/rand"
	"encoding/hex"
)

// UserID returns a fresh user id in Auth0's shape for database users:
// "auth0|" and 24 lowercase hex digits (96 random bits).
func UserID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "auth0|" + hex.EncodeToString(b)
}
