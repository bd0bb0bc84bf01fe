package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// getHost sends GET path to addr (host:port) with the Host header host and
// returns the response with its body read.
func getHost(t *testing.T, addr, host, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeDashboardHosts checks that `signet serve` shows the dashboard's
// sign-in form only on a tenant's host or the --dashboard-host: any other
// Host (a DNS-rebinding name pointing at the server) gets 404 and no form.
// Every response carries nosniff; over plain http without an https public
// URL, no HSTS.
func TestServeDashboardHosts(t *testing.T) {
	in := start(t, t.TempDir(), "--dashboard-host", "Admin.Example.test:9443, ops.example.test")
	port := in.addr[strings.LastIndex(in.addr, ":")+1:]
	tests := []struct {
		host string
		form bool
	}{
		{in.addr, true},             // 127.0.0.1:port, a host of tenant default
		{"localhost:" + port, true}, // the public URL's host
		{"admin.example.test:9443", true},
		{"ops.example.test", true},
		{"evil.example", false},
		{"evil.example:" + port, false},
		{"admin.example.test", false}, // not the named port
	}
	for _, tt := range tests {
		for _, path := range []string{"/dashboard/signin", "/dashboard/", "/dashboard"} {
			resp, body := getHost(t, in.addr, tt.host, path)
			form := strings.Contains(body, `name="password"`)
			switch {
			case tt.form && path == "/dashboard/signin" && (resp.StatusCode != 200 || !form):
				t.Errorf("Host %s: GET %s = %d (form %v), want 200 with the sign-in form", tt.host, path, resp.StatusCode, form)
			case tt.form && path != "/dashboard/signin" && resp.StatusCode/100 != 3:
				t.Errorf("Host %s: GET %s = %d, want a redirect", tt.host, path, resp.StatusCode)
			case !tt.form && (resp.StatusCode != 404 || form || len(resp.Cookies()) != 0):
				t.Errorf("Host %s: GET %s = %d (form %v, cookies %v), want 404 without form or cookie", tt.host, path, resp.StatusCode, form, resp.Cookies())
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("Host %s: GET %s: X-Content-Type-Options = %q", tt.host, path, got)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("Host %s: GET %s over http: Strict-Transport-Security = %q, want none", tt.host, path, got)
			}
		}
	}
	// Load balancers probe by address or any name.
	for _, host := range []string{"evil.example", "10.0.0.7:" + port} {
		if resp, _ := getHost(t, in.addr, host, "/healthz"); resp.StatusCode != 200 {
			t.Errorf("Host %s: GET /healthz = %d, want 200", host, resp.StatusCode)
		}
	}
	// /metrics on the main listener: tenants' hosts and addresses, not names.
	for _, tt := range []struct {
		host   string
		status int
	}{{in.addr, 200}, {"10.0.0.7:9100", 200}, {"evil.example", 404}} {
		if resp, _ := getHost(t, in.addr, tt.host, "/metrics"); resp.StatusCode != tt.status {
			t.Errorf("Host %s: GET /metrics = %d, want %d", tt.host, resp.StatusCode, tt.status)
		}
	}
}

// TestServeMetricsAddr checks that --metrics-addr serves /metrics on a
// listener of its own, and that the main listener then 404s /metrics.
func TestServeMetricsAddr(t *testing.T) {
	in := start(t, t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	var metricsAddr string
	for line := range strings.Lines(in.logs.String()) {
		var m struct {
			Msg         string `json:"msg"`
			MetricsAddr string `json:"metrics_addr"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "signet serving" {
			metricsAddr = m.MetricsAddr
		}
	}
	if metricsAddr == "" || metricsAddr == in.addr {
		t.Fatalf("no metrics_addr of its own in the start line:\n%s", in.logs.String())
	}
	in.jwks()
	resp, body := getHost(t, metricsAddr, metricsAddr, "/metrics")
	if resp.StatusCode != 200 || !strings.Contains(body, `signet_http_requests_total{code="200",route="GET /.well-known/jwks.json"} 1`) {
		t.Errorf("GET /metrics on --metrics-addr = %d, want the metrics with the JWKS request:\n%s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("metrics listener: no nosniff")
	}
	if resp, _ := getHost(t, metricsAddr, metricsAddr, "/.well-known/jwks.json"); resp.StatusCode != 404 {
		t.Errorf("GET /.well-known/jwks.json on --metrics-addr = %d, want 404", resp.StatusCode)
	}
	for _, host := range []string{in.addr, "localhost" + in.addr[strings.LastIndex(in.addr, ":"):]} {
		if resp, body := getHost(t, in.addr, host, "/metrics"); resp.StatusCode != 404 || strings.Contains(body, "signet_tenants") {
			t.Errorf("Host %s: GET /metrics on the main listener = %d, want 404", host, resp.StatusCode)
		}
	}
}

// TestDashboardHostEnv checks SIGNET_DASHBOARD_HOST and SIGNET_METRICS_ADDR.
func TestDashboardHostEnv(t *testing.T) {
	env := map[string]string{"SIGNET_DASHBOARD_HOST": "admin.example.test", "SIGNET_METRICS_ADDR": "127.0.0.1:9100"}
	var c config
	if _, err := c.parse("serve", nil, Env{Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}, nil); err != nil {
		t.Fatal(err)
	}
	if c.DashboardHost != "admin.example.test" || c.MetricsAddr != "127.0.0.1:9100" {
		t.Errorf("config from env = %q, %q", c.DashboardHost, c.MetricsAddr)
	}
	if got := splitList(" a.test:1, ,B.test "); len(got) != 2 || got[0] != "a.test:1" || got[1] != "B.test" {
		t.Errorf("splitList = %q", got)
	}
}
