package dashboard

import (
	"net/url"
	"path"
	"strings"
	"testing"
	"time"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/dashboard/", "/dashboard/"},
		{"/dashboard/tenants/acme/settings/signing-keys", "/dashboard/tenants/acme/settings/signing-keys"},
		{"/dashboard/switch?tenant=acme&tab=general", "/dashboard/switch?tenant=acme&tab=general"},
		{"", ""},
		{"/dashboard", ""},
		{"//evil.example/dashboard/", ""},
		{"https://evil.example/dashboard/", ""},
		{"/dashboard/../api/v2/keys/signing", ""},
		{"/dashboard/%2e%2e/api", ""},
		{"/dashboard/./x", ""},
		{"/dashboard/a//b", ""},
		{"/dashboard\\..\\x", ""},
		{"/dashboard/\r\nSet-Cookie: x=y", ""},
		{"/api/v2/", ""},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeNext checks that whatever next a sign-in form carries, the
// redirect after sign-in stays on the dashboard of this host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/dashboard/", "/dashboard/x?y=z#f", "//evil", "/dashboard/%2e%2e/", "/dashboard/\\x", "/dashboard/@evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "" {
			return
		}
		if got != next {
			t.Fatalf("safeNext(%q) = %q: it may only accept or refuse", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeNext accepted %q, which leaves the host (%+v, %v)", got, u, err)
		}
		// What a browser resolves it to against this host stays under /dashboard/.
		base, _ := url.Parse("http://signet.test/dashboard/signin")
		r := base.ResolveReference(u)
		if r.Host != "signet.test" || !strings.HasPrefix(path.Clean(r.Path)+"/", Prefix) {
			t.Fatalf("safeNext accepted %q, which resolves to %s", got, r)
		}
		if strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext accepted %q with a backslash or line break", got)
		}
	})
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "less than a second",
		999 * time.Millisecond:          "less than a second",
		time.Second:                     "1 second",
		45 * time.Second:                "45 seconds",
		5 * time.Minute:                 "5 minutes",
		time.Hour:                       "1 hour",
		2*time.Hour + 5*time.Minute:     "2 hours 5 minutes",
		30 * 24 * time.Hour:             "30 days",
		24*time.Hour + 59*time.Minute:   "1 day",
		59*time.Minute + 59*time.Second: "59 minutes",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
