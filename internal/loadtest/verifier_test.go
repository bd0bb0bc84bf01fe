package loadtest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/loadtest"
)

func newVerifier(f *fleet, i int) *loadtest.Verifier {
	return loadtest.NewVerifier(loadtest.VerifierConfig{BaseURL: f.replicas[i].url, Host: host, Client: testClient,
		Issuers: []string{issuer}, Audience: audience})
}

// TestVerifierFollowsCacheControl walks a Verifier through the life of a
// cached JWKS: reused while fresh, untouched by a rotation whose key was
// already published as next, refetched once for an unknown kid, revalidated
// with a 304 when stale, and refusing a revoked key.
func TestVerifierFollowsCacheControl(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 1, time.Second)
	r := f.replicas[0]
	v := newVerifier(f, 0)
	want := func(step string, requests int64, stats loadtest.VerifierStats) {
		t.Helper()
		if got := r.requests.Load(); got != requests {
			t.Errorf("%s: %d JWKS requests, want %d", step, got, requests)
		}
		if got := v.Stats(); got != stats {
			t.Errorf("%s: stats %+v, want %+v", step, got, stats)
		}
	}
	verify := func(step, raw string) {
		t.Helper()
		if _, err := v.Verify(ctx, raw); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	first := f.token(t, 0)
	for range 5 {
		verify("fresh JWKS", first)
	}
	want("fresh JWKS", 1, loadtest.VerifierStats{Fetches: 1})

	rotate := func(revoke bool) {
		t.Helper()
		if _, err := r.ring.Rotate(ctx, "default", keyring.RotateOptions{RevokeCurrent: revoke, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	rotate(false) // the new current key was published as next: no fetch
	verify("after one rotation", f.token(t, 0))
	want("after one rotation", 1, loadtest.VerifierStats{Fetches: 1})

	rotate(false) // the new current key is one the cached JWKS never had
	verify("after two rotations", f.token(t, 0))
	want("after two rotations", 2, loadtest.VerifierStats{Fetches: 2, UnknownKID: 1})

	time.Sleep(1100 * time.Millisecond) // max-age=1 has passed
	verify("stale JWKS", first)
	want("stale JWKS", 3, loadtest.VerifierStats{Fetches: 2, NotModified: 1, UnknownKID: 1})

	rotate(true) // revokes the current key; the next one was published
	verify("after rotate-and-revoke", f.token(t, 0))
	want("after rotate-and-revoke", 3, loadtest.VerifierStats{Fetches: 2, NotModified: 1, UnknownKID: 1})
	verify("a previous key", first)
}

// TestVerifierRefusesRevokedKey checks that a revoked key's token fails with
// ErrUnknownKey once the cached JWKS is stale (max-age=0: always).
func TestVerifierRefusesRevokedKey(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 1, time.Nanosecond)
	v := newVerifier(f, 0)
	old := f.token(t, 0)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := f.replicas[0].ring.Rotate(ctx, "default", keyring.RotateOptions{RevokeCurrent: true, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	kid, err := v.Verify(ctx, old)
	if !errors.Is(err, loadtest.ErrUnknownKey) || kid == "" {
		t.Errorf("token of a revoked key: kid %q, %v; want ErrUnknownKey", kid, err)
	}
	if _, err := v.Verify(ctx, f.token(t, 0)); err != nil {
		t.Errorf("token of the new current key: %v", err)
	}
}

// TestVerifierRejects checks each kind of bad token.
func TestVerifierRejects(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 1, time.Minute)
	good := f.token(t, 0)
	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	// Another base64url character, so the signature still decodes but no
	// longer verifies. (Flipping a bit gave a character outside the
	// alphabet for A, Z, z, - and _, and a malformed token by chance.)
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	for _, tc := range []struct {
		name     string
		raw      string
		issuers  []string
		audience string
		want     error
	}{
		{"garbage", "not a token", nil, "", loadtest.ErrMalformed},
		{"alg none", "eyJhbGciOiJub25lIiwia2lkIjoiYSJ9.e30.", nil, "", loadtest.ErrMalformed},
		{"bad signature", parts[0] + "." + parts[1] + "." + string(sig), nil, "", loadtest.ErrSignature},
		{"unknown kid", "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ." + parts[1] + "." + parts[2], nil, "", loadtest.ErrUnknownKey},
		{"other issuer", good, []string{"https://elsewhere.example/"}, "", loadtest.ErrClaims},
		{"other audience", good, nil, "https://api.example/", loadtest.ErrClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadtest.VerifierConfig{BaseURL: f.replicas[0].url, Host: host, Client: testClient, Issuers: []string{issuer}, Audience: audience}
			if tc.issuers != nil {
				cfg.Issuers = tc.issuers
			}
			if tc.audience != "" {
				cfg.Audience = tc.audience
			}
			if _, err := loadtest.NewVerifier(cfg).Verify(ctx, tc.raw); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	v := loadtest.NewVerifier(loadtest.VerifierConfig{BaseURL: f.replicas[0].url + "/nowhere", Host: host, Client: testClient,
		Issuers: []string{issuer}, Audience: audience})
	if _, err := v.Verify(ctx, good); !errors.Is(err, loadtest.ErrJWKS) {
		t.Errorf("JWKS not found: %v, want ErrJWKS", err)
	}
}

// TestVerifierConcurrentUnknownKID verifies a token of a key the cache has
// never seen from many goroutines at once: every one succeeds.
func TestVerifierConcurrentUnknownKID(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 1, time.Minute)
	v := newVerifier(f, 0)
	if _, err := v.Verify(ctx, f.token(t, 0)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.replicas[0].ring.Rotate(ctx, "default", keyring.RotateOptions{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	raw := f.token(t, 0)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, raw); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.replicas[0].requests.Load(); n > 33 {
		t.Errorf("%d JWKS requests for 32 verifications", n)
	}
}
