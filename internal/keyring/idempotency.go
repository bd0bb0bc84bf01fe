package keyring

import (
	"strings"

	"github.com/signet-auth/signet"
)

// ErrIdempotencyKeyReused is returned by Ring.Rotate when the caller already
// used its idempotency key for a different request.
var ErrIdempotencyKeyReused = &signet.Error{Code: signet.ECONFLICT,
	Message: "The Idempotency-Key was already used by this client with a different request. Use a new key for a new request."}

// fingerprintData is the event data member that records the fingerprint of
// the request an idempotent rotation answered.
const fingerprintData = "request_fingerprint"

// actorEscaper escapes the separator of a scoped idempotency key (and the
// escape character) in an actor.
var actorEscaper = strings.NewReplacer("%", "%25", "\n", "%0A")

// scopedIdempotencyKey returns the idempotency key stored for actor's key:
// the escaped actor, a line feed and the key, so that each caller has its
// own keys and no two (actor, key) pairs share a stored key. Migration 0006
// of both stores rewrote earlier events' keys the same way.
func scopedIdempotencyKey(actor, key string) string {
	return actorEscaper.Replace(actor) + "\n" + key
}

// IdempotencyKey returns the caller's idempotency key of a stored event's
// IdempotencyKey (which is scoped to the event's actor).
func IdempotencyKey(stored string) string {
	_, key, ok := strings.Cut(stored, "\n")
	if !ok {
		return stored
	}
	return key
}

// sameRequest reports whether opt asks again what the rotation recorded by
// e did: the same RevokeCurrent and, if e recorded one, the same
// fingerprint. (Rotations stored before fingerprints were recorded are
// compared on RevokeCurrent alone.)
func sameRequest(e signet.Event, opt RotateOptions) bool {
	if _, revoked := e.Data["revoked_kid"]; revoked != opt.RevokeCurrent {
		return false
	}
	fp, ok := e.Data[fingerprintData]
	return !ok || fp == opt.Fingerprint
}
