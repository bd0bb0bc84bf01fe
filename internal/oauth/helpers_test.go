package oauth_test

import (
	"strconv"
	"time"

	"github.com/signet-auth/signet/internal/oauth"
)

func itoa(n int) string { return strconv.Itoa(n) }

// newHandler returns a handler on e's parts with JWKS max-age secs.
func newHandler(e *env, secs int) *oauth.Handler {
	return oauth.New(oauth.Config{Ring: e.ring, Store: e.store, JWKSMaxAge: time.Duration(secs) * time.Second})
}
