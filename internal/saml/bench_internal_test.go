package saml

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// BenchmarkResponse measures building and signing one SAML Response (one
// RSA-2048 signature over the assertion) and serializing it.
func BenchmarkResponse(b *testing.B) {
	for _, signResponse := range []bool{false, true} {
		name := "assertion"
		if signResponse {
			name = "assertion+response"
		}
		b.Run(name, func(b *testing.B) {
			s := benchSigner(b)
			a := benchAssertion()
			a.SignResponse = signResponse
			b.ReportAllocs()
			for b.Loop() {
				doc, err := buildResponse(a, s)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := doc.WriteToBytes(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRSTR measures building and signing one WS-Fed RSTR.
func BenchmarkRSTR(b *testing.B) {
	s := benchSigner(b)
	a := benchAssertion()
	b.ReportAllocs()
	for b.Loop() {
		doc, err := buildRSTR(a, s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := doc.WriteToBytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSASign is the raw RSA-2048 PKCS#1 v1.5 signature the above
// contain, for the ratio.
func BenchmarkRSASign(b *testing.B) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	d := make([]byte, 32)
	for b.Loop() {
		if _, err := k.Sign(rand.Reader, d, rsaSHA256.hash); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSigner(b *testing.B) *signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		b.Fatal(err)
	}
	s, err := newSigner(k, der, rsaSHA256)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchAssertion() assertion {
	now := time.Now()
	return assertion{Issuer: "urn:tenant.example.com", Audience: "urn:sp", Recipient: "https://sp.example.com/acs",
		Destination: "https://sp.example.com/acs", InResponseTo: "_req", Now: now, Lifetime: time.Hour, AuthTime: now,
		SessionIndex: "_s", NameID: "auth0|0123456789abcdef01234567", NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		AuthnContext: "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified", TypedAttributes: true, NameFormat: true,
		Attributes: []attribute{{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", []string{"ada@example.com"}},
			{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", []string{"Ada Lovelace"}}}}
}
