package oidc_test

import (
	"net"
	"net/http"
	"testing"
)

// TestLoginNotLockedOut checks that an attacker's 10 failures from one
// address lock the account at that address only: its owner signs in from
// another (127.0.0.2).
func TestLoginNotLockedOut(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	attacker := e.browser()
	for i := range 10 {
		if r := attacker.login("/", "alice@example.com", "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d", i+1, r.status)
		}
	}
	if r := attacker.login("/", "alice@example.com", "correct horse"); r.status != http.StatusTooManyRequests {
		t.Fatalf("attacker's 11th attempt = %d, want 429", r.status)
	}
	owner := e.browser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	owner.c.Transport = &http.Transport{DialContext: d.DialContext}
	if r := owner.login("/", "alice@example.com", "correct horse"); r.status != http.StatusSeeOther {
		t.Fatalf("owner from 127.0.0.2 = %d, want 303:\n%s", r.status, r.body)
	}
}
