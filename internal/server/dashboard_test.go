package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/server"
)

// TestDashboardOnEveryHost checks that Config.Dashboard gets /dashboard/ on
// any host, tenant's or not, without a resolved tenant, and nothing else.
func TestDashboardOnEveryHost(t *testing.T) {
	ring := newRing(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	dash := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyring.FromContext(r.Context()); ok {
			t.Errorf("dashboard request %s has a resolved tenant", r.URL.Path)
		}
		mu.Lock()
		seen = append(seen, r.Host+r.URL.Path)
		mu.Unlock()
		w.Write([]byte("dashboard"))
	})
	p := newProbe()
	m := server.NewMetrics(prometheus.NewRegistry())
	srv := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p}, Dashboard: dash, Metrics: m}).Handler())
	t.Cleanup(srv.Close)

	for _, host := range []string{tenantHost, portless, "nobody.example:8080", strings.TrimPrefix(srv.URL, "http://")} {
		resp, body := get(t, srv, host, "/dashboard/tenants/acme/settings", nil)
		if resp.StatusCode != 200 || body != "dashboard" {
			t.Errorf("host %s: GET /dashboard/… = %d %q, want the dashboard", host, resp.StatusCode, body)
		}
		if code := send(t, srv, "GET", host, "/dashboard", nil); code != http.StatusTemporaryRedirect {
			t.Errorf("host %s: GET /dashboard = %d, want 307 to /dashboard/", host, code)
		}
	}
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	if n != 4 {
		t.Errorf("dashboard saw %d requests, want 4: %v", n, seen)
	}
	// Paths that only start alike stay the tenant's.
	if resp, _ := get(t, srv, tenantHost, "/dashboards", nil); resp.StatusCode != 200 || len(p.seen()) != 1 {
		t.Errorf("GET /dashboards on a tenant host = %d, reached the tenant %d times", resp.StatusCode, len(p.seen()))
	}
	samples, _ := scrape(t, srv, tenantHost)
	if got := samples[`signet_http_requests_total{code="200",route="dashboard"}`]; got != "4" {
		t.Errorf(`requests with route="dashboard": %q, want 4`, got)
	}

	// Without a dashboard the path is the tenant's like any other.
	p = newProbe()
	bare := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p}}).Handler())
	t.Cleanup(bare.Close)
	get(t, bare, tenantHost, "/dashboard/", nil)
	if len(p.seen()) != 1 {
		t.Errorf("without Config.Dashboard, /dashboard/ did not reach the tenant mux")
	}
}
