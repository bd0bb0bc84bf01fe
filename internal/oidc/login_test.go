package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/theme"
)

func TestLoginAndSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	b := e.browser()
	if got := b.whoami(); got != "" {
		t.Fatalf("session before sign-in: %q", got)
	}

	page := b.do("GET", oidc.LoginURL("/authorize?client_id=x&state=a%20b"), nil)
	for _, want := range []string{`<label for="email">`, `<label for="password">`, `autocomplete="current-password"`, `lang="en"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	// The page has the dashboard's look, inlined in the one style element
	// the CSP admits by its nonce.
	m := regexp.MustCompile(`<style nonce="([^"]+)">`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(csp, "style-src 'nonce-"+m[1]+"'") || strings.Count(page.body, "<style") != 1 {
		t.Errorf("the login page's style element is not the one its CSP %q admits", csp)
	}
	if !strings.Contains(page.body, theme.CSS) {
		t.Error("the login page lacks the theme the dashboard uses")
	}
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}

	// Email is case-insensitive.
	r := b.login("/authorize?client_id=x&state=a%20b", "Alice@Example.COM", "correct horse")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/authorize?client_id=x&state=a%20b" {
		t.Fatalf("sign-in = %d Location %q, want 303 to the return path; %s", r.status, r.header.Get("Location"), r.body)
	}
	var sc *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "signet_session" {
			sc = c
		}
	}
	if sc == nil {
		t.Fatal("no session cookie")
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" || sc.MaxAge != int(oidc.DefaultSessionLifetime/time.Second) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, host-only, Max-Age of the session", sc)
	}
	if got := b.whoami(); got != "alice@example.com" {
		t.Fatalf("whoami = %q", got)
	}
	// The session id is stored only as a digest.
	if _, err := e.store.Session(context.Background(), "default", []byte(sc.Value), e.clock.Now()); err == nil {
		t.Error("the clear session id finds a session")
	}
	u, err := e.store.UserByEmail(context.Background(), "default", "alice@example.com")
	if err != nil || u.LoginsCount != 1 || u.LastLogin.IsZero() {
		t.Errorf("user after sign-in: %+v, %v", u, err)
	}

	// Another browser has no session.
	if got := e.browser().whoami(); got != "" {
		t.Errorf("another browser is signed in as %q", got)
	}

	// Sessions end at their absolute lifetime.
	e.clock.Add(oidc.DefaultSessionLifetime - time.Second)
	if b.whoami() == "" {
		t.Error("session ended early")
	}
	e.clock.Add(2 * time.Second)
	if got := b.whoami(); got != "" {
		t.Errorf("session outlived its lifetime: %q", got)
	}
}

func TestLoginWithoutReturnPath(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("bob@example.com", "pw-bob")
	b := e.browser()
	r := b.login("", "bob@example.com", "pw-bob")
	if r.status != 200 || !strings.Contains(r.body, "You are signed in as bob@example.com") {
		t.Fatalf("sign-in = %d %s", r.status, r.body)
	}
}

func TestLoginRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	blocked := e.user("mallory@example.com", "pw-mallory")
	if _, err := e.store.UpdateUser(context.Background(), "default", blocked.ID, func(u *signet.User) error {
		u.Blocked = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, email, pw string
		status          int
		message         string
	}{
		{"wrong password", "alice@example.com", "wrong", 401, "Wrong email or password."},
		{"unknown email", "nobody@example.com", "correct horse", 401, "Wrong email or password."},
		{"malformed email", "not an email", "correct horse", 401, "Wrong email or password."},
		{"empty password", "alice@example.com", "", 400, "Enter your email address and password."},
		{"blocked user", "mallory@example.com", "pw-mallory", 403, "Your account is blocked."},
	}
	var wrongBodies []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			r := b.login("/x", tt.email, tt.pw)
			if r.status != tt.status || !strings.Contains(r.body, tt.message) {
				t.Fatalf("sign-in = %d, want %d with %q; %s", r.status, tt.status, tt.message, r.body)
			}
			if b.whoami() != "" {
				t.Error("a refused sign-in started a session")
			}
			if tt.status == 401 {
				// Everything but the echoed email is the same page.
				body := strings.ReplaceAll(r.body, url.QueryEscape(tt.email), "")
				body = strings.ReplaceAll(body, tt.email, "")
				body = csrfField.ReplaceAllString(body, "")
				body = nonce.ReplaceAllString(body, "")
				wrongBodies = append(wrongBodies, body)
			}
		})
	}
	for _, b := range wrongBodies[1:] {
		if b != wrongBodies[0] {
			t.Errorf("wrong-password pages differ:\n%s\n---\n%s", wrongBodies[0], b)
		}
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	b := e.browser()
	page := b.do("GET", oidc.LoginURL("/a"), nil)
	token := csrf(t, page.body)
	form := func(csrf, returnTo string) url.Values {
		return url.Values{"csrf": {csrf}, "return_to": {returnTo}, "email": {"alice@example.com"}, "password": {"correct horse"}}
	}

	tests := []struct {
		name string
		b    *browser
		form url.Values
	}{
		{"no token", b, form("", "/a")},
		{"forged token", b, form(strings.Repeat("A", 43), "/a")},
		{"token of another return path", b, form(token, "/b")},
		{"token without the cookie (another browser)", e.browser(), form(token, "/a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.b.do("POST", "/login", tt.form)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "expired") {
				t.Fatalf("sign-in = %d %s, want 403", r.status, r.body)
			}
			if tt.b.whoami() != "" {
				t.Error("signed in without a valid CSRF token")
			}
		})
	}
	// The form the 403 page renders works.
	r := b.do("POST", "/login", form("", "/a"))
	r = b.do("POST", "/login", form(csrf(t, r.body), "/a"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-in with the re-rendered form = %d %s", r.status, r.body)
	}
}

func TestLoginOpenRedirect(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	evil := []string{
		"https://evil.example/",
		"http:evil.example",
		"//evil.example/",
		"/\\evil.example/",
		"\\\\evil.example",
		"/\t/evil.example",
		"/%2F/evil.example",
		"/%2f%2fevil.example",
		"/%5Cevil.example",
		" /x",
		"/x\r\nLocation: https://evil.example/",
		"javascript:alert(1)",
		"evil.example",
		"./x",
		"/" + strings.Repeat("a", 9000),
	}
	for _, rt := range evil {
		t.Run(rt[:min(len(rt), 30)], func(t *testing.T) {
			if got := oidc.LoginURL(rt); got != "/login" {
				t.Errorf("LoginURL(%q) = %q, want /login", rt, got)
			}
			b := e.browser()
			if r := b.do("GET", "/login?"+url.Values{"return_to": {rt}}.Encode(), nil); r.status != http.StatusBadRequest {
				t.Errorf("login page for %q = %d, want 400", rt, r.status)
			}
			// Even with a token computed for it, the POST refuses the path.
			p := b.do("GET", "/login", nil)
			r := b.do("POST", "/login", url.Values{"csrf": {csrf(t, p.body)}, "return_to": {rt},
				"email": {"alice@example.com"}, "password": {"correct horse"}})
			if r.status == http.StatusSeeOther {
				t.Fatalf("redirected to %q", r.header.Get("Location"))
			}
			if r.status != http.StatusBadRequest {
				t.Errorf("POST for %q = %d, want 400", rt, r.status)
			}
		})
	}
	for _, ok := range []string{"/", "/authorize?a=1&b=%2F%2Fx", "/samlp/abc?SAMLRequest=x%2By", "/a/b/../c"} {
		if got := oidc.LoginURL(ok); got == "/login" {
			t.Errorf("LoginURL(%q) dropped a valid path", ok)
		}
	}
}

func TestLoginRateLimits(t *testing.T) {
	limits := oidc.Limits{AccountBurst: 3, AccountEvery: time.Minute, IPBurst: 5, IPEvery: 10 * time.Second}
	e := newEnv(t, envOptions{limits: limits})
	e.user("alice@example.com", "correct horse")
	e.user("bob@example.com", "pw-bob")
	b := e.browser()

	// Per account: three failures, then even the right password is refused.
	for i := range 3 {
		if r := b.login("/", "alice@example.com", "guess"); r.status != 401 {
			t.Fatalf("failure %d = %d", i, r.status)
		}
	}
	r := b.login("/", "alice@example.com", "correct horse")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" ||
		!strings.Contains(r.body, "Too many failed sign-in attempts. Try again in 1 minute.") {
		t.Fatalf("sign-in after 3 failures = %d Retry-After %q; %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	// The message for an unknown account is the same once it is limited: no hint either way.
	// Another account from the same IP is still allowed (IP budget 5, 3 spent).
	if r := b.login("/", "bob@example.com", "pw-bob"); r.status != http.StatusSeeOther {
		t.Fatalf("another account = %d", r.status)
	}
	// A minute later one more attempt is allowed, and success refills the account.
	e.clock.Add(time.Minute)
	if r := b.login("/", "alice@example.com", "correct horse"); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in after waiting = %d %s", r.status, r.body)
	}
	for i := range 2 {
		if r := b.login("/", "alice@example.com", "guess"); r.status != 401 {
			t.Fatalf("failure %d after success = %d", i, r.status)
		}
	}

	// Per IP: failures on many accounts exhaust the IP's budget (5, refilled
	// by 6 in the 60 s that passed, capped at 5; 2 spent above).
	for i := range 3 {
		if r := b.login("/", "spray"+string(rune('a'+i))+"@example.com", "guess"); r.status != 401 {
			t.Fatalf("spray %d = %d", i, r.status)
		}
	}
	r = b.login("/", "bob@example.com", "pw-bob")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "10" {
		t.Fatalf("sign-in from a limited IP = %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	e.clock.Add(10 * time.Second)
	if r := b.login("/", "bob@example.com", "pw-bob"); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in after the IP refilled = %d", r.status)
	}
}

// TestLoginNamesApplication checks that the login page names the
// application the sign-in continues to, and only a registered one.
func TestLoginNamesApplication(t *testing.T) {
	e := newEnv(t, envOptions{})
	id, _ := e.client(false, "authorization_code")
	c, err := e.store.Client(context.Background(), "default", id)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	tests := []struct {
		returnTo, want string
	}{
		{"/authorize?client_id=" + id + "&state=s", "to continue to <strong>" + c.Name + "</strong>"},
		{"/samlp/" + id, "to continue to <strong>" + c.Name + "</strong>"},
		{"/authorize?client_id=nobody", "to continue to default"},
		{"/userinfo", "to continue to default"},
		{"", "to continue to default"},
	}
	for _, tt := range tests {
		target := "/login"
		if tt.returnTo != "" {
			target = oidc.LoginURL(tt.returnTo)
		}
		if page := b.do("GET", target, nil); !strings.Contains(page.body, tt.want) {
			t.Errorf("login for %q lacks %q", tt.returnTo, tt.want)
		}
	}
}
