package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signet-auth/signet/internal/ringtest"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer = ringtest.Buffer

// instance is a running `signet serve` started through Main.
type instance struct {
	t       *testing.T
	dataDir string
	addr    string // 127.0.0.1:port
	base    string // http://localhost:port
	logs    *syncBuffer
	stop    func() int
}

// start runs Main("serve") on 127.0.0.1:0 with dataDir and returns once it
// accepts connections. The server is stopped when the test ends.
func start(t *testing.T, dataDir string, extra ...string) *instance {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json", "--log-level", "debug"}, extra...)
	go func() {
		done <- Main(ctx, args, Env{Stdout: logs, Stderr: logs, Getenv: func(string) string { return "" },
			Ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("signet serve exited with %d:\n%s", code, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("signet serve did not start:\n%s", logs.String())
	}
	var once sync.Once
	var code int
	stop := func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	port := addr[strings.LastIndex(addr, ":")+1:]
	return &instance{t: t, dataDir: dataDir, addr: addr, base: "http://localhost:" + port, logs: logs, stop: stop}
}

// run runs a CLI command against the instance's data dir (and its --addr
// for the commands that take it) and returns stdout.
func (in *instance) run(args ...string) (string, error) {
	var out, errb bytes.Buffer
	args = append(args, "--data-dir", in.dataDir)
	if cmd, ok := lookup(args[0] + " " + args[1]); ok && cmd.flags&flagsAddr != 0 {
		args = append(args, "--addr", in.addr)
	}
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 0 {
		return out.String(), fmt.Errorf("signet %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String(), nil
}

func (in *instance) credentials() credentials {
	in.t.Helper()
	path := filepath.Join(in.dataDir, credentialsFile)
	fi, err := os.Stat(path)
	if err != nil {
		in.t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		in.t.Errorf("%s mode = %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		in.t.Fatal(err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		in.t.Fatal(err)
	}
	return c
}

// token gets a fresh Management API token with golang.org/x/oauth2, as the Go SDKs do.
func (in *instance) token(c credentials) string {
	in.t.Helper()
	cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL,
		EndpointParams: map[string][]string{"audience": {c.Audience}}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		in.t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

// call makes a request and returns the status and body.
func (in *instance) call(method, path, bearer string, body io.Reader) (int, []byte, http.Header) {
	in.t.Helper()
	req, err := http.NewRequest(method, in.base+path, body)
	if err != nil {
		in.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// signingKey mirrors go-auth0's management.SigningKey: timestamps as *time.Time.
type signingKey struct {
	KID          *string    `json:"kid,omitempty"`
	Cert         *string    `json:"cert,omitempty"`
	PKCS7        *string    `json:"pkcs7,omitempty"`
	Current      *bool      `json:"current,omitempty"`
	Next         *bool      `json:"next,omitempty"`
	Previous     *bool      `json:"previous,omitempty"`
	CurrentSince *time.Time `json:"current_since,omitempty"`
	CurrentUntil *time.Time `json:"current_until,omitempty"`
	Fingerprint  *string    `json:"fingerprint,omitempty"`
	Thumbprint   *string    `json:"thumbprint,omitempty"`
	Revoked      *bool      `json:"revoked,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

func (in *instance) keys(bearer string) []signingKey {
	in.t.Helper()
	status, body, _ := in.call("GET", "/api/v2/keys/signing", bearer, nil)
	if status != 200 {
		in.t.Fatalf("GET /api/v2/keys/signing = %d %s", status, body)
	}
	var ks []signingKey
	if err := json.Unmarshal(body, &ks); err != nil {
		in.t.Fatalf("decode keys as go-auth0 does: %v\n%s", err, body)
	}
	return ks
}

func (in *instance) jwks() jose.JSONWebKeySet {
	in.t.Helper()
	status, body, h := in.call("GET", "/.well-known/jwks.json", "", nil)
	if status != 200 {
		in.t.Fatalf("GET jwks = %d %s", status, body)
	}
	if got := h.Get("Cache-Control"); got != "public, max-age=300, must-revalidate" {
		in.t.Errorf("jwks Cache-Control = %q", got)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		in.t.Fatal(err)
	}
	return set
}

// verify checks raw against set with go-jose, independently of Signet's code.
func verify(set jose.JSONWebKeySet, raw string) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		return fmt.Errorf("kid %s not in JWKS", kid)
	}
	_, err = jws.Verify(keys[0])
	return err
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

func state(k signingKey) string {
	switch {
	case *k.Current:
		return "current"
	case *k.Next:
		return "next"
	case *k.Previous:
		return "previous"
	case *k.Revoked:
		return "revoked"
	}
	return "?"
}

// TestLifecycle walks the README's curl walkthrough with real clients: a token
// from the credentials file, list, rotate, revoke, JWKS, verified by go-jose.
func TestLifecycle(t *testing.T) {
	in := start(t, t.TempDir())
	creds := in.credentials()
	if creds.Audience != in.base+"/api/v2/" || creds.TokenURL != in.base+"/oauth/token" {
		t.Fatalf("credentials = %+v", creds)
	}
	before := in.token(creds)

	ks := in.keys(before)
	if len(ks) != 2 || state(ks[0]) != "current" || state(ks[1]) != "next" {
		t.Fatalf("fresh tenant keys = %d, want current then next", len(ks))
	}
	oldCurrent, oldNext := *ks[0].KID, *ks[1].KID
	if kidOf(t, before) != oldCurrent {
		t.Fatalf("token signed by %s, want current key %s", kidOf(t, before), oldCurrent)
	}
	if err := verify(in.jwks(), before); err != nil {
		t.Fatalf("go-jose rejects a fresh token: %v", err)
	}

	status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", before, nil)
	if status != 201 {
		t.Fatalf("rotate = %d %s", status, body)
	}
	var rotated struct{ KID, Cert string }
	json.Unmarshal(body, &rotated)
	if rotated.KID != oldNext || !strings.HasPrefix(rotated.Cert, "-----BEGIN CERTIFICATE-----\r\n") {
		t.Fatalf("rotate answered kid %s, want the former next key %s", rotated.KID, oldNext)
	}

	after := in.token(creds)
	if kidOf(t, after) != oldNext {
		t.Fatalf("token after rotation signed by %s, want %s", kidOf(t, after), oldNext)
	}
	set := in.jwks()
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS after rotation has %d keys, want current, next and previous", len(set.Keys))
	}
	for name, tok := range map[string]string{"before": before, "after": after} {
		if err := verify(set, tok); err != nil {
			t.Errorf("go-jose rejects the token issued %s the rotation: %v", name, err)
		}
	}
	if status, _, _ := in.call("GET", "/api/v2/keys/signing", before, nil); status != 200 {
		t.Errorf("token of the previous key refused before revocation: %d", status)
	}

	status, body, _ = in.call("PUT", "/api/v2/keys/signing/"+oldCurrent+"/revoke", after, nil)
	if status != 200 || !strings.Contains(string(body), oldCurrent) {
		t.Fatalf("revoke = %d %s", status, body)
	}
	status, body, _ = in.call("GET", "/api/v2/keys/signing", before, nil)
	if status != 401 || !strings.Contains(string(body), `"Invalid token"`) {
		t.Errorf("token of a revoked key: %d %s, want 401 Invalid token", status, body)
	}
	set = in.jwks()
	if len(set.Key(oldCurrent)) != 0 || len(set.Keys) != 2 {
		t.Errorf("JWKS still lists the revoked key %s", oldCurrent)
	}
	if err := verify(set, before); err == nil {
		t.Error("go-jose accepts a token of the revoked key against the new JWKS")
	}
	ks = in.keys(after)
	if len(ks) != 3 || state(ks[2]) != "revoked" || ks[2].RevokedAt == nil {
		t.Errorf("keys after revoke: %d, last state %s", len(ks), state(ks[len(ks)-1]))
	}

	// A Host no tenant owns is never the default tenant.
	req, _ := http.NewRequest("GET", in.base+"/.well-known/jwks.json", nil)
	req.Host = "unknown.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown host = %d, want 404", resp.StatusCode)
	}

	if code := in.stop(); code != 0 {
		t.Errorf("graceful shutdown exit code = %d\n%s", code, in.logs.String())
	}
	if strings.Contains(in.logs.String(), creds.ClientSecret) {
		t.Error("the admin client secret appears in the logs")
	}
}

// TestRestartKeepsKeys checks that a second start reuses the data dir: same
// keys, no second bootstrap.
func TestRestartKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	creds := in.credentials()
	first := in.keys(in.token(creds))
	in.stop()

	in2 := start(t, dir, "--addr", in.addr)
	if in2.credentials() != creds {
		t.Error("restart rewrote admin-credentials.json")
	}
	again := in2.keys(in2.token(creds))
	if len(again) != len(first) || *again[0].KID != *first[0].KID {
		t.Error("restart changed the keys")
	}
}

// TestTenantsAreIsolated creates a second tenant with the CLI and checks that
// a token of one tenant is refused by the other.
func TestTenantsAreIsolated(t *testing.T) {
	in := start(t, t.TempDir())
	port := in.addr[strings.LastIndex(in.addr, ":")+1:]
	acmeHost := "acme.localhost:" + port
	if out, err := in.run("tenants", "create", "acme", "--host", acmeHost); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "http://"+acmeHost+"/") {
		t.Errorf("tenants create output lacks the issuer:\n%s", out)
	}
	out, err := in.run("clients", "create", "--tenant", "acme", "--name", "ops",
		"--audience", "http://"+acmeHost+"/api/v2/", "--scopes", "read:signing_keys")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			fields[f[0]] = f[1]
		}
	}
	if fields["client_id"] == "" || len(fields["client_secret"]) != 43 {
		t.Fatalf("clients create output:\n%s", out)
	}

	var acmeTok string
	deadline := time.Now().Add(10 * time.Second)
	for {
		// acme.localhost resolves to loopback; dial 127.0.0.1 explicitly and set Host.
		cc := clientcredentials.Config{ClientID: fields["client_id"], ClientSecret: fields["client_secret"],
			TokenURL: "http://" + in.addr + "/oauth/token", EndpointParams: map[string][]string{"audience": {"http://" + acmeHost + "/api/v2/"}}}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hostClient(acmeHost))
		tok, err := cc.Token(ctx)
		if err == nil {
			acmeTok = tok.AccessToken
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token from tenant acme: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// acme's token works on acme and fails on default; default's fails on acme.
	req := func(host, bearer string) int {
		r, _ := http.NewRequest("GET", "http://"+in.addr+"/api/v2/keys/signing", nil)
		r.Host = host
		r.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	defTok := in.token(in.credentials())
	if got := req(acmeHost, acmeTok); got != 200 {
		t.Errorf("acme token on acme = %d, want 200", got)
	}
	if got := req("localhost:"+port, acmeTok); got != 401 {
		t.Errorf("acme token on default = %d, want 401", got)
	}
	if got := req(acmeHost, defTok); got != 401 {
		t.Errorf("default token on acme = %d, want 401", got)
	}

	// The CLI lists both tenants and rotates acme's keys.
	if out, err := in.run("tenants", "list"); err != nil || !strings.Contains(out, "acme") || !strings.Contains(out, "default") {
		t.Errorf("tenants list: %v\n%s", err, out)
	}
	if out, err := in.run("keys", "rotate", "--tenant", "acme", "--revoke-current"); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("keys rotate --revoke-current: %v\n%s", err, out)
	}
	if out, err := in.run("keys", "list", "--tenant", "acme"); err != nil || strings.Count(out, "revoked") != 1 {
		t.Errorf("keys list after rotate-and-revoke: %v\n%s", err, out)
	}
	if _, err := in.run("keys", "revoke", "nope", "--tenant", "acme"); err == nil || !strings.Contains(err.Error(), "Signing key not found.") {
		t.Errorf("keys revoke of an unknown kid: %v", err)
	}
}

// hostClient returns an HTTP client that sends every request with Host host.
func hostClient(host string) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Host = host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCustomAPI registers an API and a client with the CLI, gets a token for
// it over HTTP Basic and checks its claims with go-jose against the JWKS.
func TestCustomAPI(t *testing.T) {
	in := start(t, t.TempDir())
	if out, err := in.run("apis", "create", "--identifier", "https://orders.example/", "--scopes", "read:orders write:orders"); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "https://orders.example/") {
		t.Errorf("apis create output:\n%s", out)
	}
	if _, err := in.run("apis", "create", "--identifier", "https://orders.example/"); err == nil {
		t.Error("a second API with the same identifier was accepted")
	}
	if _, err := in.run("clients", "create", "--name", "bad", "--audience", "https://orders.example/", "--scopes", "delete:orders"); err == nil {
		t.Error("a grant of a scope the API does not define was accepted")
	}
	out, err := in.run("clients", "create", "--name", "shop", "--audience", "https://orders.example/", "--scopes", "read:orders")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			fields[f[0]] = f[1]
		}
	}
	if out, _ := in.run("clients", "list"); !strings.Contains(out, fields["client_id"]) || strings.Contains(out, fields["client_secret"]) {
		t.Errorf("clients list must show the client and never its secret:\n%s", out)
	}
	cc := clientcredentials.Config{ClientID: fields["client_id"], ClientSecret: fields["client_secret"], TokenURL: in.base + "/oauth/token",
		EndpointParams: map[string][]string{"audience": {"https://orders.example/"}}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	set := in.jwks()
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatal("token kid not in the JWKS")
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	want := map[string]any{"iss": in.base + "/", "aud": "https://orders.example/", "sub": fields["client_id"] + "@clients",
		"azp": fields["client_id"], "scope": "read:orders", "gty": "client-credentials"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 86400 {
		t.Errorf("lifetime = %v s, want 86400", exp-iat)
	}
	// The API's token is not a Management API token.
	if status, _, _ := in.call("GET", "/api/v2/keys/signing", tok.AccessToken, nil); status != 401 {
		t.Errorf("an API token on the Management API = %d, want 401", status)
	}
}

// TestTenantUpdate changes a tenant's hosts and policy with the CLI while the
// server runs: the new host answers within seconds, the primary host stays.
func TestTenantUpdate(t *testing.T) {
	in := start(t, t.TempDir())
	port := in.addr[strings.LastIndex(in.addr, ":")+1:]
	alias := "alias.localhost:" + port
	out, err := in.run("tenants", "update", "default", "--add-host", alias, "--rotation-period", "720h", "--revoke-previous-after", "168h", "--min-next-age", "10m")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"720h0m0s", "168h0m0s", "10m0s", alias} {
		if !strings.Contains(out, want) {
			t.Errorf("tenants update output lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{
		{"tenants", "update", "default", "--remove-host", "localhost:" + port},              // the primary host
		{"tenants", "update", "default", "--rotation-period", "1h", "--min-next-age", "2h"}, // invalid policy
		{"tenants", "update", "nobody", "--rotation-period", "1h"},
		{"tenants", "update", "default", "--remove-host", "never.example"},
	} {
		if _, err := in.run(args...); err == nil {
			t.Errorf("signet %s succeeded", strings.Join(args, " "))
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := hostClient(alias).Get("http://" + in.addr + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Issuer string }
		json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			if doc.Issuer != "http://"+alias+"/" {
				t.Errorf("issuer on the new host = %q", doc.Issuer)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new host still answers %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := in.run("tenants", "update", "default", "--remove-host", alias); err != nil {
		t.Fatal(err)
	}
}

// TestUsage checks that bad command lines fail with exit code 2 and touch
// nothing on disk.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"keys"},
		{"keys", "bogus"},
		{"keys", "list", "--no-such-flag"},
		{"serve", "--jwks-max-age", "soon"},
		{"serve", "extra-argument"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			var out, errb bytes.Buffer
			code := Main(context.Background(), append(args, "--data-dir", dir), Env{Stdout: &out, Stderr: &errb})
			if len(args) == 0 {
				code = Main(context.Background(), nil, Env{Stdout: &out, Stderr: &errb})
			}
			if code == 0 {
				t.Errorf("exit code 0, output %s", out.String())
			}
			if errb.Len() == 0 {
				t.Error("nothing said on stderr")
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("a refused command created the data dir")
			}
		})
	}
}

// TestMasterKeyFromEnv runs with SIGNET_MASTER_KEY: no key file is written,
// and a restart under another master key refuses to start rather than serve.
func TestMasterKeyFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyA := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	keyB := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	run := func(key string) (int, string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, Env{Stdout: &logs, Stderr: &logs,
				Getenv: func(k string) string {
					if k == "SIGNET_MASTER_KEY" {
						return key
					}
					return ""
				},
				Ready: func(string) { cancel() }})
		}()
		select {
		case code := <-done:
			return code, logs.String()
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
		}
		return -1, ""
	}
	if code, logs := run(keyA); code != 0 {
		t.Fatalf("first start = %d\n%s", code, logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
		t.Error("master.key written although SIGNET_MASTER_KEY is set")
	}
	code, logs := run(keyB)
	if code == 0 {
		t.Fatal("started under the wrong master key")
	}
	if !strings.Contains(logs, "master key") {
		t.Errorf("the error does not point at the master key:\n%s", logs)
	}
	if code, logs := run(keyA); code != 0 {
		t.Fatalf("restart with the right key = %d\n%s", code, logs)
	}
	if code, logs := run("not base64!"); code == 0 || !strings.Contains(logs, "SIGNET_MASTER_KEY") {
		t.Errorf("a malformed SIGNET_MASTER_KEY: exit %d\n%s", code, logs)
	}
}
