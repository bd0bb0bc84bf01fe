package signet_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/signet-auth/signet"
)

// redirectURLs are URLs a client may register as a callback or logout URL
// (ok) or not, with the scheme a browser reads from each.
var redirectURLs = []struct {
	url, scheme string
	ok          bool
}{
	{"https://app.example/callback", "https", true},
	{"http://127.0.0.1:3000/cb?x=1", "http", true},
	{"HTTPS://APP.EXAMPLE/", "https", true},
	{"com.example.app://callback", "com.example.app", true},
	{"myapp:/cb", "myapp", true},
	{"x-app+v1.2://cb", "x-app+v1.2", true},
	{"/relative/path", "", true},
	{"", "", true},
	{"javascript", "", true},                // no colon: a relative path
	{"javascript%3Aalert(1)", "", true},     // escaped colon: a relative path
	{"%6Aavascript:alert(1)", "", true},     // browsers do not decode a scheme
	{"java script:alert(1)", "", true},      // a space inside is not removed
	{"ｊavascript:alert(1)", "", true},       // not ASCII: no scheme
	{"1javascript:alert(1)", "", true},      // a scheme starts with a letter
	{"javascript&colon;alert(1)", "", true}, // an entity is not decoded in a URL
	{"https://x.example/?next=javascript:alert(1)", "https", true},

	{"javascript:alert(1)", "javascript", false},
	{"JavaScript:alert(1)", "javascript", false},
	{"JAVASCRIPT:alert(1)", "javascript", false},
	{"  javascript:alert(1)", "javascript", false},
	{"\x00javascript:alert(1)", "javascript", false},
	{"\x01\x1f javascript:alert(1)", "javascript", false},
	{"\tjavascript:alert(1)", "javascript", false},
	{"java\tscript:alert(1)", "javascript", false},
	{"java\nscript:alert(1)", "javascript", false},
	{"j\ra\nv\ta\tscript\n:alert(1)", "javascript", false},
	{"javascript://%0aalert(1)", "javascript", false},
	{"data:text/html,<script>alert(1)</script>", "data", false},
	{"DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data", false},
	{" data:,x", "data", false},
	{"vbscript:msgbox(1)", "vbscript", false},
	{"VBScript:msgbox(1)", "vbscript", false},
	{"file:///etc/passwd", "file", false},
	{"FILE://server/share", "file", false},
	{"fi\nle:///etc/passwd", "file", false},
}

func TestCheckRedirectURL(t *testing.T) {
	for _, tc := range redirectURLs {
		if got := signet.BrowserScheme(tc.url); got != tc.scheme {
			t.Errorf("BrowserScheme(%q) = %q, want %q", tc.url, got, tc.scheme)
		}
		err := signet.CheckRedirectURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckRedirectURL(%q) = %v, want ok %v", tc.url, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, signet.ErrInvalid) || !strings.Contains(signet.ErrorMessage(err), tc.scheme+":") {
			t.Errorf("CheckRedirectURL(%q) = %v, want EINVALID naming %s:", tc.url, err, tc.scheme)
		}
	}
}

// browserNormal is what the WHATWG URL parser reads a scheme from: s
// without leading C0 controls and spaces, and without tabs and newlines.
func browserNormal(s string) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r <= ' ' })
	return strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
}

// FuzzCheckRedirectURL checks that nothing a browser would read as a
// refused scheme passes, and that BrowserScheme returns a lower-case scheme
// that s, as a browser reads it, starts with.
func FuzzCheckRedirectURL(f *testing.F) {
	for _, tc := range redirectURLs {
		f.Add(tc.url)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm := strings.ToLower(browserNormal(s))
		err := signet.CheckRedirectURL(s)
		for _, bad := range []string{"javascript:", "data:", "vbscript:", "file:"} {
			if strings.HasPrefix(norm, bad) && err == nil {
				t.Fatalf("CheckRedirectURL(%q) = nil; a browser reads %s", s, bad)
			}
		}
		scheme := signet.BrowserScheme(s)
		if scheme == "" {
			return
		}
		if scheme != strings.ToLower(scheme) || !strings.HasPrefix(norm, scheme+":") {
			t.Fatalf("BrowserScheme(%q) = %q, not the lower-case start of %q", s, scheme, norm)
		}
		if err != nil && !strings.Contains(signet.ErrorMessage(err), scheme+":") {
			t.Fatalf("CheckRedirectURL(%q) = %v, not naming %s:", s, err, scheme)
		}
	})
}
