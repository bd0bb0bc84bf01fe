package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/server"
)

// pool pre-generates keys for every test of the package.
var pool = keygen.NewPool(4)

func TestMain(m *testing.M) { os.Exit(ringtest.Main(m, pool)) }

// The tenant "acme" owns these hosts (stored in lower case).
const (
	tenantHost = "auth.acme.test:8443"
	portless   = "login.acme.test"
)

// newRing returns a Ring on real parts (sqlite in a temporary directory, a
// sealer with a random key, the key pool) with the one tenant "acme".
func newRing(t *testing.T) *keyring.Ring {
	t.Helper()
	ring := ringtest.New(t, ringtest.Options{Pool: pool}).Ring
	if _, err := ring.CreateTenant(context.Background(), "acme", []string{"Auth.Acme.test:8443", portless}, "", "test"); err != nil {
		t.Fatal(err)
	}
	return ring
}

// probe is a Registrar that records what its handlers see. GET /slow waits
// until release is closed.
type probe struct {
	mu    sync.Mutex
	calls []call

	entered chan struct{} // receives when /slow starts
	release chan struct{}
}

// call is what one request showed a handler.
type call struct {
	path   string
	req    reqctx.Request
	hasReq bool
	ctxErr error // of the request's context when the handler returned
}

func newProbe() *probe {
	return &probe{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (p *probe) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		p.entered <- struct{}{}
		<-p.release
		p.record(r)
		io.WriteString(w, "slow done")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		req, _ := reqctx.From(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"issuer": req.Issuer})
	})
}

func (p *probe) record(r *http.Request) {
	req, ok := reqctx.From(r.Context())
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call{path: r.URL.Path, req: req, hasReq: ok, ctxErr: r.Context().Err()})
}

func (p *probe) seen() []call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]call(nil), p.calls...)
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct{ ringtest.Buffer }

// requestLines returns the "request" lines logged so far, decoded.
func (b *logBuffer) requestLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// get sends GET path to srv with Host host and returns status and body.
func get(t *testing.T, srv *httptest.Server, host, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		r.Host = host
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestOperations(t *testing.T) {
	ring := newRing(t)
	errDown := errors.New("store unreachable")
	tests := []struct {
		name       string
		ready      func(context.Context) error
		path, host string
		wantStatus int
		wantBody   string
	}{
		{"healthz", nil, "/healthz", tenantHost, 200, "ok\n"},
		{"healthz at any host", nil, "/healthz", "unknown.test", 200, "ok\n"},
		{"healthz even when not ready", func(context.Context) error { return errDown }, "/healthz", "", 200, "ok\n"},
		{"readyz without a check", nil, "/readyz", "", 200, "ok\n"},
		{"readyz ready", func(context.Context) error { return nil }, "/readyz", "", 200, "ok\n"},
		{"readyz not ready", func(context.Context) error { return errDown }, "/readyz", "", 503, "not ready\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProbe()
			srv := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p}, Ready: tt.ready}).Handler())
			defer srv.Close()
			resp, body := get(t, srv, tt.host, tt.path, nil)
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Errorf("status %d body %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if calls := p.seen(); len(calls) != 0 {
				t.Errorf("tenant handlers called: %+v", calls)
			}
		})
	}
}

func TestTenantResolution(t *testing.T) {
	ring := newRing(t)
	p := newProbe()
	srv := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p}}).Handler())
	defer srv.Close()

	tests := []struct {
		host       string
		wantIssuer string // "" = no tenant: 404
	}{
		{tenantHost, "http://auth.acme.test:8443/"},
		{"AUTH.ACME.TEST:8443", "http://auth.acme.test:8443/"},
		{"Auth.Acme.Test:8443", "http://auth.acme.test:8443/"},
		{portless, "http://login.acme.test/"},
		{"LOGIN.acme.TEST", "http://login.acme.test/"},
		{"auth.acme.test", ""},       // the port is part of the host
		{"auth.acme.test:443", ""},   // another port
		{"auth.acme.test:8443.", ""}, // not the same string
		{"login.acme.test:80", ""},   // a port the tenant did not name
		{"evil.test", ""},
		{"acme.test:8443", ""},
		{"", ""}, // the listener's own address
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			before := len(p.seen())
			resp, body := get(t, srv, tt.host, "/anything", nil)
			calls := p.seen()[before:]
			if tt.wantIssuer == "" {
				if resp.StatusCode != 404 {
					t.Fatalf("status %d, want 404; body %q", resp.StatusCode, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				var e struct {
					StatusCode int    `json:"statusCode"`
					Error      string `json:"error"`
					Message    string `json:"message"`
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.StatusCode != 404 || e.Error != "Not Found" || e.Message == "" {
					t.Errorf("body %q is not a 404 error body (%v)", body, err)
				}
				if len(calls) != 0 {
					t.Errorf("tenant handlers called for an unknown host: %+v", calls)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d, want 200; body %q", resp.StatusCode, body)
			}
			if len(calls) != 1 {
				t.Fatalf("handler called %d times, want once", len(calls))
			}
			c := calls[0]
			if !c.hasReq || c.req.View == nil || c.req.View.Tenant.Name != "acme" {
				t.Fatalf("handler saw no tenant: %+v", c)
			}
			if c.req.Issuer != tt.wantIssuer {
				t.Errorf("Issuer = %q, want %q", c.req.Issuer, tt.wantIssuer)
			}
			if want, _ := ring.View("acme"); c.req.View != want {
				t.Errorf("handler saw a view other than the ring's current one")
			}
		})
	}
}

func TestRequestLog(t *testing.T) {
	ring := newRing(t)
	var logs logBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	srv := httptest.NewServer(server.New(server.Config{Ring: ring, Handlers: []server.Registrar{newProbe()}, Logger: logger}).Handler())
	defer srv.Close()

	const (
		queryToken  = "query-secret-6f1d2c"
		headerToken = "header-secret-9a8b7c"
	)
	tests := []struct {
		host, path string
		wantPath   string
		wantStatus float64
	}{
		{tenantHost, "/things/1?access_token=" + queryToken + "&x=1", "/things/1", 200},
		{"evil.test", "/oauth/token?access_token=" + queryToken, "/oauth/token", 404},
		{"unknown.test", "/healthz?access_token=" + queryToken, "/healthz", 200},
	}
	for i, tt := range tests {
		get(t, srv, tt.host, tt.path, map[string]string{"Authorization": "Bearer " + headerToken, "Cookie": "session=" + headerToken})
		// The line is written before the response is flushed, but do not
		// depend on it.
		var lines []map[string]any
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if lines = logs.requestLines(t); len(lines) > i || time.Now().After(deadline) {
				break
			}
		}
		if len(lines) != i+1 {
			t.Fatalf("%d request lines after %d requests: %s", len(lines), i+1, logs.String())
		}
		l := lines[i]
		if l["level"] != "INFO" || l["method"] != "GET" || l["host"] != tt.host || l["path"] != tt.wantPath || l["status"] != tt.wantStatus {
			t.Errorf("request line %v, want GET %s %s %v", l, tt.host, tt.wantPath, tt.wantStatus)
		}
		if _, ok := l["duration"]; !ok {
			t.Errorf("request line %v has no duration", l)
		}
	}
	out := logs.String()
	for _, secret := range []string{queryToken, headerToken, "access_token", "Bearer", "session="} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	ring := newRing(t)
	p := newProbe()
	s := server.New(server.Config{Ring: ring, Handlers: []server.Registrar{p}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		r, _ := http.NewRequest(http.MethodGet, url+"/slow", nil)
		r.Host = tenantHost
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(b), err}
	}()
	select {
	case <-p.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request never reached its handler")
	}

	cancel()
	// Serve waits for the request in flight…
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	// …and takes no new connections meanwhile.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections after ctx was cancelled")
		}
	}

	close(p.release)
	select {
	case a := <-answered:
		if a.err != nil || a.status != 200 || a.body != "slow done" {
			t.Errorf("slow request: %d %q %v, want 200 \"slow done\"", a.status, a.body, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request never completed")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if calls := p.seen(); len(calls) != 1 || calls[0].ctxErr != nil {
		t.Errorf("slow handler calls %+v: its context must live through the shutdown", calls)
	}
}

// TestReadyzBudget: a readiness check that does not answer (a black-holed
// database) makes /readyz answer 503 within ReadyTimeout, whether the check
// gives up at its context's deadline or ignores it.
func TestReadyzBudget(t *testing.T) {
	ring := newRing(t)
	stuck := make(chan struct{})
	defer close(stuck)
	const budget = 200 * time.Millisecond
	tests := []struct {
		name  string
		ready func(context.Context) error
	}{
		{"check honours its deadline", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{"check ignores its deadline", func(context.Context) error { <-stuck; return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(server.New(server.Config{Ring: ring, Ready: tt.ready, ReadyTimeout: budget}).Handler())
			defer srv.Close()
			client := &http.Client{Timeout: budget + 5*time.Second}
			start := time.Now()
			resp, err := client.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatalf("GET /readyz: %v", err)
			}
			resp.Body.Close()
			if took := time.Since(start); resp.StatusCode != 503 || took > budget+2*time.Second {
				t.Errorf("GET /readyz = %d after %s, want 503 within %s", resp.StatusCode, took, budget)
			}
		})
	}
}
