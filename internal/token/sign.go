package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Signer signs tokens with one key. Build it once per key with NewSigner and
// reuse it: it is safe for concurrent use.
type Signer struct {
	jws jose.Signer
	kid string
}

// KID returns the key ID the signer puts in every token's header.
func (s *Signer) KID() string { return s.kid }

// NewSigner returns a Signer that signs with signer under JWS algorithm alg
// (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA)
// and puts kid in every token's header. The signer may be an
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey, which go-jose
// uses directly, or any other
// crypto.Signer (an HSM or KMS key), which it calls through
// cryptosigner.Opaque.
// Returns an error if kid is empty, alg is not one of the above, or the key
// does not fit alg.
func NewSigner(signer crypto.Signer, alg, kid string) (*Signer, error) {
	if kid == "" {
		return nil, errors.New("token: signer needs a kid")
	}
	if err := checkKey(signer.Public(), alg); err != nil {
		return nil, err
	}
	var key any
	switch signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		key = signer
	default:
		key = cryptosigner.Opaque(signer)
	}
	js, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("token: new %s signer: %w", alg, err)
	}
	return &Signer{jws: js, kid: kid}, nil
}

// Sign marshals claims to JSON and returns them signed as a compact JWS.
// Returns an error if claims do not marshal or signing fails.
func (s *Signer) Sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: marshal claims: %w", err)
	}
	obj, err := s.jws.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("token: serialize: %w", err)
	}
	return out, nil
}

// Sign signs claims once with signer; see NewSigner and Signer.Sign. On a hot
// path, build a Signer once instead.
// Returns the errors of NewSigner and Signer.Sign.
func Sign(signer crypto.Signer, alg, kid string, claims any) (string, error) {
	s, err := NewSigner(signer, alg, kid)
	if err != nil {
		return "", err
	}
	return s.Sign(claims)
}

// checkKey reports whether pub can sign or verify under alg.
// Returns an error naming the mismatch if not.
func checkKey(pub crypto.PublicKey, alg string) error {
	var ok bool
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, ok = pub.(*rsa.PublicKey)
	case "ES256":
		ok = isCurve(pub, elliptic.P256())
	case "ES384":
		ok = isCurve(pub, elliptic.P384())
	case "ES512":
		ok = isCurve(pub, elliptic.P521())
	case "EdDSA":
		_, ok = pub.(ed25519.PublicKey)
	default:
		return fmt.Errorf("token: unsupported algorithm %q", alg)
	}
	if !ok {
		return fmt.Errorf("token: a %T cannot sign or verify %s", pub, alg)
	}
	return nil
}

func isCurve(pub crypto.PublicKey, c elliptic.Curve) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k.Curve == c
}
