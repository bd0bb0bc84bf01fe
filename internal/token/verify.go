package token

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrInvalidToken is wrapped by every error Verify returns.
var ErrInvalidToken = errors.New("invalid token")

// MaxTokenSize is the longest token Verify parses, in bytes.
const MaxTokenSize = 16 << 10

// VerifyKey is a public key a token may be signed with and the one JWS
// algorithm it signs under.
type VerifyKey struct {
	Key       crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	Algorithm string           // e.g. "RS256"
}

// Expect is what Verify requires of a token's claims.
type Expect struct {
	// Issuers lists the accepted "iss" values; a token must match one.
	Issuers []string
	// Audiences lists the accepted audiences; the token's "aud" must contain
	// at least one.
	Audiences []string
	// Now is the time to check "exp", "iat" and "nbf" against; zero means
	// time.Now().
	Now time.Time
	// Leeway is the clock skew tolerated on each time check.
	Leeway time.Duration
}

// signatureAlgorithms are the algorithms Verify parses at all: the
// asymmetric ones. Which of them a token may use is decided by its key.
func signatureAlgorithms() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512,
		jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512,
		jose.EdDSA,
	}
}

// verified is what Verify decodes from the payload: the Claims plus the
// registered claims it checks but does not return.
type verified struct {
	Claims
	NotBefore int64 `json:"nbf"`
}

// Verify checks raw, a JWT in compact serialization, and returns its claims.
//
// The token must carry exactly one signature whose protected header names a
// kid for which keys returns a key, and whose alg equals that key's
// Algorithm; the signature must verify with that key. Then "iss" must be one
// of want.Issuers, "aud" must contain one of want.Audiences, "exp" must be
// present and later than now minus want.Leeway, and "iat" and "nbf", if
// present, no later than now plus want.Leeway.
//
// Every failure returns an error wrapping ErrInvalidToken with a fixed
// reason, e.g. "invalid token: expired".
func Verify(raw string, keys func(kid string) (VerifyKey, bool), want Expect) (Claims, error) {
	if len(raw) > MaxTokenSize {
		return Claims{}, invalid("too large")
	}
	jws, err := jose.ParseSignedCompact(raw, signatureAlgorithms())
	if err != nil {
		return Claims{}, invalid("malformed")
	}
	if len(jws.Signatures) != 1 {
		return Claims{}, invalid("not exactly one signature")
	}
	header := jws.Signatures[0].Protected
	if header.KeyID == "" {
		return Claims{}, invalid("no kid")
	}
	key, ok := keys(header.KeyID)
	if !ok {
		return Claims{}, invalid("unknown kid")
	}
	if header.Algorithm != key.Algorithm || checkKey(key.Key, key.Algorithm) != nil {
		return Claims{}, invalid("algorithm does not match the key")
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return Claims{}, invalid("bad signature")
	}

	var c verified
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, invalid("malformed claims")
	}
	if !slices.Contains(want.Issuers, c.Issuer) {
		return Claims{}, invalid("wrong issuer")
	}
	if !slices.ContainsFunc(want.Audiences, c.Audience.Contains) {
		return Claims{}, invalid("wrong audience")
	}
	now := want.Now
	if now.IsZero() {
		now = time.Now()
	}
	earliest, latest := now.Add(-want.Leeway), now.Add(want.Leeway)
	switch {
	case c.Expiry == 0:
		return Claims{}, invalid("no exp")
	case !time.Unix(c.Expiry, 0).After(earliest):
		return Claims{}, invalid("expired")
	case c.IssuedAt != 0 && time.Unix(c.IssuedAt, 0).After(latest):
		return Claims{}, invalid("issued in the future")
	case c.NotBefore != 0 && time.Unix(c.NotBefore, 0).After(latest):
		return Claims{}, invalid("not yet valid")
	}
	return c.Claims, nil
}

func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}
