// Package secret makes client identifiers and secrets and checks secrets
// against their stored digests in constant time.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// idAlphabet is the alphabet of generated identifiers (Auth0 client ids are
// 32 characters of it).
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ID returns a random identifier of n characters from [A-Za-z0-9].
func ID(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	// Rejection-free mapping: 62 does not divide 256, so draw until unbiased.
	out := make([]byte, 0, n)
	for len(out) < n {
		for _, c := range b {
			if c < 248 { // 248 = 4*62: keep only bytes that map uniformly
				out = append(out, idAlphabet[int(c)%62])
				if len(out) == n {
					break
				}
			}
		}
		rand.Read(b)
	}
	return string(out)
}

// New returns a fresh 256-bit client secret (base64url, 43 characters) and
// the SHA-256 digest to store in its place.
func New() (secret string, digest []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, Digest(secret)
}

// Digest returns the SHA-256 digest of a secret. High-entropy secrets need no
// slow hash.
func Digest(secret string) []byte {
	d := sha256.Sum256([]byte(secret))
	return d[:]
}

// Equal reports whether secret matches digest, in time independent of where
// they differ.
func Equal(digest []byte, secret string) bool {
	d := Digest(secret)
	return len(digest) == len(d) && subtle.ConstantTimeCompare(digest, d) == 1
}

// ClientID returns a new client identifier: 32 characters, as Auth0's.
func ClientID() string { return ID(32) }

// ResourceServerID returns a new resource server identifier (24 characters).
func ResourceServerID() string { return ID(24) }

// GrantID returns a new client grant identifier: "cgr_" and 16 characters,
// as Auth0's.
func GrantID() string { return "cgr_" + ID(16) }
