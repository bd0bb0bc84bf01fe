package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-auth/signet/internal/dashboard"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/server"
)

// TestSecurityHeaders checks that every response carries
// X-Content-Type-Options: nosniff — JSON, the JWKS, API errors, 404s, the
// ops endpoints, the dashboard — and Strict-Transport-Security exactly
// when the server is reached over https.
func TestSecurityHeaders(t *testing.T) {
	env := ringtest.New(t, ringtest.Options{Pool: pool})
	if _, err := env.Ring.CreateTenant(context.Background(), "acme", []string{tenantHost}, "", "test"); err != nil {
		t.Fatal(err)
	}
	requests := []struct {
		name, method, host, path string
		wantStatus               int
	}{
		{"jwks", "GET", tenantHost, "/.well-known/jwks.json", 200},
		{"discovery", "GET", tenantHost, "/.well-known/openid-configuration", 200},
		{"token error", "POST", tenantHost, "/oauth/token", 400},
		{"management api 401", "GET", tenantHost, "/api/v2/keys/signing", 401},
		{"tenant 404", "GET", tenantHost, "/nowhere", 404},
		{"405", "DELETE", tenantHost, "/oauth/token", 405},
		{"unknown host", "GET", "evil.example", "/.well-known/jwks.json", 404},
		{"healthz", "GET", "evil.example", "/healthz", 200},
		{"readyz not ready", "GET", tenantHost, "/readyz", 503},
		{"metrics", "GET", tenantHost, "/metrics", 200},
		{"dashboard", "GET", tenantHost, "/dashboard/signin", 200},
		{"dashboard refused", "GET", "evil.example", "/dashboard/signin", 404},
		{"clean-path redirect", "GET", tenantHost, "/x/../healthz", 307},
	}
	for _, https := range []bool{false, true} {
		s := server.New(server.Config{
			Ring: env.Ring,
			Handlers: []server.Registrar{
				oauth.New(oauth.Config{Ring: env.Ring, Store: env.Store}),
				mgmt.New(mgmt.Config{Ring: env.Ring, Store: env.Store}),
			},
			Ready:     func(context.Context) error { return errors.New("down") },
			Metrics:   server.NewMetrics(prometheus.NewRegistry()),
			Dashboard: dashboard.New(dashboard.Config{Ring: env.Ring, Store: env.Store, Secure: https}),
			HTTPS:     https,
		})
		srv := httptest.NewServer(s.Handler())
		for _, r := range requests {
			req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
			req.Host = r.host
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != r.wantStatus {
				t.Errorf("https=%v %s: status %d, want %d", https, r.name, resp.StatusCode, r.wantStatus)
			}
			if got := resp.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("https=%v %s: X-Content-Type-Options = %q, want one nosniff", https, r.name, got)
			}
			want := ""
			if https {
				want = "max-age=31536000"
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != want {
				t.Errorf("https=%v %s: Strict-Transport-Security = %q, want %q", https, r.name, got, want)
			}
		}
		srv.Close()
	}
}

// TestMetricsHosts checks which Host reaches /metrics on the main handler
// (a tenant's, a dashboard host, localhost or an address: never a name a
// DNS-rebinding page could use), and that with MetricsApart the main
// handler has no /metrics while ServeMetrics serves it on its own listener.
func TestMetricsHosts(t *testing.T) {
	ring := newRing(t)
	p := newProbe()
	srv := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p},
		Metrics: server.NewMetrics(prometheus.NewRegistry()), DashboardHosts: []string{dashboardHost}}).Handler())
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		host  string
		serve bool
	}{
		{tenantHost, true},
		{portless, true},
		{dashboardHost, true},
		{"127.0.0.1:8080", true},
		{"10.1.2.3", true},
		{"[::1]:9090", true},
		{"[fd00::5]", true},
		{"localhost:8080", true},
		{"LOCALHOST", true},
		{"evil.example", false},
		{"metrics.evil.example:8080", false},
		{"127.0.0.1.nip.io:8080", false},
		{"localhost.evil.example", false},
	} {
		resp, body := get(t, srv, tt.host, "/metrics", nil)
		served := resp.StatusCode == 200 && strings.Contains(body, "go_goroutines")
		if served != tt.serve {
			t.Errorf("host %s: GET /metrics = %d (metrics: %v), want metrics %v", tt.host, resp.StatusCode, served, tt.serve)
		}
		if !tt.serve && resp.StatusCode != 404 {
			t.Errorf("host %s: GET /metrics = %d, want the unknown-host 404", tt.host, resp.StatusCode)
		}
	}
	if calls := p.seen(); len(calls) != 0 {
		t.Errorf("tenant handlers called for /metrics: %+v", calls)
	}

	// Apart: the main handler leaves /metrics to the tenants, the metrics
	// listener serves it on any host.
	s := server.New(server.Config{
		Ring:         ring,
		Handlers:     []server.Registrar{oauth.New(oauth.Config{Ring: ring})},
		Metrics:      server.NewMetrics(prometheus.NewRegistry()),
		MetricsApart: true,
		HTTPS:        true,
	})
	main := httptest.NewServer(s.Handler())
	t.Cleanup(main.Close)
	for _, host := range []string{tenantHost, "127.0.0.1:8080", "evil.example"} {
		if resp, body := get(t, main, host, "/metrics", nil); resp.StatusCode != 404 || strings.Contains(body, "go_goroutines") {
			t.Errorf("host %s: GET /metrics on the main listener with MetricsApart = %d (%d bytes), want 404", host, resp.StatusCode, len(body))
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeMetrics(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeMetrics = %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	for _, tt := range []struct {
		host, path string
		status     int
	}{
		{"", "/metrics", 200},
		{"evil.example", "/metrics", 200},
		{tenantHost, "/.well-known/jwks.json", 404},
		{"", "/healthz", 404},
		{"", "/dashboard/signin", 404},
	} {
		req, _ := http.NewRequest("GET", base+tt.path, nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.status == 200) != strings.Contains(string(body), "signet_tenants") {
			t.Errorf("metrics listener, host %q: GET %s = %d, want %d", tt.host, tt.path, resp.StatusCode, tt.status)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("metrics listener: headers %v, want nosniff and no HSTS (plain HTTP)", resp.Header)
		}
	}

	// Without Metrics there is nothing to serve apart.
	bare := server.New(server.Config{Ring: ring})
	if err := bare.ServeMetrics(context.Background(), ln); err == nil {
		t.Error("ServeMetrics without Metrics = nil, want an error")
	}
}

// TestTLSVersionsAndSuites serves HTTPS with an ECDSA and an RSA
// certificate and handshakes from a real TLS client on loopback: TLS 1.3
// and TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 succeed; CBC suites,
// RSA key exchange, TLS 1.1 and TLS 1.0 fail.
func TestTLSVersionsAndSuites(t *testing.T) {
	ring := newRing(t)
	type server_ struct {
		addr string
		pool *x509.CertPool
	}
	servers := map[string]server_{}
	for _, kind := range []string{"ecdsa", "rsa"} {
		certFile, keyFile, pool := writeCert(t, kind)
		s := server.New(server.Config{Ring: ring, TLSCert: certFile, TLSKey: keyFile})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve = %v", err)
			}
		})
		servers[kind] = server_{ln.Addr().String(), pool}
	}

	tests := []struct {
		name     string
		cert     string
		min, max uint16
		suite    uint16 // 0: Go's defaults
		ok       bool
	}{
		{"TLS 1.3", "ecdsa", tls.VersionTLS13, tls.VersionTLS13, 0, true},
		{"TLS 1.3 rsa", "rsa", tls.VersionTLS13, tls.VersionTLS13, 0, true},
		{"ECDHE-ECDSA-AES128-GCM", "ecdsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
		{"ECDHE-ECDSA-AES256-GCM", "ecdsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, true},
		{"ECDHE-ECDSA-CHACHA20", "ecdsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
		{"ECDHE-RSA-AES128-GCM", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, true},
		{"ECDHE-RSA-AES256-GCM", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true},
		{"ECDHE-RSA-CHACHA20", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true},
		{"ECDHE-ECDSA-AES128-CBC-SHA", "ecdsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
		{"ECDHE-ECDSA-AES256-CBC-SHA", "ecdsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, false},
		{"ECDHE-RSA-AES128-CBC-SHA", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, false},
		{"ECDHE-RSA-AES128-CBC-SHA256", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, false},
		{"RSA-AES128-GCM", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, false},
		{"RSA-AES128-CBC-SHA", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_CBC_SHA, false},
		{"ECDHE-RSA-3DES", "rsa", tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, false},
		{"TLS 1.1", "ecdsa", tls.VersionTLS11, tls.VersionTLS11, 0, false},
		{"TLS 1.1 rsa", "rsa", tls.VersionTLS11, tls.VersionTLS11, 0, false},
		{"TLS 1.0", "ecdsa", tls.VersionTLS10, tls.VersionTLS10, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := servers[tt.cert]
			cfg := &tls.Config{RootCAs: srv.pool, ServerName: "localhost", MinVersion: tt.min, MaxVersion: tt.max}
			if tt.suite != 0 {
				cfg.CipherSuites = []uint16{tt.suite}
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", srv.addr, cfg)
			if !tt.ok {
				if err == nil {
					st := conn.ConnectionState()
					conn.Close()
					t.Fatalf("handshake succeeded: %s with %s, want refused", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			conn.Close()
			// Over the same kind of connection, a request carries HSTS.
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
			resp, err := client.Get("https://" + srv.addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != server.HSTS || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET /healthz over TLS = %d, headers %v; want 200 with HSTS and nosniff", resp.StatusCode, resp.Header)
			}
		})
	}
}

// writeCert writes a self-signed certificate of kind "ecdsa" (P-256) or
// "rsa" (2048 bits) for localhost and returns its files and a pool
// trusting it.
func writeCert(t *testing.T, kind string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	var (
		key crypto.Signer
		err error
	)
	if kind == "rsa" {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
