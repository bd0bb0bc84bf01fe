package signet

import (
	"log/slog"
	"time"
)

// KeyState is where a signing key is in its lifecycle:
// next → current → previous → revoked.
type KeyState string

// The four key states.
const (
	StateNext     KeyState = "next"     // published, not yet signing
	StateCurrent  KeyState = "current"  // signs everything new
	StatePrevious KeyState = "previous" // no longer signs, still verifies
	StateRevoked  KeyState = "revoked"  // never published nor accepted again
)

// Key is one application signing key of a tenant. Its private half is held
// only sealed (encrypted at rest); the domain never sees it in the clear.
type Key struct {
	// KID is the RFC 7638 JWK thumbprint of the public key (base64url SHA-256).
	KID string
	// Algorithm is the JWS algorithm the key signs with, e.g. "RS256".
	Algorithm string
	// State is the key's lifecycle state.
	State KeyState
	// Certificate is the DER of the key's self-signed X.509 certificate.
	Certificate []byte
	// SealedPrivateKey is the private key, encrypted under the master key with
	// the tenant and kid as additional data.
	SealedPrivateKey []byte

	CreatedAt    time.Time // when the key was generated
	CurrentSince time.Time // when it became current; zero if never
	CurrentUntil time.Time // when it stopped being current; zero if never
	RevokedAt    time.Time // when it was revoked; zero if not

	// Position is the tenant's change position (Keyset.Position) of the
	// change that stored the key, the first that publishes it; 0 for keys
	// stored before positions were recorded. The store sets it; a value
	// given to the store is ignored.
	Position int64
}

// Verifies reports whether tokens signed by the key are still accepted, that
// is whether it is not revoked.
func (k Key) Verifies() bool { return k.State != StateRevoked && k.State != "" }

// LogValue logs a key as its kid, algorithm and state only, never material.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kid", k.KID),
		slog.String("alg", k.Algorithm),
		slog.String("state", string(k.State)),
	)
}
