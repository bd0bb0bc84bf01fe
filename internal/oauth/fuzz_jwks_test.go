package oauth_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzIfNoneMatch sends GET /.well-known/jwks.json with arbitrary
// If-None-Match field lines (the input split at '\n') and checks the answer
// against refNoneMatch, an independent reading of RFC 9110: 304 with no
// body exactly when the field matches the current ETag, else 200 with the
// exact JWKS bytes.
func FuzzIfNoneMatch(f *testing.F) {
	e := newEnv(f)
	v := e.view()
	etag := v.ETag
	opaque := strings.Trim(etag, `"`)
	for _, s := range []string{
		etag, "W/" + etag, "*", " * ", `"x", ` + etag, `"x",W/` + etag, `"x"` + "\n" + etag, ", ," + etag + ",",
		`"` + opaque, opaque, `"` + opaque + `x"`, `"x` + opaque + `"`, `"x"`, `W/"x"`, "w/" + etag, "W/W/" + etag,
		`"x", *`, "*, *", "*" + etag, etag + "junk", etag + etag, `"x"` + etag, "junk, " + etag, `junk"x, ` + etag,
		`"a,b", ` + etag, `"x` + "\n" + `", ` + etag, "\t" + etag + "\t", " ", ",", "", "\n", `"`, `""`, `W/`,
		`"` + opaque + "\x00\"", "\xff" + etag, "W/" + etag[:len(etag)-1], etag + ",\x7f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		r := httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil)
		var lines []string
		if field != "" {
			lines = strings.Split(field, "\n")
			r.Header["If-None-Match"] = lines
		}
		rec := e.do(r)
		if got := rec.Header().Get("ETag"); got != etag {
			t.Fatalf("ETag = %q, want %q", got, etag)
		}
		switch rec.Code {
		case http.StatusNotModified:
			if rec.Body.Len() != 0 {
				t.Fatalf("304 with a body")
			}
		case http.StatusOK:
			if !bytes.Equal(rec.Body.Bytes(), v.JWKS) {
				t.Fatalf("200 with a body that is not the JWKS: %q", rec.Body)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}

		match, valid := refNoneMatch(lines, etag)
		hit := rec.Code == http.StatusNotModified
		switch {
		case valid && hit != match:
			t.Fatalf("If-None-Match %q: status %d, want 304 = %v", lines, rec.Code, match)
		case !valid && hit && !strings.Contains(field, "*") && !strings.Contains(field, etag):
			// A malformed field may be read leniently (a server may skip
			// what it cannot parse), but never as a match of a tag the
			// client did not send.
			t.Fatalf("malformed If-None-Match %q: 304 though it holds neither * nor %s", lines, etag)
		}
	})
}

// refNoneMatch evaluates If-None-Match field lines against the strong entity
// tag etag by the book: the lines are combined into one field value (RFC 9110
// §5.3), which is either "*" or a list (§5.6.1, empty elements allowed) of
// entity-tags = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E /
// %x80-FF (§8.8.3), compared weakly (§8.8.3.2). valid reports whether the
// field is well formed; match is false when it is not.
func refNoneMatch(lines []string, etag string) (match, valid bool) {
	if len(lines) == 0 {
		return false, true
	}
	isOWS := func(c byte) bool { return c == ' ' || c == '\t' }
	value := strings.Join(lines, ", ")
	if strings.Trim(value, " \t") == "*" {
		return true, true
	}
	s := value
	for {
		// Empty list elements and the white space around them.
		for s != "" && (isOWS(s[0]) || s[0] == ',') {
			s = s[1:]
		}
		if s == "" {
			return match, true
		}
		s = strings.TrimPrefix(s, "W/")
		if s == "" || s[0] != '"' {
			return false, false
		}
		end := 1
		for end < len(s) && s[end] != '"' {
			c := s[end]
			if c < 0x21 || c == 0x7f {
				return false, false // not an etagc
			}
			end++
		}
		if end == len(s) {
			return false, false // unterminated
		}
		if s[:end+1] == etag { // weak comparison: the opaque tags are equal
			match = true
		}
		s = s[end+1:]
		for s != "" && isOWS(s[0]) {
			s = s[1:]
		}
		if s != "" && s[0] != ',' {
			return false, false // junk after a tag
		}
	}
}
