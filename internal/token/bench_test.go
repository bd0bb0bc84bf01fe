package token_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/token"
)

// BenchmarkSignRS256 measures token issuance: Signer.Sign of typical
// client-credentials claims with the testdata key. Compare it with
// BenchmarkRawRSASign, the ceiling set by the RSA operation alone.
func BenchmarkSignRS256(b *testing.B) {
	s, err := token.NewSigner(fixtureKey(b), "RS256", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
	if err != nil {
		b.Fatal(err)
	}
	claims := typical(time.Now())
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Sign(claims); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Sign(claims); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRawRSASign is rsa.SignPKCS1v15 on a SHA-256 digest with the same
// key as BenchmarkSignRS256.
func BenchmarkRawRSASign(b *testing.B) {
	key := fixtureKey(b)
	digest := sha256.Sum256([]byte("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2FjbWUuZXhhbXBsZS5jb20vIn0"))
	sign := func() error {
		_, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
		return err
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := sign(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := sign(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkVerifyRS256 measures Verify of a typical token.
func BenchmarkVerifyRS256(b *testing.B) {
	key := fixtureKey(b)
	now := time.Now()
	raw := sign(b, key, "RS256", "k", typical(now))
	keys := func(kid string) (token.VerifyKey, bool) {
		return token.VerifyKey{Key: &key.PublicKey, Algorithm: "RS256"}, kid == "k"
	}
	want := token.Expect{Issuers: []string{issuer}, Audiences: []string{audience}, Now: now}
	for b.Loop() {
		if _, err := token.Verify(raw, keys, want); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeRSA is a crypto.Signer with an RSA public key whose Sign returns a
// fixed 256-byte signature at once, so a benchmark through it measures
// everything in issuance but the RSA operation.
type fakeRSA struct{ pub *rsa.PublicKey }

func (f fakeRSA) Public() crypto.PublicKey { return f.pub }
func (f fakeRSA) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return make([]byte, 256), nil
}

// BenchmarkSignOverhead is BenchmarkSignRS256 minus the RSA operation: JSON,
// hashing, base64 and go-jose's bookkeeping.
func BenchmarkSignOverhead(b *testing.B) {
	s, err := token.NewSigner(fakeRSA{&fixtureKey(b).PublicKey}, "RS256", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
	if err != nil {
		b.Fatal(err)
	}
	claims := typical(time.Now())
	for b.Loop() {
		if _, err := s.Sign(claims); err != nil {
			b.Fatal(err)
		}
	}
}
