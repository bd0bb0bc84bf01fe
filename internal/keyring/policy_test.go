package keyring_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
)

// TestPolicy drives a daily rotation policy with a two-day grace through a
// fake clock, on two replicas sharing one store, as Dex's rotation tests do.
func TestPolicy(t *testing.T) {
	ctx := context.Background()
	clk := ringtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := ringtest.New(t, ringtest.Options{PoolSize: 8, Now: clk.Now, JWKSMaxAge: 5 * time.Minute})
	store := env.Store
	a, b := env.Ring, env.Replica()
	if _, err := a.CreateTenant(ctx, "acme", []string{"acme.example"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdatePolicy(ctx, "acme", signet.Policy{RotationPeriod: time.Hour, MinNextAge: time.Hour}, "test"); err == nil {
		t.Error("a policy whose next-key age equals its period was accepted")
	}
	day := 24 * time.Hour
	if _, err := a.UpdatePolicy(ctx, "acme", signet.Policy{RotationPeriod: day, RevokePreviousAfter: 2 * day}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	enforce := func() {
		var wg sync.WaitGroup
		for _, r := range []*keyring.Ring{a, b} {
			wg.Go(func() { r.EnforcePolicies(ctx) })
		}
		wg.Wait()
		for _, r := range []*keyring.Ring{a, b} {
			if err := r.Refresh(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
		}
	}
	rotations := func() int {
		evs, err := store.Events(ctx, "acme", signet.EventFilter{Type: signet.EventKeyRotated})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Actor != keyring.ActorPolicy {
				t.Errorf("rotation by %q, want %q", e.Actor, keyring.ActorPolicy)
			}
		}
		return len(evs)
	}

	clk.Add(day - time.Minute)
	enforce()
	if n := rotations(); n != 0 {
		t.Fatalf("%d rotations before the period elapsed", n)
	}
	clk.Add(time.Minute)
	enforce()
	if n := rotations(); n != 1 {
		t.Fatalf("%d rotations after one period on two replicas, want exactly 1", n)
	}
	v, _ := a.View("acme")
	first := v.Keyset.Sorted()[2] // the key that was current at creation
	if first.State != signet.StatePrevious {
		t.Fatalf("former current key is %s", first.State)
	}
	// The next key published by that rotation is one day old at the next period.
	clk.Add(day)
	enforce()
	if n := rotations(); n != 2 {
		t.Fatalf("%d rotations after two periods, want 2", n)
	}
	// Two days after it stopped signing, the first key is revoked; the second
	// previous key (one day) is not.
	ks, _ := store.Keyset(ctx, "acme")
	if k, _ := ks.Key(first.KID); k.State != signet.StatePrevious {
		t.Fatalf("first key %s before its grace ended", k.State)
	}
	clk.Add(day)
	enforce()
	ks, _ = store.Keyset(ctx, "acme")
	if k, _ := ks.Key(first.KID); k.State != signet.StateRevoked {
		t.Errorf("first key is %s two days after it stopped signing, want revoked", k.State)
	}
	revoked := 0
	for _, k := range ks.Keys {
		if k.State == signet.StateRevoked {
			revoked++
		}
	}
	if revoked != 1 {
		t.Errorf("%d keys revoked, want 1", revoked)
	}
	if v, _ := b.View("acme"); v.Keyset.Current().KID != ks.Current().KID {
		t.Error("replica b's view lags the store")
	}
}

// TestPolicyHoldsYoungNextKey checks that a scheduled rotation waits until
// the next key has been published for the JWKS max-age, while a manual
// rotation goes ahead with a warning.
func TestPolicyHoldsYoungNextKey(t *testing.T) {
	ctx := context.Background()
	clk := ringtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	r := ringtest.New(t, ringtest.Options{PoolSize: 8, Now: clk.Now, JWKSMaxAge: time.Hour}).Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.example"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdatePolicy(ctx, "acme", signet.Policy{RotationPeriod: 30 * time.Minute}, "test"); err != nil {
		t.Fatal(err)
	}
	clk.Add(45 * time.Minute) // the period has elapsed; the next key is 45 minutes old
	r.EnforcePolicies(ctx)
	if v, _ := r.View("acme"); len(v.Keyset.Keys) != 2 {
		t.Fatal("a scheduled rotation promoted a next key younger than the JWKS max-age")
	}
	clk.Add(15 * time.Minute)
	r.EnforcePolicies(ctx)
	if v, _ := r.View("acme"); len(v.Keyset.Keys) != 3 {
		t.Fatal("the scheduled rotation did not happen once the next key was old enough")
	}
	// A manual rotation now promotes a next key that is 0 s old: it happens, with a warning.
	rot, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "cli"})
	if err != nil || rot.Warning == "" {
		t.Errorf("manual rotation of a fresh next key: warning %q, err %v", rot.Warning, err)
	}
}
