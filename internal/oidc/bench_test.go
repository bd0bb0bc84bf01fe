package oidc_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/password"
)

// noLimits lets a benchmark fail sign-ins without being throttled.
var noLimits = oidc.Limits{AccountBurst: 1 << 30, AccountEvery: time.Nanosecond, IPBurst: 1 << 30, IPEvery: time.Nanosecond}

// BenchmarkLoginRefused times refused POST /login requests through the
// real server with the production Argon2id parameters: a wrong password for
// an existing user and any password for an unknown email should cost the
// same, so that timing does not tell whether an email is registered. Each
// iteration sends one of each, alternately, so both see the same machine
// load; it reports their mean times and the ratio unknown/wrong.
func BenchmarkLoginRefused(b *testing.B) {
	saved := password.Default
	password.Default = productionParams
	defer func() { password.Default = saved }()
	e := newEnv(b, envOptions{limits: noLimits})
	e.user("alice@example.com", "correct horse")
	br := e.browser()
	page := br.do("GET", "/login?return_to=%2F", nil)
	form := func(email string) url.Values {
		return url.Values{"csrf": {csrf(b, page.body)}, "return_to": {"/"}, "email": {email}, "password": {"wrong"}}
	}
	wrong, unknown := form("alice@example.com"), form("nobody@example.com")
	var tWrong, tUnknown time.Duration
	send := func(f url.Values) time.Duration {
		start := time.Now()
		if r := br.do("POST", "/login", f); r.status != 401 {
			b.Fatalf("status %d", r.status)
		}
		return time.Since(start)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			tWrong += send(wrong)
			tUnknown += send(unknown)
		} else {
			tUnknown += send(unknown)
			tWrong += send(wrong)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tWrong.Milliseconds())/n, "wrong-ms/op")
	b.ReportMetric(float64(tUnknown.Milliseconds())/n, "unknown-ms/op")
	b.ReportMetric(float64(tUnknown)/float64(tWrong), "unknown/wrong")
}

// BenchmarkCodeFlow times one silent sign-in (GET /authorize with a
// session) plus its code exchange (two RS256 signatures, the code's
// redemption and the first refresh token), and a refresh-token rotation.
func BenchmarkCodeFlow(b *testing.B) {
	e := newEnv(b, envOptions{})
	e.user("alice@example.com", "correct horse")
	clientID, sec := e.client(false)
	br := e.browser()
	br.codeFor(clientID, "", "openid") // signs in
	b.Run("authorize+exchange", func(b *testing.B) {
		for b.Loop() {
			code := br.codeFor(clientID, "", "openid email offline_access")
			if r := e.exchange(clientID, sec, code, ""); r.status != 200 {
				b.Fatalf("exchange %d %v", r.status, r.body)
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		rt := e.exchange(clientID, sec, br.codeFor(clientID, "", "openid offline_access"), "").str("refresh_token")
		for b.Loop() {
			r := e.refresh(clientID, sec, rt)
			if r.status != 200 {
				b.Fatalf("refresh %d %v", r.status, r.body)
			}
			rt = r.str("refresh_token")
		}
	})
}
