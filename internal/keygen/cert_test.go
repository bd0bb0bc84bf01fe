package keygen_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
)

func newKey(t testing.TB, alg string) signet.Key {
	t.Helper()
	k, err := keygen.NewKey(generate(t, alg), alg, "acme.example.com", "acme", now, newSealer(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// checkCRLF checks s is CRLF-separated lines of at most 64 characters
// between BEGIN and END lines of typ, with no trailing line end.
func checkCRLF(t *testing.T, s, typ string) {
	t.Helper()
	if strings.Count(s, "\n") != strings.Count(s, "\r\n") || strings.Count(s, "\r") != strings.Count(s, "\r\n") {
		t.Errorf("line ends are not all CRLF: %q", s)
	}
	lines := strings.Split(s, "\r\n")
	if first, last := lines[0], lines[len(lines)-1]; first != "-----BEGIN "+typ+"-----" || last != "-----END "+typ+"-----" {
		t.Errorf("armor lines %q … %q", first, last)
	}
	body := lines[1 : len(lines)-1]
	for i, l := range body {
		if len(l) > 64 || (i < len(body)-1 && len(l) != 64) || len(l) == 0 {
			t.Errorf("body line %d has %d characters", i, len(l))
		}
	}
}

func TestCertPEM(t *testing.T) {
	for _, alg := range keygen.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			der := newKey(t, alg).Certificate
			s := keygen.CertPEM(der)
			checkCRLF(t, s, "CERTIFICATE")
			block, rest := pem.Decode([]byte(s))
			if block == nil || block.Type != "CERTIFICATE" || !bytes.Equal(block.Bytes, der) || len(rest) != 0 {
				t.Fatalf("pem.Decode: block %v, rest %q", block, rest)
			}
			// RawPEM is exactly the body lines.
			want := strings.TrimSuffix(strings.TrimPrefix(s, "-----BEGIN CERTIFICATE-----\r\n"), "\r\n-----END CERTIFICATE-----")
			if raw := keygen.RawPEM(der); raw != want {
				t.Errorf("RawPEM = %q, want %q", raw, want)
			}
			if got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(keygen.RawPEM(der), "\r\n", "")); err != nil || !bytes.Equal(got, der) {
				t.Errorf("RawPEM does not decode to the DER: %v", err)
			}
		})
	}
	t.Run("line boundaries", func(t *testing.T) {
		for _, n := range []int{1, 47, 48, 49, 96, 97} { // 48 bytes = one full 64-char line
			der := bytes.Repeat([]byte{0xAA}, n)
			s := keygen.CertPEM(der)
			checkCRLF(t, s, "CERTIFICATE")
			if block, _ := pem.Decode([]byte(s)); block == nil || !bytes.Equal(block.Bytes, der) {
				t.Errorf("%d bytes: does not round trip", n)
			}
		}
	})
}

func TestPKCS7(t *testing.T) {
	k := newKey(t, "RS256")
	s := keygen.PKCS7(k.Certificate)
	checkCRLF(t, s, "PKCS7")
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PKCS7" {
		t.Fatalf("pem.Decode: %v", block)
	}

	// Decode the ASN.1 back, field by field.
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue // [0] EXPLICIT SignedData
	}
	if rest, err := asn1.Unmarshal(block.Bytes, &ci); err != nil || len(rest) != 0 {
		t.Fatalf("ContentInfo: %v, %d trailing bytes", err, len(rest))
	}
	if !ci.ContentType.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}) {
		t.Errorf("contentType = %v, want signedData", ci.ContentType)
	}
	if c := ci.Content; c.Class != asn1.ClassContextSpecific || c.Tag != 0 || !c.IsCompound {
		t.Errorf("content: class %d tag %d compound %v; want [0] EXPLICIT", c.Class, c.Tag, c.IsCompound)
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      struct{ ContentType asn1.ObjectIdentifier }
		Certificates     asn1.RawValue
		SignerInfos      asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		t.Fatalf("SignedData: %v, %d trailing bytes", err, len(rest))
	}
	if sd.Version != 1 {
		t.Errorf("version = %d, want 1", sd.Version)
	}
	emptySet := []byte{0x31, 0x00}
	if !bytes.Equal(sd.DigestAlgorithms.FullBytes, emptySet) || !bytes.Equal(sd.SignerInfos.FullBytes, emptySet) {
		t.Errorf("digestAlgorithms %x, signerInfos %x; want empty SETs", sd.DigestAlgorithms.FullBytes, sd.SignerInfos.FullBytes)
	}
	if !sd.ContentInfo.ContentType.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}) {
		t.Errorf("inner contentType = %v, want data", sd.ContentInfo.ContentType)
	}
	if c := sd.Certificates; c.Class != asn1.ClassContextSpecific || c.Tag != 0 || !c.IsCompound {
		t.Errorf("certificates: class %d tag %d compound %v; want [0] IMPLICIT constructed", c.Class, c.Tag, c.IsCompound)
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil || len(certs) != 1 || !bytes.Equal(certs[0].Raw, k.Certificate) {
		t.Fatalf("certificates: %d parsed, err %v; want the one certificate", len(certs), err)
	}

	t.Run("openssl", func(t *testing.T) {
		openssl, err := exec.LookPath("openssl")
		if err != nil {
			t.Skip("openssl not installed")
		}
		cmd := exec.Command(openssl, "pkcs7", "-print_certs")
		cmd.Stdin = strings.NewReader(s)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl pkcs7 -print_certs: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "CN=acme.example.com") && !strings.Contains(string(out), "CN = acme.example.com") {
			t.Errorf("openssl output lacks the subject:\n%s", out)
		}
		block, _ := pem.Decode(out[bytes.Index(out, []byte("-----BEGIN")):])
		if block == nil || !bytes.Equal(block.Bytes, k.Certificate) {
			t.Errorf("openssl printed a different certificate:\n%s", out)
		}

		// And openssl reads CertPEM's CRLF PEM as the same certificate.
		cmd = exec.Command(openssl, "x509", "-noout", "-fingerprint", "-sha1")
		cmd.Stdin = strings.NewReader(keygen.CertPEM(k.Certificate))
		out, err = cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl x509: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), keygen.Fingerprint(k.Certificate)) {
			t.Errorf("openssl fingerprint %q, want %s", out, keygen.Fingerprint(k.Certificate))
		}
	})
}

func TestFingerprints(t *testing.T) {
	// SHA-1("abc") = A9993E36 4706816A BA3E2571 7850C26C 9CD0D89D (FIPS 180-2).
	abc := []byte("abc")
	tests := []struct {
		name string
		f    func([]byte) string
		want string
	}{
		{"Fingerprint", keygen.Fingerprint, "A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D"},
		{"Thumbprint", keygen.Thumbprint, "A9993E364706816ABA3E25717850C26C9CD0D89D"},
		{"X5T", keygen.X5T, "qZk-NkcGgWq6PiVxeFDCbJzQ2J0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(abc); got != tt.want {
				t.Errorf("%s(abc) = %s, want %s", tt.name, got, tt.want)
			}
		})
	}
	der := newKey(t, "RS256").Certificate
	fp := keygen.Fingerprint(der)
	if !regexp.MustCompile(`^([0-9A-F]{2}:){19}[0-9A-F]{2}$`).MatchString(fp) {
		t.Errorf("Fingerprint = %q, not colon-separated uppercase hex SHA-1", fp)
	}
	if tp := keygen.Thumbprint(der); tp != strings.ReplaceAll(fp, ":", "") {
		t.Errorf("Thumbprint %s is not Fingerprint %s without colons", tp, fp)
	}
	sum := sha1.Sum(der)
	if got, _ := base64.RawURLEncoding.DecodeString(keygen.X5T(der)); !bytes.Equal(got, sum[:]) {
		t.Errorf("X5T does not decode to the SHA-1 of the DER")
	}
}

func TestJWK(t *testing.T) {
	tests := []struct {
		alg     string
		members []string
		kty     string
	}{
		{"RS256", []string{"alg", "e", "kid", "kty", "n", "use", "x5c", "x5t"}, "RSA"},
		{"ES256", []string{"alg", "crv", "kid", "kty", "use", "x", "x5c", "x5t", "y"}, "EC"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k := newKey(t, tt.alg)
			jwk, err := keygen.JWK(k)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(jwk)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			var names []string
			for name := range m {
				names = append(names, name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.members) {
				t.Errorf("members = %v, want %v (no x5t#S256, no private parts)", names, tt.members)
			}
			if m["kty"] != tt.kty || m["alg"] != tt.alg || m["use"] != "sig" || m["kid"] != k.KID {
				t.Errorf("kty %v alg %v use %v kid %v", m["kty"], m["alg"], m["use"], m["kid"])
			}
			if m["x5t"] != keygen.X5T(k.Certificate) {
				t.Errorf("x5t = %v, want %s", m["x5t"], keygen.X5T(k.Certificate))
			}
			if x5c, _ := m["x5c"].([]any); len(x5c) != 1 || x5c[0] != base64.StdEncoding.EncodeToString(k.Certificate) {
				t.Errorf("x5c = %v, want [standard base64 DER]", m["x5c"])
			}
			if tt.kty == "RSA" && m["e"] != "AQAB" {
				t.Errorf("e = %v, want AQAB", m["e"])
			}
			// go-jose reads it back and checks x5t against x5c.
			var back jose.JSONWebKey
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			if !back.IsPublic() || !back.Valid() || back.KeyID != k.KID {
				t.Errorf("parsed back: public %v valid %v kid %s", back.IsPublic(), back.Valid(), back.KeyID)
			}
		})
	}
	if _, err := keygen.JWK(signet.Key{KID: "x", Certificate: []byte("junk")}); err == nil {
		t.Error("JWK of a key with a junk certificate succeeded")
	}
}

func TestPKCS7MatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	k := newKey(t, "ES256")
	path := t.TempDir() + "/cert.pem"
	if err := os.WriteFile(path, []byte(keygen.CertPEM(k.Certificate)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "crl2pkcs7", "-nocrl", "-certfile", path, "-outform", "DER").Output()
	if err != nil {
		t.Fatalf("openssl crl2pkcs7: %v", err)
	}
	block, _ := pem.Decode([]byte(keygen.PKCS7(k.Certificate)))
	if !bytes.Equal(block.Bytes, out) {
		t.Errorf("PKCS7 DER differs from openssl crl2pkcs7 -nocrl:\n got %x\nwant %x", block.Bytes, out)
	}
}
