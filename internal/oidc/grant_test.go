package oidc_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/server"
)

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeFor signs alice in (if needed) and returns a code for clientID.
func (b *browser) codeFor(clientID, challenge, scope string) string {
	b.t.Helper()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {scope}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	back := b.authorize(q, "alice@example.com", "correct horse")
	code := back.Query().Get("code")
	if code == "" {
		b.t.Fatalf("no code: %s", back)
	}
	return code
}

// tokenResult is a token endpoint answer.
type tokenResult struct {
	status int
	body   map[string]any
}

func (r tokenResult) str(k string) string { s, _ := r.body[k].(string); return s }

// token posts a form to /oauth/token.
func (e *env) token(form url.Values) tokenResult {
	e.t.Helper()
	res, err := http.PostForm(e.base+"/oauth/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out tokenResult
	out.status = res.StatusCode
	json.NewDecoder(res.Body).Decode(&out.body)
	return out
}

func (e *env) exchange(clientID, sec, code, verifier string) tokenResult {
	e.t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code}, "redirect_uri": {callback}}
	if sec != "" {
		f.Set("client_secret", sec)
	}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return e.token(f)
}

func (e *env) refresh(clientID, sec, rt string) tokenResult {
	e.t.Helper()
	f := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}}
	if sec != "" {
		f.Set("client_secret", sec)
	}
	return e.token(f)
}

func wantGrantError(t *testing.T, what string, r tokenResult, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Errorf("%s = %d %v, want %d %s", what, r.status, r.body, status, code)
	}
	if r.str("access_token") != "" {
		t.Errorf("%s returned an access token", what)
	}
}

func TestCodeRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	public, _ := e.client(true)
	conf, sec := e.client(false)
	other, otherSec := e.client(false)
	b := e.browser()
	verifier, challenge := pkce("v")

	t.Run("Replay", func(t *testing.T) {
		code := b.codeFor(public, challenge, "openid offline_access")
		first := e.exchange(public, "", code, verifier)
		if first.status != 200 || first.str("refresh_token") == "" {
			t.Fatalf("first exchange = %d %v", first.status, first.body)
		}
		wantGrantError(t, "replayed code", e.exchange(public, "", code, verifier), 400, "invalid_grant")
		// The replay revoked the refresh token the code was exchanged for.
		wantGrantError(t, "refresh token of a replayed code", e.refresh(public, "", first.str("refresh_token")), 400, "invalid_grant")
	})
	t.Run("PKCEMismatch", func(t *testing.T) {
		other, _ := pkce("w")
		code := b.codeFor(public, challenge, "openid")
		wantGrantError(t, "wrong verifier", e.exchange(public, "", code, other), 400, "invalid_grant")
		// The failed attempt used the code up.
		wantGrantError(t, "right verifier after a wrong one", e.exchange(public, "", code, verifier), 400, "invalid_grant")
		code = b.codeFor(public, challenge, "openid")
		wantGrantError(t, "no verifier", e.exchange(public, "", code, ""), 400, "invalid_grant")
		code = b.codeFor(public, challenge, "openid")
		wantGrantError(t, "the challenge as verifier", e.exchange(public, "", code, challenge), 400, "invalid_grant")
		code = b.codeFor(conf, "", "openid")
		wantGrantError(t, "verifier without a challenge", e.exchange(conf, sec, code, verifier), 400, "invalid_grant")
	})
	t.Run("PublicClientWithoutPKCE", func(t *testing.T) {
		q := url.Values{"client_id": {public}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "state": {"st"}}
		back := b.authorize(q, "alice@example.com", "correct horse")
		if back.Query().Get("error") != "invalid_request" || back.Query().Get("state") != "st" || back.Query().Get("code") != "" {
			t.Errorf("public client without code_challenge: %s", back)
		}
	})
	t.Run("WrongClient", func(t *testing.T) {
		code := b.codeFor(conf, "", "openid")
		wantGrantError(t, "code of another client", e.exchange(other, otherSec, code, ""), 400, "invalid_grant")
		code = b.codeFor(public, challenge, "openid")
		wantGrantError(t, "public client with a secret", e.exchange(public, "x", code, verifier), 401, "invalid_client")
		wantGrantError(t, "no client", e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}}), 401, "invalid_client")
	})
	t.Run("RedirectMismatch", func(t *testing.T) {
		code := b.codeFor(conf, "", "openid")
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {conf}, "client_secret": {sec}, "code": {code},
			"redirect_uri": {"http://app.example/other"}}
		wantGrantError(t, "another registered redirect_uri", e.token(f), 400, "invalid_grant")
		f.Del("redirect_uri")
		wantGrantError(t, "no redirect_uri", e.token(f), 400, "invalid_request")
	})
	t.Run("Expired", func(t *testing.T) {
		code := b.codeFor(conf, "", "openid")
		e.clock.Add(oidc.CodeLifetime)
		wantGrantError(t, "code after 60 s", e.exchange(conf, sec, code, ""), 400, "invalid_grant")
	})
	t.Run("Garbage", func(t *testing.T) {
		wantGrantError(t, "unknown code", e.exchange(conf, sec, "nope", ""), 400, "invalid_grant")
		wantGrantError(t, "no code", e.exchange(conf, sec, "", ""), 400, "invalid_request")
	})
	t.Run("GrantTypeNotAllowed", func(t *testing.T) {
		m2m, m2mSec := e.client(false, "client_credentials")
		wantGrantError(t, "m2m client", e.exchange(m2m, m2mSec, "x", ""), 403, "unauthorized_client")
		wantGrantError(t, "public client, client_credentials", e.token(url.Values{"grant_type": {"client_credentials"},
			"client_id": {public}, "audience": {"x"}}), 401, "invalid_client")
	})
	t.Run("BlockedUser", func(t *testing.T) {
		code := b.codeFor(conf, "", "openid")
		u, _ := e.store.UserByEmail(context.Background(), "default", "alice@example.com")
		e.store.UpdateUser(context.Background(), "default", u.ID, func(u *signet.User) error { u.Blocked = true; return nil })
		defer e.store.UpdateUser(context.Background(), "default", u.ID, func(u *signet.User) error { u.Blocked = false; return nil })
		wantGrantError(t, "code of a blocked user", e.exchange(conf, sec, code, ""), 400, "invalid_grant")
	})
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	clientID, sec := e.client(false)
	other, otherSec := e.client(false)
	b := e.browser()
	first := e.exchange(clientID, sec, b.codeFor(clientID, "", "openid email offline_access"), "")
	rt1 := first.str("refresh_token")
	if rt1 == "" {
		t.Fatalf("no refresh token: %v", first.body)
	}

	wantGrantError(t, "refresh by another client", e.refresh(other, otherSec, rt1), 400, "invalid_grant")
	r2 := e.refresh(clientID, sec, rt1)
	rt2 := r2.str("refresh_token")
	if r2.status != 200 || rt2 == "" || rt2 == rt1 || r2.str("id_token") == "" || r2.str("access_token") == "" {
		t.Fatalf("refresh = %d %v", r2.status, r2.body)
	}
	r3 := e.refresh(clientID, sec, rt2)
	rt3 := r3.str("refresh_token")
	if r3.status != 200 || rt3 == "" {
		t.Fatalf("second refresh = %d %v", r3.status, r3.body)
	}
	// Down-scoping, and a scope never granted.
	f := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {sec}, "refresh_token": {rt3}, "scope": {"openid admin"}}
	wantGrantError(t, "refresh asking for more scope", e.token(f), 400, "invalid_scope")
	f.Set("scope", "openid")
	r4 := e.token(f)
	if r4.status != 200 || r4.str("scope") != "openid" {
		t.Fatalf("down-scoped refresh = %d %v", r4.status, r4.body)
	}
	rt4 := r4.str("refresh_token")

	// Reusing rt1 (a stolen, already used token) revokes the whole family.
	wantGrantError(t, "reused refresh token", e.refresh(clientID, sec, rt1), 400, "invalid_grant")
	wantGrantError(t, "newest token after reuse", e.refresh(clientID, sec, rt4), 400, "invalid_grant")

	// Concurrent use of one token: exactly one wins; the family is revoked.
	fresh := e.exchange(clientID, sec, b.codeFor(clientID, "", "openid offline_access"), "").str("refresh_token")
	const n = 10
	results := make([]tokenResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = e.refresh(clientID, sec, fresh) })
	}
	wg.Wait()
	ok := 0
	var winner string
	for _, r := range results {
		if r.status == 200 {
			ok++
			winner = r.str("refresh_token")
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent refreshes succeeded, want 1", ok, n)
	}
	if winner != "" {
		wantGrantError(t, "the winner's token after concurrent reuse", e.refresh(clientID, sec, winner), 400, "invalid_grant")
	}

	// The family ends at its absolute lifetime.
	last := e.exchange(clientID, sec, b.codeFor(clientID, "", "openid offline_access"), "").str("refresh_token")
	e.clock.Add(signet.DefaultRefreshTokenLifetime * time.Second)
	wantGrantError(t, "refresh after the family's lifetime", e.refresh(clientID, sec, last), 400, "invalid_grant")

	// Without the client's refresh_token grant type, offline_access is not granted.
	noRefresh, noRefreshSec := e.client(false, "authorization_code")
	r := e.exchange(noRefresh, noRefreshSec, b.codeFor(noRefresh, "", "openid offline_access"), "")
	if r.status != 200 || r.str("refresh_token") != "" || strings.Contains(r.str("scope"), "offline_access") {
		t.Errorf("client without refresh_token grant: %d %v", r.status, r.body)
	}
}

// TestReplicas issues a code on one replica and redeems it on another, then
// rotates the refresh token across them: everything is in the shared store.
func TestReplicas(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	clientID, sec := e.client(false)

	// Replica B: its own Ring and handlers on the same database.
	ring := e.re.Replica()
	if err := ring.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := oidc.New(oidc.Config{Ring: ring, Store: e.store, Users: e.store, Now: e.clock.Now})
	srv := server.New(server.Config{Ring: ring, Handlers: []server.Registrar{h, oauth.New(oauth.Config{Ring: ring, Store: e.store, Provider: h})}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: e.checked(srv.Handler())}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	// Requests for the tenant's host go to replica B.
	toB := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
	}}}
	post := func(c *http.Client, form url.Values) tokenResult {
		res, err := c.PostForm(e.base+"/oauth/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out := tokenResult{status: res.StatusCode}
		json.NewDecoder(res.Body).Decode(&out.body)
		return out
	}

	code := e.browser().codeFor(clientID, "", "openid offline_access")
	r := post(toB, url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "client_secret": {sec},
		"code": {code}, "redirect_uri": {callback}})
	if r.status != 200 {
		t.Fatalf("code from A redeemed on B = %d %v", r.status, r.body)
	}
	rt1 := r.str("refresh_token")
	rt2 := e.refresh(clientID, sec, rt1).str("refresh_token") // on A
	if rt2 == "" {
		t.Fatal("refresh on A failed")
	}
	reuse := post(toB, url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {sec}, "refresh_token": {rt1}})
	wantGrantError(t, "reuse on B of a token rotated on A", reuse, 400, "invalid_grant")
	wantGrantError(t, "the family on A after reuse on B", e.refresh(clientID, sec, rt2), 400, "invalid_grant")
}
