package dashboard_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/dashboard"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/theme"
	"github.com/signet-auth/signet/internal/throttle"
)

// unchanged fails the test if tenant's keys or audit log differ from before.
func (e *env) unchanged(t *testing.T, tenant string, before signet.Keyset, beforeEvents int) {
	t.Helper()
	after := e.keyset(tenant)
	if len(after.Keys) != len(before.Keys) {
		t.Fatalf("%s: %d keys, had %d", tenant, len(after.Keys), len(before.Keys))
	}
	for i := range before.Keys {
		if b, a := before.Keys[i], after.Keys[i]; a.KID != b.KID || a.State != b.State {
			t.Errorf("%s: key %s is %s, was %s %s", tenant, a.KID, a.State, b.KID, b.State)
		}
	}
	if n := len(e.events(tenant)); n != beforeEvents {
		t.Errorf("%s: %d audit events, had %d", tenant, n, beforeEvents)
	}
}

func TestSignedOutRedirectsToSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	before, evs := e.keyset("acme"), len(e.events("acme"))
	for _, tc := range []struct {
		method, path, want string
	}{
		{"GET", "/dashboard/", "/dashboard/signin"},
		{"GET", keysPage, "/dashboard/signin?next=" + url.QueryEscape(keysPage)},
		{"GET", "/dashboard/tenants/acme/settings", "/dashboard/signin?next=" + url.QueryEscape("/dashboard/tenants/acme/settings")},
		{"GET", keysPage + "/rotate", "/dashboard/signin?next=" + url.QueryEscape(keysPage+"/rotate")},
		{"GET", "/dashboard/switch?tenant=acme", "/dashboard/signin?next=" + url.QueryEscape("/dashboard/switch?tenant=acme")},
		{"POST", keysPage + "/rotate", "/dashboard/signin"},
		{"POST", keysPage + "/" + before.Current().KID + "/revoke", "/dashboard/signin"},
		{"POST", "/dashboard/signout", "/dashboard/signin"},
	} {
		var r response
		if tc.method == "GET" {
			r = b.get(tc.path)
		} else {
			r = b.post(tc.path, url.Values{"csrf": {"anything"}, "revoke_current": {"true"}})
		}
		if r.status != http.StatusSeeOther || r.location() != tc.want {
			t.Errorf("%s %s signed out = %d → %q, want 303 → %q", tc.method, tc.path, r.status, r.location(), tc.want)
		}
	}
	e.unchanged(t, "acme", before, evs)

	// A forged or stale cookie is no session either.
	b.client.Jar.SetCookies(mustURL(e.srv.URL+"/dashboard/"), []*http.Cookie{{Name: "signet_dashboard", Value: "forged", Path: "/dashboard"}})
	if r := b.get(keysPage); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/dashboard/signin") {
		t.Errorf("GET with a forged session cookie = %d → %q, want a redirect to sign-in", r.status, r.location())
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	alice := e.browser()
	alice.signIn("alice@example.com", alicePassword)
	token := alice.csrf(keysPage)

	// Bob's token is valid, for bob's session only.
	bob := e.browser()
	bob.signIn("bob@example.com", "bob's password")
	bobToken := bob.csrf(keysPage)
	if bobToken == token {
		t.Fatal("two sessions share a CSRF token")
	}

	// Make a previous key, so that revoke has something to refuse.
	if r := alice.post(keysPage+"/rotate", url.Values{"csrf": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("rotate = %d:\n%s", r.status, r.body)
	}
	before, evs := e.keyset("acme"), len(e.events("acme"))
	var previous string
	for _, k := range before.Keys {
		if k.State == signet.StatePrevious {
			previous = k.KID
		}
	}

	forms := map[string]url.Values{
		"rotate":             {"revoke_current": {"true"}},
		previous + "/revoke": {},
	}
	for action, form := range forms {
		for _, tc := range []struct {
			name   string
			csrf   []string
			header []string
		}{
			{"missing", nil, nil},
			{"empty", []string{""}, nil},
			{"wrong", []string{"x" + token[1:]}, nil},
			{"truncated", []string{token[:len(token)-1]}, nil},
			{"other session's", []string{bobToken}, nil},
			{"in the query only", nil, nil},
			{"cross-site origin", []string{token}, []string{"Origin", "https://evil.example"}},
			{"cross-site fetch", []string{token}, []string{"Sec-Fetch-Site", "cross-site"}},
		} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tc.csrf != nil {
				f["csrf"] = tc.csrf
			}
			path := keysPage + "/" + action
			if tc.name == "in the query only" {
				path += "?csrf=" + url.QueryEscape(token)
			}
			r := alice.post(path, f, tc.header...)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "nothing was changed") {
				t.Errorf("%s with %s CSRF token = %d, want 403 saying nothing changed:\n%s", action, tc.name, r.status, r.body)
			}
		}
	}
	// Sign-out needs the token too: without it the session lives on.
	if r := alice.post("/dashboard/signout", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("sign-out without CSRF token = %d, want 403", r.status)
	}
	if r := alice.get(keysPage); r.status != http.StatusOK {
		t.Errorf("after a refused sign-out GET = %d, want 200 (still signed in)", r.status)
	}
	e.unchanged(t, "acme", before, evs)

	// The right token works, also with a same-origin Origin header.
	r := alice.post(keysPage+"/"+previous+"/revoke", url.Values{"csrf": {token}}, "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke with the token = %d:\n%s", r.status, r.body)
	}
	if k := keyOf(e.keyset("acme"), previous); k.State != signet.StateRevoked {
		t.Errorf("after revoke, key is %s", k.State)
	}
}

func TestTenantNotGranted(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	token := b.csrf(keysPage)
	before, evs := e.keyset("rival"), len(e.events("rival"))
	prev := before.Current().KID

	rival := "/dashboard/tenants/rival/settings/signing-keys"
	for _, tc := range []struct{ method, path string }{
		{"GET", rival},
		{"GET", "/dashboard/tenants/rival/settings"},
		{"GET", "/dashboard/tenants/rival/"},
		{"GET", rival + "/rotate"},
		{"GET", rival + "/" + prev + "/certificate.pem"},
		{"GET", rival + "/" + prev + "/certificate.cer"},
		{"GET", rival + "/" + prev + "/revoke"},
		{"GET", "/dashboard/switch?tenant=rival"},
		{"POST", rival + "/rotate"},
		{"POST", rival + "/" + prev + "/revoke"},
		// A tenant that does not exist looks the same as one not granted.
		{"GET", "/dashboard/tenants/ghost/settings/signing-keys"},
		{"POST", "/dashboard/tenants/ghost/settings/signing-keys/rotate"},
	} {
		var r response
		if tc.method == "GET" {
			r = b.get(tc.path)
		} else {
			r = b.post(tc.path, url.Values{"csrf": {token}, "revoke_current": {"true"}})
		}
		if r.status != http.StatusForbidden {
			t.Errorf("%s %s by alice = %d, want 403", tc.method, tc.path, r.status)
		}
		if strings.Contains(r.body, prev) {
			t.Errorf("%s %s by alice shows rival's key", tc.method, tc.path)
		}
	}
	e.unchanged(t, "rival", before, evs)

	// Her page offers only her tenant; bob's offers both.
	page := b.get(keysPage).body
	if strings.Contains(page, `value="rival"`) {
		t.Error("alice's tenant switcher offers rival")
	}
	bob := e.browser()
	bob.signIn("bob@example.com", "bob's password")
	if page := bob.get(rival).body; !strings.Contains(page, `<option value="acme"`) || !strings.Contains(page, `<option value="rival" selected>`) {
		t.Error("bob's switcher does not offer acme and rival with rival selected")
	}
	if r := bob.get("/dashboard/switch?tenant=acme&tab=general"); r.location() != "/dashboard/tenants/acme/settings" {
		t.Errorf("switch to acme's General tab → %q", r.location())
	}
}

func TestRotateRevoke(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	token := b.csrf(keysPage)
	ks := e.keyset("acme")
	oldCurrent, oldNext := ks.Current().KID, ks.Next().KID

	// The tenant is named once (in the top bar), times to the second with
	// the RFC 3339 timestamp on hover.
	page := b.get(keysPage).body
	if n := strings.Count(page, "Tenant <strong>acme</strong>"); n != 1 {
		t.Errorf("the page names the tenant %d times, want once", n)
	}
	created := ks.Current().CurrentSince.UTC()
	if want := `<time datetime="` + created.Format(time.RFC3339Nano) + `" title="` + created.Format(time.RFC3339Nano) + `">` + created.Format(time.DateTime) + `</time>`; !strings.Contains(page, want) {
		t.Errorf("the keys page lacks %s", want)
	}

	// Rotate: the old next key is current, the old current previous.
	r := b.post(keysPage+"/rotate", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther || r.location() != keysPage {
		t.Fatalf("rotate = %d → %q:\n%s", r.status, r.location(), r.body)
	}
	ks = e.keyset("acme")
	if ks.Current().KID != oldNext {
		t.Errorf("current after rotate = %s, want the old next %s", ks.Current().KID, oldNext)
	}
	if k, _ := ks.Key(oldCurrent); k.State != signet.StatePrevious {
		t.Errorf("old current is %s, want previous", k.State)
	}
	ev := e.events("acme")[0]
	if ev.Type != signet.EventKeyRotated || ev.Actor != "admin:alice@example.com" || ev.KID != oldNext {
		t.Errorf("audit event = %+v, want a rotation to %s by admin:alice@example.com", ev, oldNext)
	}
	// The page says so, once.
	page = b.get(keysPage).body
	for _, want := range []string{"Signing key rotated", "Key <code>" + oldNext + "</code> is now the current key", oldCurrent, ks.Next().KID,
		// The promoted key was seconds old: the ring warned, the notice says so.
		"became current less than a second after it was published, sooner than the 5 minutes"} {
		if !strings.Contains(page, want) {
			t.Errorf("page after rotate lacks %q", want)
		}
	}
	// The new next key is seconds old: the notice says when rotating again
	// is safe, and the tab adds no banner of its own (only the rotate
	// dialog, closed, keeps its warning).
	notice, _, _ := strings.Cut(page[strings.Index(page, `id="notice"`):], "</div>")
	if !strings.Contains(notice, "The new next key <code>"+ks.Next().KID[:12]) || !strings.Contains(notice, "if you rotate again before") {
		t.Errorf("the notice after rotate does not say when the new next key is old enough:\n%s", notice)
	}
	if n := strings.Count(page, "The next key is still new"); n != 1 {
		t.Errorf("after rotate the page says \"The next key is still new\" %d times, want once (in the rotate dialog)", n)
	}
	if strings.Contains(b.get(keysPage).body, "Signing key rotated") {
		t.Error("the notice is shown again on the next page")
	}

	// Revoke the current key: refused with a notice, nothing changes.
	before, evs := e.keyset("acme"), len(e.events("acme"))
	r = b.post(keysPage+"/"+oldNext+"/revoke", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke current = %d", r.status)
	}
	e.unchanged(t, "acme", before, evs)
	if page := b.get(keysPage).body; !strings.Contains(page, "Nothing was changed") || !strings.Contains(page, "Yes, revoke the currently used signing key") {
		t.Error("refused revocation of the current key: no notice pointing at rotate-and-revoke")
	}

	// Revoke the previous key.
	r = b.post(keysPage+"/"+oldCurrent+"/revoke", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke = %d:\n%s", r.status, r.body)
	}
	if k := keyOf(e.keyset("acme"), oldCurrent); k.State != signet.StateRevoked {
		t.Errorf("revoked key is %s", k.State)
	}
	if ev := e.events("acme")[0]; ev.Type != signet.EventKeyRevoked || ev.Actor != "admin:alice@example.com" || ev.KID != oldCurrent {
		t.Errorf("audit event = %+v, want a revocation of %s by admin:alice@example.com", ev, oldCurrent)
	}
	page = b.get(keysPage).body
	if !strings.Contains(page, "Signing key revoked") || !strings.Contains(page, "The current key is still <code>"+oldNext+"</code>") {
		t.Errorf("page after revoke lacks its notice")
	}
	if _, ok := e.view("acme").VerifyKey(oldCurrent); ok {
		t.Error("the ring still accepts the revoked key")
	}

	// Revoking it again is refused.
	before, evs = e.keyset("acme"), len(e.events("acme"))
	b.post(keysPage+"/"+oldCurrent+"/revoke", url.Values{"csrf": {token}})
	e.unchanged(t, "acme", before, evs)
	if page := b.get(keysPage).body; !strings.Contains(page, "already revoked") {
		t.Error("no notice for a second revocation")
	}

	// Rotate and revoke in one step.
	ks = e.keyset("acme")
	cur, next := ks.Current().KID, ks.Next().KID
	r = b.post(keysPage+"/rotate", url.Values{"csrf": {token}, "revoke_current": {"true"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("rotate and revoke = %d", r.status)
	}
	ks = e.keyset("acme")
	if k, _ := ks.Key(cur); ks.Current().KID != next || k.State != signet.StateRevoked {
		t.Errorf("after rotate-and-revoke: current %s (want %s), old current %s (want revoked)", ks.Current().KID, next, k.State)
	}
	// One transaction, two events: the rotation (naming the revoked key) and the revocation.
	evs2 := e.events("acme")[:2]
	for _, ev := range evs2 {
		if ev.Actor != "admin:alice@example.com" {
			t.Errorf("audit event %+v: actor is not alice", ev)
		}
	}
	if evs2[1].Type != signet.EventKeyRotated || evs2[1].Data["revoked_kid"] != cur || evs2[0].Type != signet.EventKeyRevoked || evs2[0].KID != cur {
		t.Errorf("audit events = %+v, want a rotation naming revoked_kid %s and its revocation", evs2, cur)
	}
	page = b.get(keysPage).body
	if !strings.Contains(page, "former key revoked") || !strings.Contains(page, "Key <code>"+cur+"</code> is revoked") {
		t.Error("page after rotate-and-revoke lacks its notice")
	}
}

func TestYoungNextKeyWarning(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	if page := b.get(keysPage).body; !strings.Contains(page, "The next key is still new") || !strings.Contains(page, "5 minutes") {
		t.Error("a next key created just now: no warning naming the JWKS max-age")
	}
	e.clock.Add(jwksMaxAge + time.Second)
	if page := b.get(keysPage).body; strings.Contains(page, "The next key is still new") {
		t.Error("warning shown for a next key older than the JWKS max-age")
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	token := b.csrf("/dashboard/signin")
	for _, tc := range []struct {
		name, email, pw string
	}{
		{"wrong password", "alice@example.com", "wrong"},
		{"unknown e-mail", "nobody@example.com", alicePassword},
		{"empty password", "alice@example.com", ""},
		{"malformed e-mail", "alice", alicePassword},
	} {
		r := b.post("/dashboard/signin", url.Values{"email": {tc.email}, "password": {tc.pw}, "csrf": {token}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong e-mail address or password.") {
			t.Errorf("%s: %d, want 401 with the one generic message:\n%s", tc.name, r.status, r.body)
		}
		if b.cookie("signet_dashboard") != nil {
			t.Errorf("%s: a session cookie was set", tc.name)
		}
		token = csrfField.FindStringSubmatch(r.body)[1]
	}
	// The sign-in form's own token is checked (login CSRF).
	if r := b.post("/dashboard/signin", url.Values{"email": {"alice@example.com"}, "password": {alicePassword}, "csrf": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in with a forged token = %d, want 403", r.status)
	}
	if r := e.browser().post("/dashboard/signin", url.Values{"email": {"alice@example.com"}, "password": {alicePassword}, "csrf": {token}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in without the token cookie = %d, want 403", r.status)
	}
	// Upper case and spaces in the e-mail are fine; next brings her back.
	token = b.csrf("/dashboard/signin?next=" + url.QueryEscape(keysPage))
	r := b.post("/dashboard/signin", url.Values{"email": {" Alice@Example.COM "}, "password": {alicePassword}, "csrf": {token}, "next": {keysPage}})
	if r.status != http.StatusSeeOther || r.location() != keysPage {
		t.Fatalf("sign-in = %d → %q, want 303 → %s", r.status, r.location(), keysPage)
	}
	a, _ := e.rt.Store.Admin(t.Context(), e.alice.ID)
	if !a.LastSignInAt.Equal(e.clock.Now()) {
		t.Errorf("LastSignInAt = %v, want %v", a.LastSignInAt, e.clock.Now())
	}
	// A signed-in visit to the sign-in page goes to the dashboard.
	if r := b.get("/dashboard/signin"); r.status != http.StatusSeeOther || r.location() != "/dashboard/" {
		t.Errorf("GET signin while signed in = %d → %q", r.status, r.location())
	}
	// Home goes to her first tenant.
	if r := b.get("/dashboard/"); r.location() != keysPage {
		t.Errorf("home → %q, want %s", r.location(), keysPage)
	}
	// next never leaves the dashboard.
	for _, next := range []string{"//evil.example/", "https://evil.example/dashboard/", "/api/v2/keys", "/dashboard\\..\\x"} {
		c := e.browser()
		token := c.csrf("/dashboard/signin")
		r := c.post("/dashboard/signin", url.Values{"email": {"bob@example.com"}, "password": {"bob's password"}, "csrf": {token}, "next": {next}})
		if r.location() != "/dashboard/" {
			t.Errorf("sign-in with next=%q → %q, want /dashboard/", next, r.location())
		}
	}
}

func TestRehashOnSignIn(t *testing.T) {
	e := newEnv(t)
	weak, err := passwordHashWith(t, "weak password")
	if err != nil {
		t.Fatal(err)
	}
	a := signet.Admin{ID: "adm-weak", Email: "weak@example.com", PasswordHash: weak, Tenants: []string{"acme"}}
	if err := e.rt.Store.CreateAdmin(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	e.browser().signIn("weak@example.com", "weak password")
	got, _ := e.rt.Store.Admin(t.Context(), a.ID)
	if got.PasswordHash == weak || !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
		t.Errorf("a hash weaker than the default was not replaced at sign-in: %s", got.PasswordHash)
	}
	e.browser().signIn("weak@example.com", "weak password") // the new hash works
}

func TestSessionCookieAndStorage(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(c *dashboard.Config) { c.Secure = secure })
		b := e.browser()
		token := b.csrf("/dashboard/signin")
		req, _ := http.NewRequest("POST", e.srv.URL+"/dashboard/signin", strings.NewReader(url.Values{
			"email": {"alice@example.com"}, "password": {alicePassword}, "csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// The jar would refuse a Secure cookie over http: send the sign-in cookie by hand.
		for _, c := range b.client.Jar.Cookies(mustURL(e.srv.URL + "/dashboard/signin")) {
			req.AddCookie(c)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// Over https the cookies take the __Host- prefix, which browsers
		// accept only with Secure, Path=/ and no Domain.
		name, path := "signet_dashboard", "/dashboard"
		if secure {
			name, path = "__Host-signet_dashboard", "/"
		}
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == name {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("secure=%v: no session cookie %s (status %d, cookies %v)", secure, name, resp.StatusCode, resp.Cookies())
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != secure || session.Path != path || session.Domain != "" {
			t.Errorf("secure=%v: session cookie %+v, want HttpOnly, SameSite=Lax, Secure=%v, Path=%s, no Domain", secure, session, secure, path)
		}
		// The store holds the id's SHA-256 digest, never the id.
		s, err := e.rt.Store.AdminSession(t.Context(), secret.Digest(session.Value))
		if err != nil || s.AdminID != e.alice.ID {
			t.Errorf("stored session by digest = %+v, %v", s, err)
		}
		if _, err := e.rt.Store.AdminSession(t.Context(), []byte(session.Value)); err == nil {
			t.Error("the session id itself finds a session")
		}
		// The cookie is read back under its name: the page opens.
		req, _ = http.NewRequest("GET", e.srv.URL+keysPage, nil)
		req.AddCookie(&http.Cookie{Name: name, Value: session.Value})
		if resp, err := http.DefaultTransport.RoundTrip(req); err != nil {
			t.Fatal(err)
		} else if resp.Body.Close(); resp.StatusCode != http.StatusOK {
			t.Errorf("secure=%v: GET %s with cookie %s = %d, want 200", secure, keysPage, name, resp.StatusCode)
		}
		// The sign-in form's double-submit cookie is named and scoped alike.
		resp, err = http.Get(e.srv.URL + "/dashboard/signin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		signInName, signInPath := "signet_dashboard_signin", "/dashboard/signin"
		if secure {
			signInName, signInPath = "__Host-signet_dashboard_signin", "/"
		}
		if cs := resp.Cookies(); len(cs) != 1 || cs[0].Name != signInName || cs[0].Path != signInPath || cs[0].Secure != secure || cs[0].Domain != "" {
			t.Errorf("secure=%v: sign-in form cookies %v, want one %s on Path=%s, Secure=%v", secure, cs, signInName, signInPath, secure)
		}
	}
}

func TestIdleTimeoutAndSignOut(t *testing.T) {
	e := newEnv(t, func(c *dashboard.Config) { c.IdleTimeout = 30 * time.Minute; c.MaxAge = 2 * time.Hour })
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	cookie := b.cookie("signet_dashboard")

	// Use keeps the session alive past the idle timeout…
	for range 5 {
		e.clock.Add(20 * time.Minute)
		if r := b.get(keysPage); r.status != http.StatusOK {
			t.Fatalf("GET after 20 idle minutes = %d, want 200", r.status)
		}
	}
	// …but not past its absolute lifetime.
	e.clock.Add(20 * time.Minute) // 120 minutes after sign-in
	if r := b.get(keysPage); r.status != http.StatusSeeOther {
		t.Fatalf("GET 2 h after sign-in = %d, want a redirect to sign-in", r.status)
	}
	if _, err := e.rt.Store.AdminSession(t.Context(), secret.Digest(cookie.Value)); err == nil {
		t.Error("an expired session is still stored after use")
	}

	// 30 idle minutes end a session.
	b.signIn("alice@example.com", alicePassword)
	e.clock.Add(30 * time.Minute)
	if r := b.get(keysPage); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/dashboard/signin") {
		t.Fatalf("GET after 30 idle minutes = %d → %q, want a redirect to sign-in", r.status, r.location())
	}

	// Sign-out ends the session everywhere: its cookie replayed is refused.
	b.signIn("alice@example.com", alicePassword)
	cookie = b.cookie("signet_dashboard")
	token := b.csrf(keysPage)
	r := b.post("/dashboard/signout", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther || r.location() != "/dashboard/signin?info=signed-out" {
		t.Fatalf("sign-out = %d → %q", r.status, r.location())
	}
	if b.cookie("signet_dashboard") != nil {
		t.Error("the session cookie survived sign-out")
	}
	if !strings.Contains(b.get("/dashboard/signin?info=signed-out").body, "You have signed out.") {
		t.Error("sign-in page does not confirm the sign-out")
	}
	replay := e.browser()
	replay.client.Jar.SetCookies(mustURL(e.srv.URL+"/dashboard/"), []*http.Cookie{cookie})
	if r := replay.get(keysPage); r.status != http.StatusSeeOther {
		t.Errorf("the signed-out session's cookie still works: %d", r.status)
	}
}

// TestSessionOnAnotherReplica signs in on one dashboard and uses the session
// on another sharing the store, as two replicas behind a load balancer.
func TestSessionOnAnotherReplica(t *testing.T) {
	e := newEnv(t)
	other := e.rt.Replica()
	if err := other.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(dashboard.Prefix, dashboard.New(dashboard.Config{Ring: other, Store: e.rt.Store, JWKSMaxAge: jwksMaxAge, Now: e.clock.Now}))
	replica := httptestServer(t, mux)

	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	token := b.csrf(keysPage)
	b.client.Jar.SetCookies(mustURL(replica+"/dashboard/"), []*http.Cookie{b.cookie("signet_dashboard")})
	ks := e.keyset("acme")
	next := ks.Next().KID
	form := url.Values{"csrf": {token}}
	req, _ := http.NewRequest("POST", replica+keysPage+"/rotate", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := b.do(req); r.status != http.StatusSeeOther || r.location() != keysPage {
		t.Fatalf("rotate on the other replica = %d → %q", r.status, r.location())
	}
	if ks := e.keyset("acme"); ks.Current().KID != next {
		got := ks.Current().KID
		t.Errorf("current after rotating on the other replica = %s, want %s", got, next)
	}
	// The notice stored by one replica is shown by the other.
	if page := b.get(keysPage).body; !strings.Contains(page, "Signing key rotated") {
		t.Error("the first replica does not show the notice the second stored")
	}
}

func TestCertificateDownloads(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	ks := e.keyset("acme")
	k := ks.Next()
	r := b.get(keysPage + "/" + k.KID + "/certificate.pem")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/x-pem-file" ||
		r.header.Get("Content-Disposition") != `attachment; filename="acme-`+k.KID+`.pem"` {
		t.Fatalf("PEM download = %d %v", r.status, r.header)
	}
	block, _ := pem.Decode([]byte(r.body))
	if block == nil || block.Type != "CERTIFICATE" || string(block.Bytes) != string(k.Certificate) {
		t.Fatalf("PEM download is not the key's certificate")
	}
	r = b.get(keysPage + "/" + k.KID + "/certificate.cer")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pkix-cert" {
		t.Fatalf("CER download = %d %v", r.status, r.header)
	}
	cert, err := x509.ParseCertificate([]byte(r.body))
	if err != nil || cert.Subject.CommonName != "acme.example.com" {
		t.Errorf("CER download: %v, CN %q", err, cert.Subject.CommonName)
	}
	if r := b.get(keysPage + "/nope/certificate.pem"); r.status != http.StatusNotFound {
		t.Errorf("unknown kid = %d, want 404", r.status)
	}
}

func TestPages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	token := b.csrf(keysPage)
	b.post(keysPage+"/rotate", url.Values{"csrf": {token}})
	ks := e.keyset("acme")
	var prev string
	for _, k := range ks.Keys {
		if k.State == signet.StatePrevious {
			prev = k.KID
		}
	}
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{keysPage, 200, []string{"Rotation Settings", "Rotate Key", "List of Valid Keys", "List of Revoked Keys",
			`data-dialog="rotate-dialog"`, "Yes, revoke the currently used signing key", `<dialog id="revoke-` + prev + `"`, "What the key states mean"}},
		{keysPage + "/rotate", 200, []string{"Rotate signing key?", ks.Next().KID, ks.Current().KID, `name="revoke_current"`,
			`<span class="if-kept">becomes previous`, `<span class="if-revoked">is revoked at once`}},
		{keysPage + "/" + prev + "/revoke", 200, []string{"Revoke key", prev, "stop being accepted"}},
		{keysPage + "/" + ks.Current().KID + "/revoke", 200, []string{"cannot be revoked", "Yes, revoke the currently used signing key"}},
		{keysPage + "/nope/revoke", 404, []string{"Signing key not found"}},
		{"/dashboard/tenants/acme/settings", 200, []string{"acme.example.com", "http://acme.example.com/", "RS256"}},
		{"/dashboard/tenants/acme/", 303, nil},
		{"/dashboard/nowhere", 404, []string{"Page not found"}},
		{"/dashboard/assets/dashboard.css", 200, []string{".badge"}},
		{"/dashboard/assets/theme.css", 200, []string{theme.CSS}},
		{"/dashboard/assets/dashboard.js", 200, []string{"showModal"}},
		{"/dashboard/assets/", 404, nil},
	} {
		r := b.get(tc.path)
		if r.status != tc.status {
			t.Errorf("GET %s = %d, want %d", tc.path, r.status, tc.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.body, w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
		if strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: pages must not be cached", tc.path)
		}
		for _, bad := range []string{"http://", "https://"} {
			// No external resources: only the tenant URLs on the General tab are absolute.
			if strings.Contains(r.body, `src="`+bad) || strings.Contains(r.body, `href="`+bad) {
				t.Errorf("GET %s refers to an external resource", tc.path)
			}
		}
	}

	// An admin granted nothing sees a page that says how to get access.
	e.createAdmin("adm-none", "none@example.com", "none's password")
	n := e.browser()
	n.signIn("none@example.com", "none's password")
	if r := n.get("/dashboard/"); r.status != 200 || !strings.Contains(r.body, "signet admins grant none@example.com") {
		t.Errorf("home of an admin without tenants = %d:\n%s", r.status, r.body)
	}
}

// TestNoSecretsInPages checks that no page or log carries a private key,
// a password or its hash.
func TestNoSecretsInPages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	var bodies []string
	for _, p := range []string{keysPage, keysPage + "/rotate", "/dashboard/tenants/acme/settings"} {
		bodies = append(bodies, b.get(p).body)
	}
	bodies = append(bodies, e.logs.String())
	ks := e.keyset("acme")
	for _, body := range bodies {
		for _, k := range ks.Keys {
			if strings.Contains(body, string(k.SealedPrivateKey)) {
				t.Error("a sealed private key in a page or log")
			}
		}
		for _, s := range []string{alicePassword, e.alice.PasswordHash, "PRIVATE KEY"} {
			if strings.Contains(body, s) {
				t.Errorf("%q in a page or log", s)
			}
		}
	}
	if !slices.ContainsFunc(strings.Split(e.logs.String(), "\n"), func(l string) bool { return strings.Contains(l, "signed in") }) {
		t.Error("sign-in not logged")
	}
}

// keyOf returns the key kid of ks, or the zero key.
func keyOf(ks signet.Keyset, kid string) signet.Key {
	k, _ := ks.Key(kid)
	return k
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	try := func(email, pw string) response {
		t.Helper()
		return b.post("/dashboard/signin", url.Values{"email": {email}, "password": {pw}, "csrf": {b.csrf("/dashboard/signin")}})
	}
	for i := range 10 {
		if r := try("Alice@example.com", "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d = %d, want 401", i+1, r.status)
		}
	}
	// The eleventh attempt is refused without a look at the password, the
	// right one included, whatever the case of the address.
	r := try("alice@example.com", alicePassword)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many failed sign-ins") {
		t.Fatalf("sign-in after 10 failures = %d %q", r.status, r.header.Get("Retry-After"))
	}
	// An unknown address is throttled alike: the answers tell nothing.
	for range 10 {
		try("nobody@example.com", "guess")
	}
	if r := try("nobody@example.com", "guess"); r.status != http.StatusTooManyRequests {
		t.Errorf("unknown address after 10 failures = %d, want 429", r.status)
	}
	// Other addresses are not affected.
	if r := try("bob@example.com", "bob's password"); r.status != http.StatusSeeOther {
		t.Errorf("bob's sign-in = %d", r.status)
	}
	// One attempt comes back a minute later.
	e.clock.Add(time.Minute)
	b = e.browser()
	b.signIn("alice@example.com", alicePassword)
}

// TestSignInThrottledPerIP checks the per-IP limit: failures on many
// addresses from one IP refuse every sign-in from it, the right password
// included, until an attempt refills.
func TestSignInThrottledPerIP(t *testing.T) {
	e := newEnv(t, func(c *dashboard.Config) {
		c.Limits = throttle.Limits{IPBurst: 3, IPEvery: 10 * time.Second}
	})
	b := e.browser()
	try := func(email, pw string) response {
		t.Helper()
		return b.post("/dashboard/signin", url.Values{"email": {email}, "password": {pw}, "csrf": {b.csrf("/dashboard/signin")}})
	}
	for _, email := range []string{"alice@example.com", "bob@example.com", "nobody@example.com"} {
		if r := try(email, "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in as %s = %d, want 401", email, r.status)
		}
	}
	r := try("bob@example.com", "bob's password")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "10" || !strings.Contains(r.body, "Try again in 10 seconds.") {
		t.Fatalf("sign-in from a throttled IP = %d Retry-After %q:\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	e.clock.Add(10 * time.Second)
	b.signIn("bob@example.com", "bob's password")
}
