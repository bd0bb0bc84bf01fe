package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestServeTLS serves HTTPS with --tls-cert/--tls-key (the Node Auth0 SDK
// speaks only https): issuer, token URL and audience all use https.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	in := start(t, filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	creds := in.credentials()
	if !strings.HasPrefix(creds.TokenURL, "https://localhost:") || !strings.HasPrefix(creds.Audience, "https://localhost:") {
		t.Fatalf("credentials over TLS = %+v, want https URLs", creds)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	cc := clientcredentials.Config{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, TokenURL: creds.TokenURL,
		EndpointParams: map[string][]string{"audience": {creds.Audience}}}
	tok, err := cc.Token(context.WithValue(context.Background(), oauth2.HTTPClient, client))
	if err != nil {
		t.Fatalf("token over TLS: %v", err)
	}
	req, _ := http.NewRequest("GET", strings.TrimSuffix(creds.Audience, "api/v2/")+"api/v2/keys/signing", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET keys over TLS = %d", resp.StatusCode)
	}
	// Every response over TLS carries HSTS and nosniff: JSON, the JWKS,
	// API errors, 404s.
	base := strings.TrimSuffix(creds.Audience, "api/v2/")
	for _, tt := range []struct {
		path, bearer string
		status       int
	}{
		{"api/v2/keys/signing", tok.AccessToken, 200},
		{".well-known/jwks.json", "", 200},
		{"api/v2/keys/signing", "", 401},
		{"oauth/token", "", 405},
		{"nowhere", "", 404},
		{"healthz", "", 200},
	} {
		req, _ := http.NewRequest("GET", base+tt.path, nil)
		if tt.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tt.bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET /%s over TLS = %d, HSTS %q, nosniff %q; want %d, max-age=31536000, nosniff", tt.path, resp.StatusCode,
				resp.Header.Get("Strict-Transport-Security"), resp.Header.Get("X-Content-Type-Options"), tt.status)
		}
	}
	// The dashboard's cookie takes the __Host- prefix (Secure, Path=/, no Domain).
	resp, err = client.Get(base + "dashboard/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); len(cs) != 1 || !strings.HasPrefix(cs[0].Name, "__Host-") || !cs[0].Secure || cs[0].Path != "/" || cs[0].Domain != "" {
		t.Errorf("dashboard sign-in cookies over TLS = %v, want one __Host- cookie, Secure, Path=/", cs)
	}
	// TLS 1.2 takes ECDHE with AEAD only; TLS 1.1 is refused.
	for _, tt := range []struct {
		name     string
		min, max uint16
		suite    uint16
		ok       bool
	}{
		{"ECDHE-ECDSA-AES128-GCM", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
		{"ECDHE-ECDSA-AES128-CBC-SHA", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
		{"RSA-AES128-GCM", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, false},
		{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, 0, false},
	} {
		cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tt.min, MaxVersion: tt.max}
		if tt.suite != 0 {
			cfg.CipherSuites = []uint16{tt.suite}
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", in.addr, cfg)
		if err == nil {
			conn.Close()
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s handshake: err %v, want success %v", tt.name, err, tt.ok)
		}
	}
	// Plain HTTP to the TLS port is refused.
	if resp, err := http.Get("http://" + in.addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS listener")
		}
	}
}

// selfSigned writes a certificate for localhost and 127.0.0.1 and returns the
// file names and a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
