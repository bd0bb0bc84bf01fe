package oauth_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
)

func TestJWKS(t *testing.T) {
	e := newEnv(t)
	v := e.view()
	tests := []struct {
		name        string
		method      string
		ifNoneMatch []string
		wantStatus  int
	}{
		{"get", http.MethodGet, nil, 200},
		{"head", http.MethodHead, nil, 200},
		{"matching etag", http.MethodGet, []string{v.ETag}, 304},
		{"weak matching etag", http.MethodGet, []string{"W/" + v.ETag}, 304},
		{"list with match", http.MethodGet, []string{`"abc", W/"def",` + v.ETag}, 304},
		{"match on second line", http.MethodGet, []string{`"abc"`, v.ETag}, 304},
		{"star", http.MethodGet, []string{"*"}, 304},
		{"head matching", http.MethodHead, []string{v.ETag}, 304},
		{"other etag", http.MethodGet, []string{`"other"`}, 200},
		{"prefix of etag", http.MethodGet, []string{v.ETag[:len(v.ETag)-2] + `"`}, 200},
		{"unquoted etag", http.MethodGet, []string{strings.Trim(v.ETag, `"`)}, 200},
		{"unterminated", http.MethodGet, []string{v.ETag[:len(v.ETag)-1]}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/.well-known/jwks.json", nil)
			for _, l := range tt.ifNoneMatch {
				r.Header.Add("If-None-Match", l)
			}
			rec := e.do(r)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			h := rec.Header()
			want := map[string]string{
				"Cache-Control":               "public, max-age=300, must-revalidate",
				"ETag":                        v.ETag,
				"Access-Control-Allow-Origin": "*",
			}
			if tt.wantStatus == 200 {
				want["Content-Type"] = "application/json; charset=utf-8"
			}
			for k, val := range want {
				if got := h.Get(k); got != val {
					t.Errorf("%s = %q, want %q", k, got, val)
				}
			}
			switch {
			case tt.wantStatus == 304 && rec.Body.Len() != 0:
				t.Errorf("304 with a body")
			case tt.wantStatus == 200 && tt.method == http.MethodGet && !bytes.Equal(rec.Body.Bytes(), v.JWKS):
				t.Errorf("body differs from the view's JWKS")
			}
		})
	}
	// The document lists current and next, with Auth0's members.
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(v.JWKS, &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("jwks = %s (%v)", v.JWKS, err)
	}
	if set.Keys[0]["kid"] != v.Current.KID {
		t.Errorf("first key %v, want current %s", set.Keys[0]["kid"], v.Current.KID)
	}
}

func TestJWKSMaxAgeAndRotation(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	newHandler(e, 42).Register(mux)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.checked(mux).ServeHTTP(rec, e.withTenant(httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil)))
		return rec
	}
	first := get()
	if got := first.Header().Get("Cache-Control"); got != "public, max-age=42, must-revalidate" {
		t.Errorf("Cache-Control = %q", got)
	}
	if _, err := e.ring.Rotate(context.Background(), "default", keyring.RotateOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	second := get()
	if second.Header().Get("ETag") == first.Header().Get("ETag") || bytes.Equal(first.Body.Bytes(), second.Body.Bytes()) {
		t.Errorf("JWKS unchanged after rotation")
	}
	if second.Header().Get("ETag") != e.view().ETag || second.Header().Get("Content-Length") != itoa(len(e.view().JWKS)) {
		t.Errorf("headers of the old view served after rotation: %v", second.Header())
	}
}

func TestCertificates(t *testing.T) {
	e := newEnv(t)
	v := e.view()
	der := v.Current.Certificate
	tests := []struct {
		path        string
		contentType string
		want        []byte
	}{
		{"/pem", "application/x-pem-file", []byte(keygen.CertPEM(der))},
		{"/pem/someclientid?cert=whatever", "application/x-pem-file", []byte(keygen.CertPEM(der))},
		{"/rawpem", "text/plain; charset=utf-8", []byte(keygen.RawPEM(der))},
		{"/cer", "application/pkix-cert", der},
		{"/cer/someclientid", "application/pkix-cert", der},
		{"/pb7", "application/x-pem-file", []byte(keygen.PKCS7(der))},
		{"/fingerprint", "text/plain; charset=utf-8", []byte(keygen.Fingerprint(der))},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := e.do(httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("no CORS header")
			}
			if !bytes.Equal(rec.Body.Bytes(), tt.want) {
				t.Errorf("body = %q, want %q", rec.Body, tt.want)
			}
		})
	}

	// /pem is CRLF PEM of the current certificate.
	rec := e.do(httptest.NewRequest(http.MethodGet, "/pem", nil))
	body := rec.Body.String()
	if !strings.HasPrefix(body, "-----BEGIN CERTIFICATE-----\r\n") || !strings.HasSuffix(body, "-----END CERTIFICATE-----") {
		t.Errorf("/pem = %q", body)
	}
	if b, _ := pem.Decode([]byte(body)); b == nil || !bytes.Equal(b.Bytes, der) {
		t.Errorf("/pem does not decode to the current certificate")
	}
	// /cer is DER of the current key's certificate, as an attachment.
	rec = e.do(httptest.NewRequest(http.MethodGet, "/cer", nil))
	cert, err := x509.ParseCertificate(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("/cer: %v", err)
	}
	if kid, err := keygen.KID(cert.PublicKey); err != nil || kid != v.Current.KID || !bytes.Equal(cert.Raw, der) {
		t.Errorf("/cer certificate is not the current key's (kid %s, want %s)", kid, v.Current.KID)
	}
	if got := rec.Header().Get("Content-Disposition"); got != `attachment; filename="default.cer"` {
		t.Errorf("Content-Disposition = %q", got)
	}

	// After a rotation /pem switches at once to the new current key.
	rot, err := e.ring.Rotate(context.Background(), "default", keyring.RotateOptions{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec = e.do(httptest.NewRequest(http.MethodGet, "/pem", nil))
	if rec.Body.String() != keygen.CertPEM(rot.Current.Certificate) || rot.Current.KID == v.Current.KID {
		t.Errorf("/pem did not switch to the new current key")
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	for _, h := range []string{host, aliasHost} {
		t.Run(h, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil)
			r.Host = h
			rec := e.do(r)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
				rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Cache-Control") == "" {
				t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
			}
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			iss := "http://" + h + "/"
			want := map[string]any{
				"issuer":                                iss,
				"jwks_uri":                              iss + ".well-known/jwks.json",
				"token_endpoint":                        iss + "oauth/token",
				"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
				"grant_types_supported":                 []any{"client_credentials"},
				"response_types_supported":              []any{"code"},
				"subject_types_supported":               []any{"public"},
				"id_token_signing_alg_values_supported": []any{"RS256"},
				"scopes_supported":                      []any{"openid"},
			}
			for k, w := range want {
				if g, _ := json.Marshal(doc[k]); string(g) != mustJSON(w) {
					t.Errorf("%s = %s, want %s", k, g, mustJSON(w))
				}
			}
		})
	}
}

func TestNoTenant(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/pem"} {
		rec := httptest.NewRecorder()
		e.serve.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil)) // no tenant in the context
		if rec.Code != 404 {
			t.Errorf("%s without tenant = %d, want 404", p, rec.Code)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
