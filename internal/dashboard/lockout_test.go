package dashboard_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/ringtest"
)

// browserFrom is a browser whose connections come from the loopback
// address ip (127.0.0.2, …), so that the server sees another client IP.
func (e *env) browserFrom(ip string) *browser {
	c := ringtest.Browser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.Transport = &http.Transport{DialContext: d.DialContext}
	e.t.Cleanup(c.CloseIdleConnections)
	return &browser{e: e, client: c}
}

// TestSignInNotLockedOut checks that an attacker's failures from one
// address do not lock the administrator out: after 10 failures from
// 127.0.0.1 the attacker is refused there, and the owner signs in from
// 127.0.0.2.
func TestSignInNotLockedOut(t *testing.T) {
	e := newEnv(t)
	attacker := e.browser()
	try := func(b *browser, email, pw string) response {
		t.Helper()
		return b.post("/dashboard/signin", url.Values{"email": {email}, "password": {pw}, "csrf": {b.csrf("/dashboard/signin")}})
	}
	for i := range 10 {
		if r := try(attacker, "alice@example.com", "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d = %d, want 401", i+1, r.status)
		}
	}
	if r := try(attacker, "alice@example.com", "guess"); r.status != http.StatusTooManyRequests {
		t.Fatalf("attacker's 11th attempt = %d, want 429", r.status)
	}
	e.browserFrom("127.0.0.2").signIn("alice@example.com", alicePassword)
	if !strings.Contains(e.logs.String(), "ip=127.0.0.2") {
		t.Errorf("the owner's sign-in did not come from 127.0.0.2:\n%s", e.logs)
	}
}
