package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDashboardAcrossReplicas signs in on one replica of a PostgreSQL fleet
// and uses the session on another, as behind a load balancer without sticky
// sessions: sessions, CSRF tokens and notices live in the database.
func TestDashboardAcrossReplicas(t *testing.T) {
	f := startFleet(t, 2)
	dash := f.creds.Dashboard
	if dash.Email == "" {
		t.Fatal("no dashboard credentials")
	}
	jar, _ := cookiejar.New(nil)
	c := hostClient(fleetHost)
	c.Jar = jar // keyed by 127.0.0.1: both replicas get the cookies
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(i int, method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, f.procs[i].url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	token := func(page string) string {
		t.Helper()
		m := signInToken.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token in:\n%s", page)
		}
		return m[1]
	}
	keysPage := "/dashboard/tenants/default/settings/signing-keys"

	// Sign in on replica 0.
	_, _, page := send(0, "GET", "/dashboard/signin", nil)
	if status, loc, body := send(0, "POST", "/dashboard/signin", url.Values{"email": {dash.Email}, "password": {dash.Password}, "csrf": {token(page)}}); status != http.StatusSeeOther || loc != "/dashboard/" {
		t.Fatalf("sign-in on replica 0 = %d → %q:\n%s", status, loc, body)
	}
	// Rotate on replica 1 with the session and CSRF token replica 1 derives.
	status, _, page := send(1, "GET", keysPage, nil)
	if status != http.StatusOK {
		t.Fatalf("replica 1 does not know the session: %d", status)
	}
	before := f.keys(t, 0)
	if status, loc, _ := send(1, "POST", keysPage+"/rotate", url.Values{"csrf": {token(page)}}); status != http.StatusSeeOther || loc != keysPage {
		t.Fatalf("rotate on replica 1 = %d → %q", status, loc)
	}
	// Replica 1 answers from its refreshed view at once; replica 0 learns of
	// the change through the feed (within a second).
	if after := f.keys(t, 1); *after[0].KID != *before[1].KID || !*after[0].Current {
		t.Errorf("after rotating on replica 1, its current key is %s, want the old next %s", *after[0].KID, *before[1].KID)
	}
	deadline := time.Now().Add(5 * time.Second)
	for after := f.keys(t, 0); *after[0].KID != *before[1].KID; after = f.keys(t, 0) {
		if time.Now().After(deadline) {
			t.Fatalf("replica 0's current key is still %s, want %s", *after[0].KID, *before[1].KID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Replica 0 shows the notice replica 1 stored, once.
	if _, _, page := send(0, "GET", keysPage, nil); !strings.Contains(page, "Signing key rotated") || !strings.Contains(page, *before[1].KID) {
		t.Error("replica 0 does not show the notice of the rotation made on replica 1")
	}
	// Sign out on replica 0 ends the session on replica 1 too.
	var session *http.Cookie
	for _, cookie := range jar.Cookies(&url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/dashboard/"}) {
		if cookie.Name == "signet_dashboard" {
			session = cookie
		}
	}
	_, _, page = send(0, "GET", keysPage, nil)
	if status, _, _ := send(0, "POST", "/dashboard/signout", url.Values{"csrf": {token(page)}}); status != http.StatusSeeOther {
		t.Fatalf("sign-out = %d", status)
	}
	jar.SetCookies(&url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/dashboard/"}, []*http.Cookie{session})
	if status, loc, _ := send(1, "GET", keysPage, nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/signin") {
		t.Errorf("the signed-out session's cookie on replica 1 = %d → %q, want a redirect to sign-in", status, loc)
	}
}
