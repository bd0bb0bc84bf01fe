package server_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-auth/signet/internal/dashboard"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/server"
)

// dashboardHost is the host the operator names with Config.DashboardHosts.
const dashboardHost = "admin.signet.internal:9443"

// TestDashboardHosts checks that Config.Dashboard gets /dashboard/ on a
// tenant's host or a DashboardHosts one, without a resolved tenant, and that
// any other Host (a DNS-rebinding name) gets the unknown-host 404.
func TestDashboardHosts(t *testing.T) {
	ring := newRing(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	dash := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := reqctx.From(r.Context()); ok {
			t.Errorf("dashboard request %s has a resolved tenant", r.URL.Path)
		}
		mu.Lock()
		seen = append(seen, r.Host+r.URL.Path)
		mu.Unlock()
		w.Write([]byte("dashboard"))
	})
	p := newProbe()
	m := server.NewMetrics(prometheus.NewRegistry())
	srv := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p}, Dashboard: dash, Metrics: m,
		DashboardHosts: []string{"Admin.Signet.Internal:9443"}}).Handler())
	t.Cleanup(srv.Close)

	tests := []struct {
		host  string
		serve bool
	}{
		{tenantHost, true},
		{"AUTH.acme.test:8443", true},
		{portless, true},
		{dashboardHost, true},
		{"ADMIN.signet.internal:9443", true},
		{"admin.signet.internal", false}, // another port
		{"evil.example", false},
		{"nobody.example:8080", false},
		{strings.TrimPrefix(srv.URL, "http://"), false}, // the listener's address is no tenant's here
	}
	served := 0
	for _, tt := range tests {
		for _, path := range []string{"/dashboard/", "/dashboard/signin", "/dashboard/tenants/acme/settings"} {
			resp, body := get(t, srv, tt.host, path, nil)
			if tt.serve {
				served++
				if resp.StatusCode != 200 || body != "dashboard" {
					t.Errorf("host %s: GET %s = %d %q, want the dashboard", tt.host, path, resp.StatusCode, body)
				}
				continue
			}
			if resp.StatusCode != 404 || body == "dashboard" || !strings.Contains(body, "No tenant serves this host.") {
				t.Errorf("host %s: GET %s = %d %q, want the unknown-host 404", tt.host, path, resp.StatusCode, body)
			}
		}
		want := http.StatusTemporaryRedirect // to /dashboard/
		if !tt.serve {
			want = 404
		}
		if code := send(t, srv, "GET", tt.host, "/dashboard", nil); code != want {
			t.Errorf("host %s: GET /dashboard = %d, want %d", tt.host, code, want)
		}
		if !tt.serve {
			if code := send(t, srv, "POST", tt.host, "/dashboard/signin", nil); code != 404 {
				t.Errorf("host %s: POST /dashboard/signin = %d, want 404", tt.host, code)
			}
		}
	}
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	if n != served {
		t.Errorf("dashboard saw %d requests, want %d: %v", n, served, seen)
	}
	if calls := p.seen(); len(calls) != 0 {
		t.Errorf("tenant handlers called for dashboard paths: %+v", calls)
	}
	// Paths that only start alike stay the tenant's.
	if resp, _ := get(t, srv, tenantHost, "/dashboards", nil); resp.StatusCode != 200 || len(p.seen()) != 1 {
		t.Errorf("GET /dashboards on a tenant host = %d, reached the tenant %d times", resp.StatusCode, len(p.seen()))
	}
	samples, _ := scrape(t, srv, tenantHost)
	if got, want := samples[`signet_http_requests_total{code="200",route="dashboard"}`], served; got != strconv.Itoa(want) {
		t.Errorf(`requests with route="dashboard": %q, want %d`, got, want)
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

// TestDashboardSignInFormHosts serves the real dashboard: its sign-in form
// shows on a tenant's host and on a DashboardHosts one, never on another.
func TestDashboardSignInFormHosts(t *testing.T) {
	env := ringtest.New(t, ringtest.Options{Pool: pool})
	if _, err := env.Ring.CreateTenant(t.Context(), "acme", []string{tenantHost}, "", "test"); err != nil {
		t.Fatal(err)
	}
	dash := dashboard.New(dashboard.Config{Ring: env.Ring, Store: env.Store})
	srv := httptest.NewServer(server.New(server.Config{Ring: env.Ring, Dashboard: dash, DashboardHosts: []string{dashboardHost}}).Handler())
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		host string
		form bool
	}{
		{tenantHost, true},
		{dashboardHost, true},
		{"evil.example", false},
		{"evil.example:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:], false},
	} {
		resp, body := get(t, srv, tt.host, "/dashboard/signin", nil)
		hasForm := strings.Contains(body, "<form") || strings.Contains(body, `name="password"`)
		switch {
		case tt.form && (resp.StatusCode != 200 || !hasForm):
			t.Errorf("host %s: GET /dashboard/signin = %d, form %v; want 200 with the form", tt.host, resp.StatusCode, hasForm)
		case !tt.form && (resp.StatusCode != 404 || hasForm || len(resp.Cookies()) != 0):
			t.Errorf("host %s: GET /dashboard/signin = %d, form %v, cookies %v; want 404 without form or cookie", tt.host, resp.StatusCode, hasForm, resp.Cookies())
		}
		// /dashboard/ sends a browser without a session to the form, or 404s.
		want := http.StatusSeeOther
		if !tt.form {
			want = 404
		}
		if code := send(t, srv, "GET", tt.host, "/dashboard/", nil); code != want {
			t.Errorf("host %s: GET /dashboard/ = %d, want %d", tt.host, code, want)
		}
	}
}
