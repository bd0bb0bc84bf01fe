package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
)

// proposed finds the bulk revocation's proposed time on a page.
var proposed = regexp.MustCompile(`name="before" type="datetime-local" step="[^"]*" required value="([^"]+)"`)

// TestGrowthNoticeAndRevokePrevious rotates tenant acme six times, a minute
// apart: the Signing Keys tab warns about the JWKS growth at six previous
// keys, not five, and offers the bulk revocation. A POST without a valid
// CSRF token, with a bad time or a time before every key changes nothing;
// the confirmed form revokes exactly the previous keys that stopped signing
// before the chosen time, each audited like a single revocation by
// admin:alice@example.com, and the notice names them.
func TestGrowthNoticeAndRevokePrevious(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice@example.com", alicePassword)
	const growth = "The JWKS keeps growing"

	var prev []signet.Key // previous keys, oldest first
	for i := range 6 {
		e.clock.Add(time.Minute)
		rot, err := e.rt.Ring.Rotate(t.Context(), "acme", keyring.RotateOptions{Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		prev = append(prev, rot.Previous)
		page := b.get(keysPage).body
		if n := i + 1; n <= 5 && strings.Contains(page, growth) {
			t.Errorf("%d previous keys: the page warns about growth", n)
		}
	}
	page := b.get(keysPage).body
	for _, want := range []string{growth, html.EscapeString("6 previous signing keys, more than 5"), "revoke_previous_after",
		`<dialog id="revoke-previous-dialog"`, `action="` + keysPage + `/revoke-previous"`,
		// The proposed cutoff keeps the most recent previous key.
		`value="` + prev[5].CurrentUntil.UTC().Format("2006-01-02T15:04:05.000") + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page with 6 previous keys lacks %q", want)
		}
	}
	if r := b.get(keysPage + "/revoke-previous"); r.status != http.StatusOK ||
		!strings.Contains(r.body, "Revoke old previous keys?") || !strings.Contains(r.body, prev[0].KID) {
		t.Errorf("GET the confirmation page = %d:\n%s", r.status, r.body)
	}

	token := b.csrf(keysPage + "/revoke-previous")
	cutoff := prev[3].CurrentUntil.UTC().Format("2006-01-02T15:04:05")
	before, evs := e.keyset("acme"), len(e.events("acme"))
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"missing CSRF token", url.Values{"before": {cutoff}}, nil},
		{"wrong CSRF token", url.Values{"before": {cutoff}, "csrf": {"x" + token[1:]}}, nil},
		{"cross-site", url.Values{"before": {cutoff}, "csrf": {token}}, []string{"Origin", "https://evil.example"}},
	} {
		r := b.post(keysPage+"/revoke-previous", tc.form, tc.header...)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "nothing was changed") {
			t.Errorf("%s = %d, want 403 saying nothing changed", tc.name, r.status)
		}
		e.unchanged(t, "acme", before, evs)
	}
	for _, tc := range []struct{ before, notice string }{
		{"yesterday", "Enter the time as YYYY-MM-DD HH:MM (UTC)"},
		{"", "Enter the time as YYYY-MM-DD HH:MM (UTC)"},
		{prev[0].CurrentUntil.UTC().Format("2006-01-02T15:04"), "No previous key stopped signing before"},
	} {
		r := b.post(keysPage+"/revoke-previous", url.Values{"before": {tc.before}, "csrf": {token}})
		if r.status != http.StatusSeeOther || r.location() != keysPage {
			t.Fatalf("before=%q = %d → %q", tc.before, r.status, r.location())
		}
		e.unchanged(t, "acme", before, evs)
		if page := b.get(keysPage).body; !strings.Contains(page, "Nothing was changed") || !strings.Contains(page, tc.notice) {
			t.Errorf("before=%q: no notice %q", tc.before, tc.notice)
		}
	}

	// Confirmed: the three keys that stopped signing before prev[3] did.
	r := b.post(keysPage+"/revoke-previous", url.Values{"before": {cutoff}, "csrf": {token}})
	if r.status != http.StatusSeeOther || r.location() != keysPage {
		t.Fatalf("revoke previous = %d → %q:\n%s", r.status, r.location(), r.body)
	}
	after := e.keyset("acme")
	for i, k := range prev {
		want := signet.StatePrevious
		if i < 3 {
			want = signet.StateRevoked
		}
		if got := keyOf(after, k.KID).State; got != want {
			t.Errorf("key %d (%s) is %s, want %s", i, k.KID, got, want)
		}
	}
	if after.Current().KID != before.Current().KID || after.Next().KID != before.Next().KID {
		t.Error("the current or next key changed")
	}
	for _, k := range before.Keys {
		if k.State == signet.StateRevoked && !keyOf(after, k.KID).RevokedAt.Equal(k.RevokedAt) {
			t.Errorf("key %s revoked before was touched", k.KID)
		}
	}
	all := e.events("acme")
	if len(all) != evs+3 {
		t.Fatalf("%d new audit events, want 3", len(all)-evs)
	}
	var got []string
	for _, ev := range all[:3] {
		if ev.Type != signet.EventKeyRevoked || ev.Actor != "admin:alice@example.com" {
			t.Errorf("audit event %+v, want a revocation by admin:alice@example.com", ev)
		}
		got = append(got, ev.KID)
	}
	slices.Sort(got)
	want := []string{prev[0].KID, prev[1].KID, prev[2].KID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("revocation events for %q, want %q", got, want)
	}
	for _, k := range prev[:3] {
		if _, ok := e.view("acme").VerifyKey(k.KID); ok {
			t.Errorf("the ring still accepts revoked key %s", k.KID)
		}
	}
	page = b.get(keysPage).body
	if !strings.Contains(page, "3 previous signing keys revoked") || strings.Contains(page, growth) {
		t.Error("page after the bulk revocation: no notice, or still the growth warning")
	}
	for _, k := range prev[:3] {
		if !strings.Contains(page, "<li><code>"+k.KID+"</code></li>") {
			t.Errorf("the notice does not name %s", k.KID)
		}
	}

	// The proposed time keeps only the most recent previous key, also when
	// keys were rotated out less than a second apart.
	for range 2 {
		e.clock.Add(300 * time.Millisecond)
		if _, err := e.rt.Ring.Rotate(t.Context(), "acme", keyring.RotateOptions{Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
	m := proposed.FindStringSubmatch(b.get(keysPage).body)
	if m == nil {
		t.Fatal("no proposed time on the page")
	}
	if r := b.post(keysPage+"/revoke-previous", url.Values{"before": {m[1]}, "csrf": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke previous with the proposed time = %d", r.status)
	}
	if ks := e.keyset("acme"); len(ks.Published()) != 3 {
		t.Errorf("after revoking with the proposed time %s, %d previous keys are published, want 1", m[1], len(ks.Published())-2)
	}

	// Another tenant's keys are out of reach.
	rival, rivalEvs := e.keyset("rival"), len(e.events("rival"))
	if r := b.post("/dashboard/tenants/rival/settings/signing-keys/revoke-previous",
		url.Values{"before": {"2999-01-01T00:00"}, "csrf": {token}}); r.status != http.StatusForbidden {
		t.Errorf("bulk revoke of rival's keys by alice = %d, want 403", r.status)
	}
	e.unchanged(t, "rival", rival, rivalEvs)
}
