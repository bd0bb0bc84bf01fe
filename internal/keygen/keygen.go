package keygen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/seal"
)

// Validity is how long a key's certificate is valid: 5000 days, as Auth0's.
const Validity = 5000 * 24 * time.Hour

// RSABits is the size of generated RSA keys.
const RSABits = 2048

// Algorithms lists the JWS algorithms Generate supports.
func Algorithms() []string { return []string{"RS256", "ES256"} }

// Generate returns a new private key for the JWS algorithm alg: an
// *rsa.PrivateKey of RSABits bits (e = 65537) for "RS256", an
// *ecdsa.PrivateKey on P-256 for "ES256".
// Returns an error matching signet.ErrInvalid for any other algorithm.
func Generate(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, RSABits)
		if err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
		return k, nil
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ECDSA key: %w", err)
		}
		return k, nil
	}
	return nil, signet.Errorf(signet.EINVALID, "Unsupported signing algorithm %q.", alg)
}

// checkAlg reports whether pub is a key of the kind alg signs with.
// Returns an error matching signet.ErrInvalid if not.
func checkAlg(pub crypto.PublicKey, alg string) error {
	switch alg {
	case "RS256":
		if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() >= 2048 {
			return nil
		}
	case "ES256":
		if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
			return nil
		}
	default:
		return signet.Errorf(signet.EINVALID, "Unsupported signing algorithm %q.", alg)
	}
	return signet.Errorf(signet.EINVALID, "The key does not fit signing algorithm %q.", alg)
}

// KID returns the kid of a public key: its RFC 7638 JWK thumbprint, SHA-256,
// base64url without padding.
// Returns an error for key types JWK does not support.
func KID(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwk thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// NewKey builds the signet.Key for a freshly generated signer: kid, a
// self-signed certificate and the sealed private key. State is left empty
// and CreatedAt is now.
//
// The certificate mirrors Auth0's: subject = issuer = CN=host (any port
// removed), a positive 9-byte random serial, valid from now for exactly
// Validity, signed with SHA-256, basicConstraints critical CA:TRUE, a
// subject key identifier and keyUsage critical digitalSignature|keyCertSign.
// The private key is sealed as PKCS#8 DER with additional data
// seal.AD(tenant, kid).
//
// Returns an error matching signet.ErrInvalid if the signer does not fit alg
// or host is empty, and other errors if the signer cannot be marshalled as
// PKCS#8 (e.g. a key held in an HSM) or signing or sealing fails.
func NewKey(signer crypto.Signer, alg, host string, tenant string, now time.Time, s *seal.Sealer) (signet.Key, error) {
	pub := signer.Public()
	if err := checkAlg(pub, alg); err != nil {
		return signet.Key{}, err
	}
	cn := hostname(host)
	if cn == "" {
		return signet.Key{}, signet.Errorf(signet.EINVALID, "A certificate needs a host name.")
	}
	kid, err := KID(pub)
	if err != nil {
		return signet.Key{}, err
	}
	serial, err := newSerial()
	if err != nil {
		return signet.Key{}, err
	}
	sigAlg := x509.SHA256WithRSA
	if alg == "ES256" {
		sigAlg = x509.ECDSAWithSHA256
	}
	name := pkix.Name{CommonName: cn}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             now,
		NotAfter:              now.Add(Validity),
		SignatureAlgorithm:    sigAlg,
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		// SubjectKeyId is left empty: CreateCertificate derives one for CA certificates.
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		return signet.Key{}, fmt.Errorf("create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return signet.Key{}, fmt.Errorf("marshal private key: %w", err)
	}
	sealed, err := s.Seal(pkcs8, seal.AD(tenant, kid))
	clear(pkcs8)
	if err != nil {
		return signet.Key{}, fmt.Errorf("seal private key: %w", err)
	}
	return signet.Key{
		KID:              kid,
		Algorithm:        alg,
		Certificate:      der,
		SealedPrivateKey: sealed,
		CreatedAt:        now,
	}, nil
}

// Open unseals the private key of k, which belongs to tenant, and checks it
// against the key's certificate and kid.
// Returns an error if the key does not unseal under s with seal.AD(tenant,
// k.KID) (wrong master key, wrong tenant, tampered data), if the PKCS#8 or
// certificate does not parse, or if the private key, certificate, kid and
// algorithm do not all agree.
func Open(k signet.Key, tenant string, s *seal.Sealer) (crypto.Signer, error) {
	pkcs8, err := s.Open(k.SealedPrivateKey, seal.AD(tenant, k.KID))
	if err != nil {
		return nil, fmt.Errorf("open key %s: %w", k.KID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(pkcs8)
	clear(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("open key %s: parse private key: %w", k.KID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("open key %s: private key of type %T cannot sign", k.KID, priv)
	}
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return nil, fmt.Errorf("open key %s: parse certificate: %w", k.KID, err)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("open key %s: private key does not match its certificate", k.KID)
	}
	if kid, err := KID(signer.Public()); err != nil || kid != k.KID {
		return nil, fmt.Errorf("open key %s: kid is not the key's thumbprint", k.KID)
	}
	if err := checkAlg(signer.Public(), k.Algorithm); err != nil {
		return nil, fmt.Errorf("open key %s: %w", k.KID, err)
	}
	return signer, nil
}

// hostname strips any port (and IPv6 brackets) from a Host value.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// newSerial returns a random serial number whose DER encoding is exactly 9
// bytes: positive (top bit clear) and without a leading zero byte.
func newSerial() (*big.Int, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	b[0] &= 0x7f
	if b[0] == 0 {
		b[0] = 0x01
	}
	return new(big.Int).SetBytes(b), nil
}
