package keyring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
)

func TestCreateTenant(t *testing.T) {
	ctx := context.Background()
	env := ringtest.New(t, ringtest.Options{PoolSize: 2})
	r, store := env.Ring, env.Store
	if _, err := r.CreateTenant(ctx, "default", []string{"Localhost:8080", "127.0.0.1:8080"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	v, ok := r.ViewByHost("LOCALHOST:8080")
	if !ok || v.Tenant.Name != "default" {
		t.Fatal("host lookup is not case-insensitive")
	}
	if _, ok := r.ViewByHost("localhost:9090"); ok {
		t.Error("an unknown host resolved to a tenant")
	}
	if got := r.Issuers(v); len(got) != 2 || got[0] != "http://localhost:8080/" {
		t.Errorf("Issuers = %v", got)
	}
	rss, err := store.ResourceServers(ctx, "default")
	if err != nil || len(rss) != 1 || !rss[0].System || rss[0].Identifier != "http://localhost:8080/api/v2/" {
		t.Fatalf("management API resource server = %+v, %v", rss, err)
	}
	var jwks struct{ Keys []map[string]any }
	if err := json.Unmarshal(v.JWKS, &jwks); err != nil || len(jwks.Keys) != 2 {
		t.Fatalf("JWKS of a new tenant: %v %s", err, v.JWKS)
	}
	if jwks.Keys[0]["kid"] != v.Current.KID || jwks.Keys[1]["kid"] != v.Keyset.Next().KID {
		t.Error("JWKS does not list current then next")
	}

	tests := []struct {
		name  string
		tname string
		hosts []string
		alg   string
		want  error
	}{
		{"name taken", "default", []string{"other:1"}, "", signet.ErrConflict},
		{"host taken", "acme", []string{"127.0.0.1:8080"}, "", signet.ErrConflict},
		{"bad name", "A!", []string{"a:1"}, "", signet.ErrInvalid},
		{"no host", "acme", nil, "", signet.ErrInvalid},
		{"bad host", "acme", []string{"a/b"}, "", signet.ErrInvalid},
		{"bad alg", "acme", []string{"acme:1"}, "HS256", signet.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.CreateTenant(ctx, tt.tname, tt.hosts, tt.alg, "test"); !errors.Is(err, tt.want) {
				t.Errorf("CreateTenant = %v, want %v", err, tt.want)
			}
		})
	}
	if ts, _ := store.Tenants(ctx); len(ts) != 1 {
		t.Errorf("refused creations left %d tenants", len(ts))
	}
}

func TestRotateAndRevoke(t *testing.T) {
	ctx := context.Background()
	r := ringtest.New(t, ringtest.Options{PoolSize: 2}).Ring
	if _, err := r.CreateTenant(ctx, "default", []string{"localhost:8080"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	v0, _ := r.View("default")
	rot, err := r.Rotate(ctx, "default", keyring.RotateOptions{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := r.View("default")
	if rot.Current.KID != v0.Keyset.Next().KID || v1.Current.KID != rot.Current.KID {
		t.Fatal("rotation did not promote the next key into the view")
	}
	if v1.ETag == v0.ETag {
		t.Error("ETag unchanged after rotation")
	}
	if _, ok := v1.VerifyKey(v0.Current.KID); !ok {
		t.Error("the previous key no longer verifies before revocation")
	}
	checkJWKS(t, v1, v1.Current.KID, v1.Keyset.Next().KID, v0.Current.KID)

	for _, tt := range []struct {
		kid  string
		want error
	}{
		{v1.Current.KID, signet.ErrRevokeCurrent},
		{v1.Keyset.Next().KID, signet.ErrRevokeNext},
		{"unknown", signet.ErrKeyNotFound},
	} {
		if _, err := r.Revoke(ctx, "default", tt.kid, "test"); !errors.Is(err, tt.want) {
			t.Errorf("Revoke(%s) = %v, want %v", tt.kid, err, tt.want)
		}
	}
	if _, err := r.Revoke(ctx, "default", v0.Current.KID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Revoke(ctx, "default", v0.Current.KID, "test"); !errors.Is(err, signet.ErrAlreadyRevoked) {
		t.Errorf("second revoke = %v, want ErrAlreadyRevoked", err)
	}
	v2, _ := r.View("default")
	if _, ok := v2.VerifyKey(v0.Current.KID); ok {
		t.Error("a revoked key still verifies")
	}
	checkJWKS(t, v2, v2.Current.KID, v2.Keyset.Next().KID)

	// Rotate-and-revoke: the key that was current is revoked at once.
	rot, err = r.Rotate(ctx, "default", keyring.RotateOptions{RevokeCurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	v3, _ := r.View("default")
	if rot.Previous.State != signet.StateRevoked {
		t.Errorf("previous key state = %s, want revoked", rot.Previous.State)
	}
	if _, ok := v3.VerifyKey(v2.Current.KID); ok {
		t.Error("the key revoked by rotate-and-revoke still verifies")
	}
	if _, err := r.Rotate(ctx, "nobody", keyring.RotateOptions{}); !errors.Is(err, signet.ErrTenantNotFound) {
		t.Errorf("rotate unknown tenant = %v", err)
	}
}

// checkJWKS checks that v.JWKS lists exactly kids, in order, and is byte for
// byte what go-jose marshals for those keys.
func checkJWKS(t *testing.T, v *keyring.View, kids ...string) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(v.JWKS, &set); err != nil {
		t.Fatalf("JWKS does not parse: %v\n%s", err, v.JWKS)
	}
	var got []string
	for _, k := range set.Keys {
		got = append(got, k.KeyID)
	}
	if !slices.Equal(got, kids) {
		t.Errorf("JWKS kids = %v, want %v", got, kids)
	}
	var want jose.JSONWebKeySet
	for _, k := range v.Keyset.Published() {
		jwk, err := keygen.JWK(k)
		if err != nil {
			t.Fatal(err)
		}
		want.Keys = append(want.Keys, jwk)
	}
	b, _ := json.Marshal(want)
	if !bytes.Equal(b, v.JWKS) {
		t.Errorf("JWKS differs from go-jose's marshalling:\n got %s\nwant %s", v.JWKS, b)
	}
}

func TestRotateIdempotent(t *testing.T) {
	ctx := context.Background()
	env := ringtest.New(t, ringtest.Options{PoolSize: 12})
	r, store := env.Ring, env.Store
	if _, err := r.CreateTenant(ctx, "default", []string{"localhost:8080"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	// Ten concurrent retries of one request rotate once and all answer alike.
	var wg sync.WaitGroup
	results := make([]keyring.Rotation, 10)
	errs := make([]error, 10)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = r.Rotate(ctx, "default", keyring.RotateOptions{IdempotencyKey: "req-1"})
		})
	}
	wg.Wait()
	replayed := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("retry %d: %v", i, errs[i])
		}
		if results[i].Current.KID != results[0].Current.KID {
			t.Errorf("retry %d answered %s, first %s", i, results[i].Current.KID, results[0].Current.KID)
		}
		if results[i].Replayed {
			replayed++
		}
	}
	if replayed != 9 {
		t.Errorf("%d replays, want 9", replayed)
	}
	evs, _ := store.Events(ctx, "default", signet.EventFilter{Type: signet.EventKeyRotated})
	if len(evs) != 1 {
		t.Errorf("%d rotations recorded, want 1", len(evs))
	}
	// Another key rotates again.
	if rot, err := r.Rotate(ctx, "default", keyring.RotateOptions{IdempotencyKey: "req-2"}); err != nil || rot.Replayed {
		t.Errorf("new idempotency key: %+v %v", rot.Replayed, err)
	}
}

func TestRotateWarnsOnYoungNextKey(t *testing.T) {
	// The policy is not settable through the API yet; a zero MinNextAge never warns.
	ctx := context.Background()
	r := ringtest.New(t, ringtest.Options{PoolSize: 2}).Ring
	if _, err := r.CreateTenant(ctx, "default", []string{"localhost:8080"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	rot, err := r.Rotate(ctx, "default", keyring.RotateOptions{})
	if err != nil || rot.Warning != "" {
		t.Errorf("Rotate = %q, %v", rot.Warning, err)
	}
}

// change is one call of keyring.Config.OnChange.
type change struct{ change, actorKind string }

// changeLog records OnChange calls.
type changeLog struct {
	mu    sync.Mutex
	calls []change
}

func (l *changeLog) record(c, a string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, change{c, a})
}

// take returns the calls since the last take.
func (l *changeLog) take() []change {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// TestOnChange checks that every committed key change, and nothing else, is
// reported once with its kind and actor kind.
func TestOnChange(t *testing.T) {
	ctx := context.Background()
	clk := ringtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var log changeLog
	r := ringtest.New(t, ringtest.Options{PoolSize: 8, Now: clk.Now, OnChange: log.record}).Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.example"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	first, _ := r.View("acme")
	day := 24 * time.Hour
	steps := []struct {
		name string
		do   func() error
		want []change
	}{
		{"create tenant", func() error { return nil }, nil},
		{"rotate by the cli", func() error {
			_, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "cli"})
			return err
		}, []change{{"rotate", "cli"}}},
		{"rotate and revoke by a client", func() error {
			_, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-1", RevokeCurrent: true})
			return err
		}, []change{{"rotate_and_revoke", "api"}}},
		{"revoke by a client", func() error {
			_, err := r.Revoke(ctx, "acme", first.Current.KID, "client-1")
			return err
		}, []change{{"revoke", "api"}}},
		{"refused revoke", func() error {
			if _, err := r.Revoke(ctx, "acme", first.Current.KID, "cli"); !errors.Is(err, signet.ErrAlreadyRevoked) {
				return fmt.Errorf("second revoke = %v, want ErrAlreadyRevoked", err)
			}
			return nil
		}, nil},
		{"idempotent rotate", func() error {
			_, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-1", IdempotencyKey: "req-1"})
			return err
		}, []change{{"rotate", "api"}}},
		{"replayed rotate", func() error {
			rot, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-1", IdempotencyKey: "req-1"})
			if err == nil && !rot.Replayed {
				return errors.New("the retry rotated again")
			}
			return err
		}, nil},
		{"policy set", func() error {
			_, err := r.UpdatePolicy(ctx, "acme", signet.Policy{RotationPeriod: day, RevokePreviousAfter: time.Hour}, "test")
			return err
		}, nil},
		// One previous key (current before the idempotent rotation) is past
		// its grace; the rotation makes another previous key, not yet.
		{"policy rotates and revokes", func() error {
			clk.Add(day)
			r.EnforcePolicies(ctx)
			return nil
		}, []change{{"rotate", "policy"}, {"revoke", "policy"}}},
		{"policy has nothing due", func() error {
			clk.Add(time.Minute)
			r.EnforcePolicies(ctx)
			return nil
		}, nil},
		{"policy revokes the second previous key", func() error {
			clk.Add(time.Hour)
			r.EnforcePolicies(ctx)
			return nil
		}, []change{{"revoke", "policy"}}},
	}
	for _, st := range steps {
		clk.Add(time.Minute)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := log.take(); !slices.Equal(got, st.want) {
			t.Errorf("%s: OnChange calls %v, want %v", st.name, got, st.want)
		}
	}
}

// BenchmarkRotate measures the latency of one rotation of an RS256 tenant
// (fresh key from a filled pool, certificate, sealing, transaction, view
// rebuild) on a store that holds `tenants` tenants, and reports p50 and p99.
// Filler tenants use ES256 keys, which are cheap to generate. Run it with a
// fixed count so the pool never runs dry:
//
//	go test -run '^$' -bench Rotate -benchtime 200x ./internal/keyring/
func BenchmarkRotate(b *testing.B) {
	for _, tenants := range []int{1, 10000} {
		b.Run(fmt.Sprintf("tenants=%d", tenants), func(b *testing.B) {
			ctx := context.Background()
			env := ringtest.New(b, ringtest.Options{PoolSize: b.N + 2})
			r, pool := env.Ring, env.Pool
			if _, err := r.CreateTenant(ctx, "bench", []string{"bench.localhost"}, "RS256", "test"); err != nil {
				b.Fatal(err)
			}
			for i := 1; i < tenants; i++ {
				if _, err := r.CreateTenant(ctx, fmt.Sprintf("t%05d", i), []string{fmt.Sprintf("t%05d.localhost", i)}, "ES256", "test"); err != nil {
					b.Fatal(err)
				}
			}
			for pool.Ready("RS256") < b.N {
				time.Sleep(50 * time.Millisecond)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := r.Rotate(ctx, "bench", keyring.RotateOptions{}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
