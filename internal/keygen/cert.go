package keygen

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/signet-auth/signet"
)

// CertPEM returns the certificate DER as PEM the way Auth0's `cert` field and
// /pem carry it: "-----BEGIN CERTIFICATE-----", the base64 body in 64-character
// lines, "-----END CERTIFICATE-----", all joined by CRLF, with no trailing
// line end.
func CertPEM(der []byte) string {
	return armor("CERTIFICATE", der)
}

// RawPEM returns just the base64 body lines of CertPEM, joined by CRLF: what
// Auth0's /rawpem serves.
func RawPEM(der []byte) string {
	return body(der)
}

// PKCS7 returns the certificate as a degenerate, certificates-only PKCS#7
// SignedData (RFC 2315; what `openssl crl2pkcs7 -nocrl` makes), in PEM
// with CRLF line ends: "-----BEGIN PKCS7-----" … "-----END PKCS7-----".
func PKCS7(der []byte) string {
	return armor("PKCS7", pkcs7DER(der))
}

var (
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	emptySet      = asn1.RawValue{FullBytes: []byte{0x31, 0x00}}
)

// pkcs7DER encodes
//
//	ContentInfo ::= SEQUENCE { contentType signedData, content [0] EXPLICIT SignedData }
//	SignedData  ::= SEQUENCE { version 1, digestAlgorithms SET {},
//	                           contentInfo SEQUENCE { data }, certificates [0] IMPLICIT SET OF Certificate,
//	                           signerInfos SET {} }
func pkcs7DER(certs ...[]byte) []byte {
	type contentInfo struct {
		ContentType asn1.ObjectIdentifier
	}
	type signedData struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      contentInfo
		Certificates     asn1.RawValue
		SignerInfos      asn1.RawValue
	}
	sd, err := asn1.Marshal(signedData{
		Version:          1,
		DigestAlgorithms: emptySet,
		ContentInfo:      contentInfo{ContentType: oidData},
		Certificates: asn1.RawValue{
			Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
			Bytes: concat(certs),
		},
		SignerInfos: emptySet,
	})
	if err != nil {
		panic("keygen: marshal PKCS#7 SignedData: " + err.Error()) // cannot happen: fixed shapes
	}
	out, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{
		ContentType: oidSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd},
	})
	if err != nil {
		panic("keygen: marshal PKCS#7 ContentInfo: " + err.Error()) // cannot happen: fixed shapes
	}
	return out
}

func concat(bs [][]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// Fingerprint returns the SHA-1 of the certificate DER as colon-separated
// uppercase hex ("AA:BB:…"), as Auth0's `fingerprint`.
func Fingerprint(der []byte) string {
	sum := sha1.Sum(der)
	var b strings.Builder
	b.Grow(3*len(sum) - 1)
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// Thumbprint returns the SHA-1 of the certificate DER as uppercase hex
// without separators, as Auth0's `thumbprint`.
func Thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// X5T returns the JWK `x5t` of the certificate: base64url without padding of
// the SHA-1 of its DER.
func X5T(der []byte) string {
	sum := sha1.Sum(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// JWK returns the public JWK of k as published in a JWKS: the certificate's
// public key, kid, alg, use "sig", x5c (the certificate) and x5t (its SHA-1
// thumbprint); no x5t#S256.
// Returns an error if the certificate does not parse.
func JWK(k signet.Key) (jose.JSONWebKey, error) {
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("jwk of key %s: parse certificate: %w", k.KID, err)
	}
	sum := sha1.Sum(k.Certificate)
	return jose.JSONWebKey{
		Key:                       cert.PublicKey,
		KeyID:                     k.KID,
		Algorithm:                 k.Algorithm,
		Use:                       "sig",
		Certificates:              []*x509.Certificate{cert},
		CertificateThumbprintSHA1: sum[:],
	}, nil
}

// armor returns der as PEM of the given type with CRLF line ends and no
// trailing line end.
func armor(typ string, der []byte) string {
	return "-----BEGIN " + typ + "-----\r\n" + body(der) + "\r\n-----END " + typ + "-----"
}

// body returns the standard base64 of der in 64-character lines joined by CRLF.
func body(der []byte) string {
	enc := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	b.Grow(len(enc) + 2*(len(enc)/64+1))
	for len(enc) > 64 {
		b.WriteString(enc[:64])
		b.WriteString("\r\n")
		enc = enc[64:]
	}
	b.WriteString(enc)
	return b.String()
}
