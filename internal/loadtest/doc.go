// Package loadtest drives one or more Signet replicas as a fleet of clients
// would, to show that key rotation breaks no client.
//
// Run requests client_credentials tokens at full speed from every replica in
// turn and verifies each token against every replica's JWKS with a Verifier:
// an independent verifier built on go-jose v4 alone, which caches a JWKS
// exactly as long as the response's Cache-Control allows, revalidates it with
// its ETag, and refetches it once when a token names a kid it does not hold.
// Meanwhile Run rotates the signing key every so often through one replica
// (optionally rotate-and-revoke), polls every replica's JWKS after each
// change, and reports tokens per second, token latency, the propagation delay
// of each change to each replica, and the verification failures, split into
// those of keys it revoked (expected) and those of keys nobody revoked (a
// bug: a replica signed with a key another replica did not publish).
package loadtest
