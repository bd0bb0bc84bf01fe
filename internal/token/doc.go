// Package token issues and verifies JWT access tokens with go-jose.
//
// A Signer, built once per signing key, turns claims into a compact JWS with
// the header {"alg", "kid", "typ":"JWT"}; Sign is the one-shot form. Verify
// checks a token against the keys a caller trusts, looked up by the token's
// kid, and insists that the token's alg is exactly the algorithm of that key,
// so "none", HMAC with a public key as the secret, and every other algorithm
// confusion fail. Then it checks issuer, audience and times.
//
// Every verification failure wraps ErrInvalidToken with a short fixed reason
// ("expired", "unknown kid", …) that is safe to log and never echoes the
// token's content.
package token
