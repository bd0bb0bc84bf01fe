package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/server"
)

// metricsServer starts the server with Signet's real handlers and metrics on
// a fresh registry, over a ring with the tenant "acme" whose key changes
// are counted.
func metricsServer(t *testing.T) (*httptest.Server, *keyring.Ring) {
	t.Helper()
	m := server.NewMetrics(prometheus.NewRegistry())
	env := ringtest.New(t, ringtest.Options{Pool: pool, OnChange: m.KeyChanged})
	if _, err := env.Ring.CreateTenant(context.Background(), "acme", []string{tenantHost, portless}, "", "test"); err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Config{
		Ring: env.Ring,
		Handlers: []server.Registrar{
			oauth.New(oauth.Config{Ring: env.Ring, Store: env.Store}),
			mgmt.New(mgmt.Config{Ring: env.Ring, Store: env.Store}),
		},
		Metrics: m,
		Pool:    pool,
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, env.Ring
}

// send makes one request without following redirects and returns its status.
func send(t *testing.T, srv *httptest.Server, method, host, path string, hdr map[string]string) int {
	t.Helper()
	r, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Host = host
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrape fetches /metrics and returns its samples by series
// (`name{label="value",…}`, labels sorted as the text format writes them)
// and the whole text.
func scrape(t *testing.T, srv *httptest.Server, host string) (map[string]string, string) {
	t.Helper()
	resp, body := get(t, srv, host, "/metrics", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /metrics Content-Type = %q, want the text format", ct)
	}
	samples := map[string]string{}
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad sample line %q", line)
		}
		samples[line[:i]] = line[i+1:]
	}
	return samples, body
}

func TestMetrics(t *testing.T) {
	srv, ring := metricsServer(t)
	v, _ := ring.View("acme")

	const jwks = "GET /.well-known/jwks.json"
	requests := []struct {
		method, host, path string
		hdr                map[string]string
		wantStatus         int
		wantRoute          string
	}{
		{"GET", tenantHost, "/.well-known/jwks.json", nil, 200, jwks},
		{"GET", portless, "/.well-known/jwks.json", nil, 200, jwks},
		{"GET", tenantHost, "/.well-known/jwks.json", map[string]string{"If-None-Match": v.ETag}, 304, jwks},
		{"POST", tenantHost, "/oauth/token", nil, 400, "POST /oauth/token"},
		{"PUT", tenantHost, "/api/v2/keys/signing/kid-in-path-7e3f/revoke", nil, 401, "PUT /api/v2/keys/signing/{kid}/revoke"},
		{"GET", tenantHost, "/pem/client-in-path-5d1a", nil, 200, "GET /pem/{client...}"},
		{"GET", tenantHost, "/nowhere-in-path-2b9c", nil, 404, "unmatched"},
		{"DELETE", tenantHost, "/oauth/token", nil, 405, "unmatched"},
		{"GET", "evil.test", "/.well-known/jwks.json", nil, 404, "unknown_host"},
		{"GET", "unknown.test", "/healthz", nil, 200, "ops"},
		{"GET", tenantHost, "/readyz", nil, 200, "ops"},
		{"GET", tenantHost, "/x/../healthz", nil, 307, "unmatched"}, // the ops mux cleans the path
	}
	want := map[string]int{} // signet_http_requests_total series → count
	durations := map[string]int{}
	for _, r := range requests {
		if got := send(t, srv, r.method, r.host, r.path, r.hdr); got != r.wantStatus {
			t.Fatalf("%s %s %s: status %d, want %d", r.method, r.host, r.path, got, r.wantStatus)
		}
		want[`signet_http_requests_total{code="`+strconv.Itoa(r.wantStatus)+`",route="`+r.wantRoute+`"}`]++
		durations[`signet_http_request_duration_seconds_count{route="`+r.wantRoute+`"}`]++
	}
	if _, err := ring.Rotate(context.Background(), "acme", keyring.RotateOptions{Actor: "cli"}); err != nil {
		t.Fatal(err)
	}

	samples, text := scrape(t, srv, "10.9.8.7:9100") // Prometheus scrapes by address
	check := func(series, want string) {
		t.Helper()
		if got, ok := samples[series]; !ok || got != want {
			t.Errorf("%s = %q (present: %v), want %s", series, got, ok, want)
		}
	}
	for series, n := range want {
		check(series, strconv.Itoa(n))
	}
	for series, n := range durations {
		check(series, strconv.Itoa(n))
	}
	var total int
	for series := range samples {
		if strings.HasPrefix(series, "signet_http_requests_total{") {
			total++
		}
	}
	if total != len(want) {
		t.Errorf("%d request series, want %d:\n%s", total, len(want), text)
	}
	check("signet_tenants", "1")
	check(`signet_signing_key_changes_total{actor_kind="cli",change="rotate"}`, "1")
	check(`signet_signing_key_changes_total{actor_kind="api",change="rotate_and_revoke"}`, "0")
	check(`signet_signing_key_changes_total{actor_kind="policy",change="revoke"}`, "0")
	for _, alg := range keygen.Algorithms() {
		if _, ok := samples[`signet_key_pool_ready{alg="`+alg+`"}`]; !ok {
			t.Errorf("no signet_key_pool_ready for %s", alg)
		}
	}
	for _, series := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := samples[series]; !ok {
			t.Errorf("no %s: Go and process collectors missing", series)
		}
	}
	// No tenant, host, path or value from a request reaches a label.
	for _, s := range []string{"acme", "evil", "unknown.test", "10.9.8.7", "in-path", v.Current.KID} {
		if strings.Contains(text, s) {
			t.Errorf("the metrics hold %q", s)
		}
	}

	// The scrape itself is counted, as an ops request.
	samples, _ = scrape(t, srv, "")
	check(`signet_http_requests_total{code="200",route="ops"}`, strconv.Itoa(want[`signet_http_requests_total{code="200",route="ops"}`]+1))
}

// TestNoMetrics checks that a server without Metrics does not serve
// /metrics: the path is left to the tenants.
func TestNoMetrics(t *testing.T) {
	p := newProbe()
	srv := httptest.NewServer(server.New(server.Config{Ring: newRing(t), Handlers: []server.Registrar{p}}).Handler())
	defer srv.Close()
	if resp, body := get(t, srv, "unknown.test", "/metrics", nil); resp.StatusCode != 404 || strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics without Metrics: %d %q, want the unknown-host 404", resp.StatusCode, body)
	}
	if resp, _ := get(t, srv, tenantHost, "/metrics", nil); resp.StatusCode != 200 || len(p.seen()) != 1 {
		t.Errorf("GET /metrics at a tenant host without Metrics: %d, %d handler calls; want the tenant's handler", resp.StatusCode, len(p.seen()))
	}
}
