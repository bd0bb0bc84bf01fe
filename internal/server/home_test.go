package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/server"
)

// TestRootPage: GET / on a tenant's host answers a page naming the tenant
// and linking to its dashboard and documents; an unknown host and every
// other unrouted path still get 404.
func TestRootPage(t *testing.T) {
	ring := newRing(t)
	srv := httptest.NewServer(server.New(server.Config{Ring: ring}).Handler())
	defer srv.Close()

	tests := []struct {
		name, host, path string
		status           int
		contentType      string
		want             []string
	}{
		{"tenant host", tenantHost, "/", 200, "text/html; charset=utf-8", []string{
			"tenant acme", `href="/dashboard/"`, `href="/.well-known/openid-configuration"`,
			`href="/.well-known/jwks.json"`, "docs/api.md", "http://auth.acme.test:8443/"}},
		{"portless alias", portless, "/", 200, "text/html; charset=utf-8", []string{"tenant acme", "http://login.acme.test/"}},
		{"unknown host", "other.test", "/", 404, "application/json; charset=utf-8", []string{"No tenant serves this host."}},
		{"other path", tenantHost, "/nothing", 404, "text/plain; charset=utf-8", []string{"404 page not found"}},
		{"index.html", tenantHost, "/index.html", 404, "text/plain; charset=utf-8", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, srv, tt.host, tt.path, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			if tt.status != 200 {
				return
			}
			// The CSP admits the inline style by its hash, and nothing else:
			// no scripts, no external assets.
			csp := res.Header.Get("Content-Security-Policy")
			_, style, _ := strings.Cut(body, "<style>")
			style, _, _ = strings.Cut(style, "</style>")
			sum := sha256.Sum256([]byte(style))
			if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) ||
				!strings.HasPrefix(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q, want default-src 'none' and %s", csp, want)
			}
			for _, bad := range []string{"<script", "<link", "src=", "url("} {
				if strings.Contains(body, bad) {
					t.Errorf("body contains %q: a script or an external asset", bad)
				}
			}
		})
	}
}
