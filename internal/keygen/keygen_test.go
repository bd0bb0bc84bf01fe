package keygen_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/seal"
)

func newSealer(t testing.TB) *seal.Sealer {
	t.Helper()
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	s, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generate(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	k, err := keygen.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// now is a fixed instant with sub-second precision, which certificates drop.
var now = time.Date(2026, 3, 11, 9, 30, 15, 123456789, time.UTC)

func TestGenerate(t *testing.T) {
	t.Run("RS256", func(t *testing.T) {
		k, ok := generate(t, "RS256").(*rsa.PrivateKey)
		if !ok {
			t.Fatal("not an *rsa.PrivateKey")
		}
		if k.N.BitLen() != 2048 || k.E != 65537 {
			t.Errorf("RSA key: %d bits, e = %d; want 2048, 65537", k.N.BitLen(), k.E)
		}
	})
	t.Run("ES256", func(t *testing.T) {
		k, ok := generate(t, "ES256").(*ecdsa.PrivateKey)
		if !ok {
			t.Fatal("not an *ecdsa.PrivateKey")
		}
		if k.Curve != elliptic.P256() {
			t.Errorf("curve = %s, want P-256", k.Curve.Params().Name)
		}
	})
	for _, alg := range []string{"", "rs256", "HS256", "none", "PS256", "RS512", "EdDSA"} {
		t.Run("reject "+alg, func(t *testing.T) {
			k, err := keygen.Generate(alg)
			if !errors.Is(err, signet.ErrInvalid) || k != nil {
				t.Errorf("Generate(%q) = %v, %v; want nil, ErrInvalid", alg, k, err)
			}
		})
	}
}

var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
)

func TestNewKeyCertificate(t *testing.T) {
	s := newSealer(t)
	signers := map[string]crypto.Signer{"RS256": generate(t, "RS256"), "ES256": generate(t, "ES256")}
	tests := []struct {
		alg, host, cn string
		sigAlg        x509.SignatureAlgorithm
	}{
		{"RS256", "acme.example.com", "acme.example.com", x509.SHA256WithRSA},
		{"RS256", "localhost:8080", "localhost", x509.SHA256WithRSA},
		{"RS256", "127.0.0.1:8443", "127.0.0.1", x509.SHA256WithRSA},
		{"RS256", "[::1]:8080", "::1", x509.SHA256WithRSA},
		{"ES256", "acme.example.com", "acme.example.com", x509.ECDSAWithSHA256},
	}
	for _, tt := range tests {
		t.Run(tt.alg+" "+tt.host, func(t *testing.T) {
			k, err := keygen.NewKey(signers[tt.alg], tt.alg, tt.host, "acme", now, s)
			if err != nil {
				t.Fatal(err)
			}
			if k.State != "" || !k.CreatedAt.Equal(now) || k.Algorithm != tt.alg {
				t.Errorf("key: state %q, created %v, alg %q", k.State, k.CreatedAt, k.Algorithm)
			}
			c, err := x509.ParseCertificate(k.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.String() != "CN="+tt.cn || c.Issuer.String() != "CN="+tt.cn {
				t.Errorf("subject %q, issuer %q; want CN=%s for both", c.Subject, c.Issuer, tt.cn)
			}
			if err := c.CheckSignatureFrom(c); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			if c.SignatureAlgorithm != tt.sigAlg {
				t.Errorf("signature algorithm = %v, want %v", c.SignatureAlgorithm, tt.sigAlg)
			}
			if !c.NotBefore.Equal(now.Truncate(time.Second)) {
				t.Errorf("NotBefore = %v, want %v", c.NotBefore, now.Truncate(time.Second))
			}
			if d := c.NotAfter.Sub(c.NotBefore); d != 5000*24*time.Hour {
				t.Errorf("validity = %v, want exactly 5000 days", d)
			}
			if b := c.SerialNumber.Bytes(); c.SerialNumber.Sign() <= 0 || len(b) != 9 {
				t.Errorf("serial %x: sign %d, %d bytes; want positive, 9 bytes", b, c.SerialNumber.Sign(), len(b))
			}
			if !c.BasicConstraintsValid || !c.IsCA {
				t.Error("not CA:TRUE")
			}
			if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign {
				t.Errorf("key usage = %b, want digitalSignature|keyCertSign", c.KeyUsage)
			}
			if len(c.ExtKeyUsage) != 0 || len(c.AuthorityKeyId) != 0 {
				t.Error("unexpected extended key usage or authority key id")
			}
			if len(c.SubjectKeyId) == 0 {
				t.Error("no subject key identifier")
			}
			critical := map[string]bool{}
			for _, e := range c.Extensions {
				critical[e.Id.String()] = e.Critical
			}
			want := map[string]bool{
				oidBasicConstraints.String(): true,
				oidKeyUsage.String():         true,
				oidSubjectKeyID.String():     false,
			}
			if len(critical) != len(want) {
				t.Errorf("extensions = %v, want %v", critical, want)
			}
			for id, crit := range want {
				if got, ok := critical[id]; !ok || got != crit {
					t.Errorf("extension %s: present %v, critical %v; want critical %v", id, ok, got, crit)
				}
			}
			if !signers[tt.alg].Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey) {
				t.Error("certificate public key is not the signer's")
			}
		})
	}
}

func TestNewKeyRejects(t *testing.T) {
	s := newSealer(t)
	ec := generate(t, "ES256")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name   string
		signer crypto.Signer
		alg    string
		host   string
	}{
		{"EC key as RS256", ec, "RS256", "h"},
		{"P-384 key as ES256", p384, "ES256", "h"},
		{"unknown alg", ec, "HS256", "h"},
		{"empty host", ec, "ES256", ""},
		{"port only", ec, "ES256", ":8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := keygen.NewKey(tt.signer, tt.alg, tt.host, "acme", now, s); !errors.Is(err, signet.ErrInvalid) {
				t.Errorf("NewKey error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSerial(t *testing.T) {
	for range 5000 {
		n, err := keygen.NewSerial()
		if err != nil {
			t.Fatal(err)
		}
		der, err := asn1.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		if n.Sign() <= 0 || len(der) != 2+9 {
			t.Fatalf("serial %x: sign %d, DER %x; want positive with 9 content bytes", n, n.Sign(), der)
		}
	}
}

func TestKID(t *testing.T) {
	s := newSealer(t)
	for _, alg := range keygen.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			signer := generate(t, alg)
			a, err := keygen.NewKey(signer, alg, "a.example", "acme", now, s)
			if err != nil {
				t.Fatal(err)
			}
			b, err := keygen.NewKey(signer, alg, "b.example", "other", now.Add(time.Hour), s)
			if err != nil {
				t.Fatal(err)
			}
			if a.KID != b.KID {
				t.Errorf("kid not stable: %s then %s", a.KID, b.KID)
			}
			if bytes.Equal(a.Certificate, b.Certificate) {
				t.Error("two certificates are identical")
			}
			jwk := jose.JSONWebKey{Key: signer.Public()}
			sum, err := jwk.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(sum); a.KID != want {
				t.Errorf("kid = %s, want jose thumbprint %s", a.KID, want)
			}
			if len(a.KID) != 43 {
				t.Errorf("kid %q has %d characters, want 43", a.KID, len(a.KID))
			}
			other := generate(t, alg)
			c, err := keygen.NewKey(other, alg, "a.example", "acme", now, s)
			if err != nil {
				t.Fatal(err)
			}
			if c.KID == a.KID {
				t.Error("two keys share a kid")
			}
		})
	}
}

// TestKIDVector checks the kid against RFC 7638 §3.1's worked example.
func TestKIDVector(t *testing.T) {
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	kid, err := keygen.KID(pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; kid != want {
		t.Errorf("KID = %s, want %s", kid, want)
	}
}

func TestSealedKey(t *testing.T) {
	s := newSealer(t)
	for _, alg := range keygen.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			signer := generate(t, alg)
			k, err := keygen.NewKey(signer, alg, "acme.example", "acme", now, s)
			if err != nil {
				t.Fatal(err)
			}
			pkcs8, err := x509.MarshalPKCS8PrivateKey(signer)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(k.SealedPrivateKey, pkcs8) {
				t.Fatal("sealed key contains the PKCS#8 bytes")
			}
			var secret []byte
			switch p := signer.(type) {
			case *rsa.PrivateKey:
				secret = p.D.Bytes()
			case *ecdsa.PrivateKey:
				secret, _ = p.Bytes()
			}
			if bytes.Contains(k.SealedPrivateKey, secret[:16]) {
				t.Fatal("sealed key contains private key material")
			}
			if len(k.SealedPrivateKey) != len(pkcs8)+seal.Overhead {
				t.Errorf("sealed length %d, want %d", len(k.SealedPrivateKey), len(pkcs8)+seal.Overhead)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	s := newSealer(t)
	for _, alg := range keygen.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			signer := generate(t, alg)
			k, err := keygen.NewKey(signer, alg, "acme.example", "acme", now, s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := keygen.Open(k, "acme", s)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(signer.Public()) {
				t.Fatal("opened key differs")
			}
			digest := sha256.Sum256([]byte("payload"))
			sig, err := got.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := x509.ParseCertificate(k.Certificate)
			sigAlg := x509.SHA256WithRSA
			if alg == "ES256" {
				sigAlg = x509.ECDSAWithSHA256
			}
			if err := cert.CheckSignature(sigAlg, []byte("payload"), sig); err != nil {
				t.Errorf("signature by opened key does not verify with the certificate: %v", err)
			}

			other, err := keygen.NewKey(generate(t, alg), alg, "acme.example", "acme", now, s)
			if err != nil {
				t.Fatal(err)
			}
			bad := []struct {
				name   string
				key    func(signet.Key) signet.Key
				tenant string
				s      *seal.Sealer
			}{
				{"wrong tenant", nil, "evil", s},
				{"wrong master key", nil, "acme", newSealer(t)},
				{"other key's kid", func(k signet.Key) signet.Key { k.KID = other.KID; return k }, "acme", s},
				{"other key's certificate", func(k signet.Key) signet.Key { k.Certificate = other.Certificate; return k }, "acme", s},
				{"other key's sealed key", func(k signet.Key) signet.Key { k.SealedPrivateKey = other.SealedPrivateKey; return k }, "acme", s},
				{"wrong algorithm", func(k signet.Key) signet.Key {
					k.Algorithm = map[string]string{"RS256": "ES256", "ES256": "RS256"}[alg]
					return k
				}, "acme", s},
				{"no certificate", func(k signet.Key) signet.Key { k.Certificate = nil; return k }, "acme", s},
				{"no sealed key", func(k signet.Key) signet.Key { k.SealedPrivateKey = nil; return k }, "acme", s},
			}
			for _, tt := range bad {
				t.Run(tt.name, func(t *testing.T) {
					kk := k
					if tt.key != nil {
						kk = tt.key(k)
					}
					if got, err := keygen.Open(kk, tt.tenant, tt.s); err == nil || got != nil {
						t.Errorf("Open = %v, %v; want nil, error", got, err)
					}
				})
			}
		})
	}
}

func TestPoolGetEmpty(t *testing.T) {
	p := keygen.NewPool(2)
	for _, alg := range keygen.Algorithms() {
		if n := p.Ready(alg); n != 0 {
			t.Errorf("Ready(%s) = %d before Run, want 0", alg, n)
		}
		k, err := p.Get(t.Context(), alg)
		if err != nil || k == nil {
			t.Fatalf("Get(%s) from empty pool = %v, %v", alg, k, err)
		}
	}
	if _, err := p.Get(t.Context(), "HS256"); !errors.Is(err, signet.ErrInvalid) {
		t.Errorf("Get(HS256) error = %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Get(ctx, "ES256"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with done ctx on empty pool = %v, want context.Canceled", err)
	}
}

func TestPoolDisabled(t *testing.T) {
	p := keygen.NewPool(0)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	if k, err := p.Get(t.Context(), "ES256"); err != nil || k == nil {
		t.Fatalf("Get = %v, %v", k, err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func waitReady(t *testing.T, p *keygen.Pool, alg string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.Ready(alg) < n {
		if time.Now().After(deadline) {
			t.Fatalf("pool holds %d %s keys after 30s, want %d", p.Ready(alg), alg, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPoolConcurrent(t *testing.T) {
	p := keygen.NewPool(2)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitReady(t, p, "RS256", 2)
	waitReady(t, p, "ES256", 2)

	// A ready RSA key comes back at once, far faster than generating one.
	start := time.Now()
	if _, err := p.Get(t.Context(), "RS256"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Logf("Get of a ready RSA key took %v", d) // logged, not failed: a loaded CI machine may be slow
	}

	const n = 32
	keys := make([]crypto.Signer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := p.Get(t.Context(), "ES256")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for i, k := range keys {
		if k == nil {
			continue
		}
		b, _ := k.(*ecdsa.PrivateKey).Bytes()
		if j, ok := seen[string(b)]; ok {
			t.Errorf("Get %d and %d returned the same key", j, i)
		}
		seen[string(b)] = i
	}
	waitReady(t, p, "ES256", 2) // refilled after being drained

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func BenchmarkGenerateRSA2048(b *testing.B) {
	for b.Loop() {
		if _, err := keygen.Generate("RS256"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewKey(b *testing.B) {
	s := newSealer(b)
	for _, alg := range keygen.Algorithms() {
		b.Run(alg, func(b *testing.B) {
			signer := generate(b, alg)
			for b.Loop() {
				if _, err := keygen.NewKey(signer, alg, "acme.example.com", "acme", now, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
