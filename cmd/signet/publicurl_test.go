package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// tokenVia gets a Management API token from addr with the Host header
// host, for public URLs that do not resolve.
func tokenVia(t *testing.T, addr, host string, c credentials) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
		"client_secret": {c.ClientSecret}, "audience": {c.Audience}}
	req, err := http.NewRequest("POST", "http://"+addr+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("POST /oauth/token on Host %s = %d %s", host, resp.StatusCode, b)
	}
	return tok.AccessToken
}

// TestRestartFollowsPublicURL restarts one data directory on another port,
// then behind a --public-url: each time the new host is tenant default's
// primary host, tokens from the credentials file work there, the old host
// and its loopback alias answer 404, and a host added with `signet tenants
// update` stays. A restart with the same public URL changes nothing.
func TestRestartFollowsPublicURL(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	portA := in.addr[strings.LastIndex(in.addr, ":")+1:]
	if _, err := in.run("tenants", "update", "default", "--add-host", "extra.example.test:7443"); err != nil {
		t.Fatal(err)
	}
	in.stop()
	// Hold port A so that the next start gets another one.
	hold, err := net.Listen("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()

	// Another port, no --public-url: http://localhost:<B>.
	in = start(t, dir)
	portB := in.addr[strings.LastIndex(in.addr, ":")+1:]
	creds := in.credentials()
	if creds.TokenURL != in.base+"/oauth/token" || creds.Audience != in.base+"/api/v2/" || creds.Dashboard.URL != "" && !strings.HasPrefix(creds.Dashboard.URL, in.base+"/") {
		// Fatal: port A is held, so a token request there would hang.
		t.Fatalf("credentials after the move = %+v, want URLs under %s", creds, in.base)
	}
	if ks := in.keys(in.token(creds)); len(ks) != 2 {
		t.Errorf("keys on the new port = %d, want 2", len(ks))
	}
	if set := in.jwks(); len(set.Keys) != 2 {
		t.Errorf("JWKS on localhost:%s has %d keys, want 2", portB, len(set.Keys))
	}
	for _, tt := range []struct {
		host   string
		status int
	}{
		{"localhost:" + portB, 200},
		{"127.0.0.1:" + portB, 200},
		{"extra.example.test:7443", 200},
		{"localhost:" + portA, 404},
		{"127.0.0.1:" + portA, 404},
	} {
		if resp, body := getHost(t, in.addr, tt.host, "/.well-known/jwks.json"); resp.StatusCode != tt.status {
			t.Errorf("Host %s: GET /.well-known/jwks.json = %d %s, want %d", tt.host, resp.StatusCode, body, tt.status)
		}
	}
	logs := in.logs.String()
	if !strings.Contains(logs, `"level":"WARN","msg":"tenant default's primary host follows the public URL`) ||
		!strings.Contains(logs, `"old":"localhost:`+portA+`","new":"localhost:`+portB+`"`) {
		t.Errorf("no WARN naming the old and new host:\n%s", logs)
	}
	in.stop()

	// The same port again: nothing to change, no warning.
	in = start(t, dir, "--addr", in.addr)
	if logs := in.logs.String(); strings.Contains(logs, "follows the public URL") {
		t.Errorf("a restart with the same public URL moved the host again:\n%s", logs)
	}
	if in.credentials() != creds {
		t.Error("a restart with the same public URL rewrote the credentials file")
	}
	in.stop()
	holdB, err := net.Listen("tcp", in.addr) // so that the next port is a third one
	if err != nil {
		t.Fatal(err)
	}
	defer holdB.Close()

	// --public-url wins over the port.
	const public = "auth.example.test"
	in = start(t, dir, "--public-url", "http://"+public)
	creds = in.credentials()
	if creds.Audience != "http://"+public+"/api/v2/" {
		t.Errorf("audience after --public-url = %q", creds.Audience)
	}
	tok := tokenVia(t, in.addr, public, creds)
	req, _ := http.NewRequest("GET", "http://"+in.addr+"/api/v2/keys/signing", nil)
	req.Host = public
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/v2/keys/signing on %s = %d, want 200", public, resp.StatusCode)
	}
	resp, body := getHost(t, in.addr, public, "/.well-known/openid-configuration")
	if resp.StatusCode != 200 || !strings.Contains(body, `"issuer":"http://`+public+`/"`) {
		t.Errorf("discovery on %s = %d %s", public, resp.StatusCode, body)
	}
	portC := in.addr[strings.LastIndex(in.addr, ":")+1:]
	for _, tt := range []struct {
		host   string
		status int
	}{
		{"extra.example.test:7443", 200},
		{"127.0.0.1:" + portC, 200}, // the loopback alias follows the listener
		{"127.0.0.1:" + portB, 404},
		{"localhost:" + portB, 404},
	} {
		if resp, body := getHost(t, in.addr, tt.host, "/.well-known/jwks.json"); resp.StatusCode != tt.status {
			t.Errorf("Host %s: GET /.well-known/jwks.json = %d %s, want %d", tt.host, resp.StatusCode, body, tt.status)
		}
	}
}

// TestMovedHosts: the new primary host comes first, the other hosts keep
// their order, the loopback alias bootstrap put beside a localhost primary
// follows the listener's port, and no host repeats.
func TestMovedHosts(t *testing.T) {
	tests := []struct {
		name    string
		hosts   []string
		primary string
		listen  string
		want    []string
	}{
		{"new port", []string{"localhost:8080", "127.0.0.1:8080", "extra.test"}, "localhost:9090", "127.0.0.1:9090",
			[]string{"localhost:9090", "127.0.0.1:9090", "extra.test"}},
		{"public url after default", []string{"localhost:8080", "127.0.0.1:8080"}, "auth.example.com", "[::]:8443",
			[]string{"auth.example.com", "127.0.0.1:8443"}},
		{"alias beside a public url stays", []string{"auth.example.com", "127.0.0.1:8080"}, "login.example.com", "0.0.0.0:9090",
			[]string{"login.example.com", "127.0.0.1:8080"}},
		{"new primary was an alias", []string{"auth.example.com", "login.example.com", "x.test"}, "login.example.com", "127.0.0.1:1",
			[]string{"login.example.com", "x.test"}},
		{"alias already on the new port", []string{"localhost:8080", "127.0.0.1:8080", "127.0.0.1:9090"}, "localhost:9090", "127.0.0.1:9090",
			[]string{"localhost:9090", "127.0.0.1:9090"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := movedHosts(tt.hosts, tt.primary, tt.listen); !slices.Equal(got, tt.want) {
				t.Errorf("movedHosts(%q, %q, %q) = %q, want %q", tt.hosts, tt.primary, tt.listen, got, tt.want)
			}
		})
	}
}
