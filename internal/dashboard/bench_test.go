package dashboard_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/dashboard"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/ringtest"
)

// BenchmarkSigningKeysPage measures a signed-in GET of the Signing Keys tab
// through a real HTTP round trip: session and admin lookups in SQLite,
// rendering, and the network stack of loopback.
func BenchmarkSigningKeysPage(b *testing.B) {
	rt := ringtest.New(b, ringtest.Options{Pool: pool, JWKSMaxAge: jwksMaxAge})
	if _, err := rt.Ring.CreateTenant(b.Context(), "acme", []string{"acme.example.com"}, "", "test"); err != nil {
		b.Fatal(err)
	}
	hash, _ := password.Hash(alicePassword)
	if err := rt.Store.CreateAdmin(b.Context(), signet.Admin{ID: "a", Email: "alice@example.com", PasswordHash: hash, Tenants: []string{"acme"}}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(dashboard.New(dashboard.Config{Ring: rt.Ring, Store: rt.Store, JWKSMaxAge: jwksMaxAge}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(srv.URL + "/dashboard/signin")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp, err = c.PostForm(srv.URL+"/dashboard/signin", url.Values{"email": {"alice@example.com"}, "password": {alicePassword},
		"csrf": {csrfField.FindStringSubmatch(string(body))[1]}})
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("sign-in: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Get(srv.URL + keysPage)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", err, resp.Status)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkPasswordCheck is the cost of one sign-in's Argon2id at the
// production parameters (the tests lower them).
func BenchmarkPasswordCheck(b *testing.B) {
	hash, _ := password.HashWith(productionParams, "correct horse battery staple")
	for b.Loop() {
		if ok, err := password.Verify(hash, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
