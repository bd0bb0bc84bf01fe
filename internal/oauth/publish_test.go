package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt/openapitest"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/ringtest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestCertificatesFollowSigning checks that /pem serves the certificate of
// the key that signs, which during keyring.Config.PublishDelay after a
// rotation is still the previous key, and switches with signing.
func TestCertificatesFollowSigning(t *testing.T) {
	ctx := context.Background()
	const delay = 2 * time.Second
	clk := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	re := ringtest.New(t, ringtest.Options{Pool: pool, Now: clk.Now, PublishDelay: delay})
	if _, err := re.Ring.CreateTenant(ctx, "default", []string{host}, "", "test"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	oauth.New(oauth.Config{Ring: re.Ring, Store: re.Store}).Register(mux)
	pem := func() string {
		t.Helper()
		if err := re.Ring.Refresh(ctx, "default"); err != nil {
			t.Fatal(err)
		}
		v, _ := re.Ring.View("default")
		r := httptest.NewRequest(http.MethodGet, "/pem", nil)
		r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: v, Issuer: issuer}))
		rec := httptest.NewRecorder()
		openapitest.New(t).Handler(t, mux).ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("/pem: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}

	clk.Add(time.Hour)
	first, err := re.Ring.Rotate(ctx, "default", keyring.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := re.Ring.Rotate(ctx, "default", keyring.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pem(); got != keygen.CertPEM(first.Current.Certificate) {
		t.Error("during the publish delay /pem does not serve the certificate of the key that signs (the previous one)")
	}
	clk.Add(delay)
	if got := pem(); got != keygen.CertPEM(second.Current.Certificate) {
		t.Error("after the publish delay /pem does not serve the current certificate")
	}
}
