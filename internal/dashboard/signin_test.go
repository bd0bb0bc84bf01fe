package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet"
)

// TestFailedSignInLogs checks that a failed or throttled sign-in logs the
// IP and a short hash of a well-formed address, never what was typed in
// the e-mail field (a password typed there, or an address).
func TestFailedSignInLogs(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	try := func(email, pw string) response {
		t.Helper()
		return b.post("/dashboard/signin", url.Values{"email": {email}, "password": {pw}, "csrf": {b.csrf("/dashboard/signin")}})
	}
	typed := "Tr0ub4dor&3-typed-in-the-wrong-field"
	if r := try(typed, "x"); r.status != http.StatusUnauthorized {
		t.Fatalf("sign-in with a password as e-mail = %d", r.status)
	}
	for range 10 {
		try("Alice@Example.com", "guess")
	}
	if r := try("Alice@Example.com", "guess"); r.status != http.StatusTooManyRequests {
		t.Fatalf("11th failure = %d, want 429", r.status)
	}
	logs := e.logs.String()
	for _, s := range []string{typed, "Alice@Example.com", "alice@example.com", "guess"} {
		if strings.Contains(logs, s) {
			t.Errorf("%q in the log:\n%s", s, logs)
		}
	}
	hash := signet.EmailLogHash("alice@example.com")
	for _, want := range []string{"sign-in failed", "sign-in throttled", "email_hash=" + hash, "ip=127.0.0.1"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %q in the log:\n%s", want, logs)
		}
	}
}
