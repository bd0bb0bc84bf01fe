package oidc

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParseAuthorize feeds arbitrary queries to the /authorize parser: it
// never panics, and whatever it accepts satisfies the rules the handler
// relies on.
func FuzzParseAuthorize(f *testing.F) {
	for _, q := range []string{
		"client_id=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid+email&state=s&nonce=n",
		"client_id=abc&redirect_uri=https://app.example/cb&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"client_id=abc&redirect_uri=https://app.example/cb&response_type=code&prompt=none&max_age=0",
		"client_id=abc&client_id=def&redirect_uri=x",
		"client_id=abc&redirect_uri=https://app.example/cb#frag",
		"client_id=abc&redirect_uri=javascript:alert(1)",
		"client_id=a%00b&redirect_uri=https://x/",
		"client_id=abc&redirect_uri=https://app.example/cb&response_type=code&scope=a&scope=b",
		"client_id=abc&redirect_uri=https://app.example/cb&response_type=code&max_age=99999999999999999999",
		"%zz",
		"",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		ar, fatal, redirectErr := parseAuthorize(q)
		if fatal != nil {
			if redirectErr != nil {
				t.Fatal("both a fatal and a redirect error")
			}
			return
		}
		if ar.ClientID == "" || len(q["client_id"]) != 1 || len(q["redirect_uri"]) != 1 {
			t.Fatalf("accepted client_id %q, redirect_uri %q", q["client_id"], q["redirect_uri"])
		}
		u, err := url.Parse(ar.RedirectURI)
		if err != nil || u.Scheme == "" || u.Fragment != "" {
			t.Fatalf("accepted redirect_uri %q", ar.RedirectURI)
		}
		if redirectErr != nil {
			if redirectErr.Code == "" || redirectErr.Description == "" {
				t.Fatalf("empty error %+v", redirectErr)
			}
			return
		}
		if ar.ResponseType != "code" {
			t.Fatalf("accepted response_type %q", ar.ResponseType)
		}
		if ar.CodeChallenge != "" && !validChallenge(ar.CodeChallenge) {
			t.Fatalf("accepted code_challenge %q", ar.CodeChallenge)
		}
		if ar.CodeChallenge == "" && q.Get("code_challenge_method") != "" {
			t.Fatal("accepted a method without a challenge")
		}
		if ar.MaxAge < -1 {
			t.Fatalf("max_age %d", ar.MaxAge)
		}
		if slices.Contains(ar.Prompt, "none") && len(ar.Prompt) != 1 {
			t.Fatalf("prompt %q", ar.Prompt)
		}
		for i, s := range ar.Scope {
			if s == "" || strings.ContainsAny(s, " \t\n") || slices.Contains(ar.Scope[i+1:], s) {
				t.Fatalf("scope %q", ar.Scope)
			}
		}
		for name, vs := range q {
			if len(vs) > 1 && name != "unknown" && slices.Contains([]string{"state", "scope", "nonce", "response_type",
				"code_challenge", "code_challenge_method", "prompt", "max_age", "audience", "response_mode", "login_hint"}, name) {
				t.Fatalf("accepted repeated %s", name)
			}
		}
	})
}

// FuzzReturnPath checks the login page's return-path rule: whatever it
// accepts, a browser resolves against the provider to the provider itself.
func FuzzReturnPath(f *testing.F) {
	for _, p := range []string{"/authorize?a=b", "//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fevil",
		"/x?y=//z", "/\t/evil", "\\\\evil", "/.//evil", "/a/../../evil", "/@evil.example", "/;//evil"} {
		f.Add(p)
	}
	base, _ := url.Parse("https://idp.example/login")
	f.Fuzz(func(t *testing.T, p string) {
		if !validReturnPath(p) {
			if LoginURL(p) != loginPath {
				t.Fatalf("LoginURL kept the invalid %q", p)
			}
			return
		}
		ref, err := url.Parse(p)
		if err != nil {
			t.Fatalf("accepted unparsable %q", p)
		}
		if got := base.ResolveReference(ref); got.Host != "idp.example" || got.Scheme != "https" {
			t.Fatalf("accepted %q, which resolves to %s", p, got)
		}
		// Browsers treat "\" as "/" and strip tabs and newlines: none may
		// appear, nor "//" at the start.
		if strings.ContainsAny(p, "\\\t\r\n ") || strings.HasPrefix(p, "//") {
			t.Fatalf("accepted %q", p)
		}
		back, err := url.ParseQuery(strings.TrimPrefix(LoginURL(p), loginPath+"?"))
		if err != nil || back.Get("return_to") != p {
			t.Fatalf("LoginURL(%q) does not round-trip: %v", p, err)
		}
	})
}
