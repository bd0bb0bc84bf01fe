package oauth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNoneMatchHit(t *testing.T) {
	const etag = `"abc"`
	tests := []struct {
		field string
		want  bool
	}{
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`*`, true},
		{` "x" , "abc"`, true},
		{`"x",W/"abc"`, true},
		{`"abcd"`, false},
		{`"ab"`, false},
		{`abc`, false},
		{`"abc`, false},
		{``, false},
		{`,,,`, false},
		{`W/`, false},
		{`junk, "abc"`, true},
	}
	for _, tt := range tests {
		if got := noneMatchHit([]string{tt.field}, etag); got != tt.want {
			t.Errorf("noneMatchHit(%q) = %v, want %v", tt.field, got, tt.want)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { noneMatchHit([]string{`"x", W/"abc"`}, etag) }); allocs != 0 {
		t.Errorf("noneMatchHit allocates %v times", allocs)
	}
}

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		header, id, secret string
		ok                 bool
	}{
		{"Basic " + enc("a:b"), "a", "b", true},
		{"basic " + enc("a%3Ab:c%2Bd+e"), "a:b", "c+d e", true},
		{"Basic " + enc("id:se:cret"), "id", "se:cret", true},
		{"Basic " + enc("id:100%"), "id", "100%", true}, // not encoded by the client: taken as is
		{"Basic " + enc("nocolon"), "", "", false},
		{"Basic ***", "", "", false},
		{"Bearer x", "", "", false},
		{"Basic", "", "", false},
	}
	for _, tt := range tests {
		id, sec, err := parseBasic(tt.header)
		if (err == nil) != tt.ok || id != tt.id || sec != tt.secret {
			t.Errorf("parseBasic(%q) = %q, %q, %v; want %q, %q, ok %v", tt.header, id, sec, err, tt.id, tt.secret, tt.ok)
		}
	}
}

// FuzzParseTokenRequest checks that no token request, however malformed,
// panics the parser, and that what it accepts is consistent.
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=a&client_secret=b&audience=x")
	f.Add("application/json", "", `{"grant_type":"client_credentials","client_id":"a","client_secret":"b","audience":"x","scope":"a b"}`)
	f.Add("application/x-www-form-urlencoded", "Basic YSUzQWI6YyUyQmQ=", "grant_type=client_credentials&audience=x")
	f.Add("application/json; charset=utf-8", "Basic !!", `{"client_id":1}`)
	f.Add("multipart/form-data; boundary=x", "basic", "--x--")
	f.Add("", "Bearer abc", "a=%zz&b=1&b=2")
	f.Add("application/json", "", `null`)
	f.Add("application/json", "", `{"grant_type":null}`)
	f.Fuzz(func(t *testing.T, contentType, auth, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		if contentType != "" {
			r.Header["Content-Type"] = []string{contentType}
		}
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		tr, oe := parseTokenRequest(r)
		if oe != nil {
			if oe.Code == "" || oe.Description == "" || oe.Status < 400 || oe.Status > 499 {
				t.Fatalf("bad error %+v", oe)
			}
			if !utf8.ValidString(oe.Description) && utf8.ValidString(body+auth+contentType) {
				t.Fatalf("error description not UTF-8: %q", oe.Description)
			}
			return
		}
		if tr.Basic && auth == "" {
			t.Fatalf("Basic without an Authorization header")
		}
		if tr.ScopeSet != (strings.TrimSpace(tr.Scope) != "") {
			t.Fatalf("ScopeSet %v for scope %q", tr.ScopeSet, tr.Scope)
		}
	})
}
