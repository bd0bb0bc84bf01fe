package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/ringtest"
)

// TestFailedLoginLogs checks that failed and throttled sign-ins on the
// login page log the tenant and IP only, never what was typed: a password
// in the e-mail field, an address, a password.
func TestFailedLoginLogs(t *testing.T) {
	logs := &ringtest.Buffer{}
	e := newEnv(t, envOptions{logs: logs})
	e.user("alice@example.com", "correct horse")
	b := e.browser()
	typed := "Tr0ub4dor&3-typed-in-the-wrong-field"
	if r := b.login("/", typed, "x"); r.status != http.StatusUnauthorized {
		t.Fatalf("sign-in with a password as e-mail = %d", r.status)
	}
	for range 10 {
		b.login("/", "Alice@Example.com", "a-wrong-password")
	}
	if r := b.login("/", "Alice@Example.com", "a-wrong-password"); r.status != http.StatusTooManyRequests {
		t.Fatalf("11th failure = %d, want 429", r.status)
	}
	out := logs.String()
	for _, s := range []string{typed, "Alice@Example.com", "alice@example.com", "a-wrong-password"} {
		if strings.Contains(out, s) {
			t.Errorf("%q in the log:\n%s", s, out)
		}
	}
	for _, want := range []string{"wrong credentials", "rate limited", "ip=127.0.0.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the log:\n%s", want, out)
		}
	}
}
