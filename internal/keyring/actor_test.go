package keyring_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
)

// TestActors checks that every change records who made it, as docs/api.md
// promises: the audit events of tenant creation and updates name their
// actor, and Config.OnChange sorts actors into the kinds /metrics counts
// (an administrator's "admin:<email>" is a dashboard change).
func TestActors(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var kinds []string
	env := ringtest.New(t, ringtest.Options{PoolSize: 2, OnChange: func(change, kind string) {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, kind)
	}})
	r, store := env.Ring, env.Store
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.test"}, "", keyring.ActorSystem); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdateTenant(ctx, "acme", "admin:ops@example.com", func(tn *signet.Tenant) error {
		tn.Hosts = append(tn.Hosts, "login.acme.test")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdatePolicy(ctx, "acme", signet.Policy{RotationPeriod: time.Hour}, "Zq4client"); err != nil {
		t.Fatal(err)
	}
	evs, err := store.Events(ctx, "acme", signet.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]string // type, actor; oldest first
	for _, e := range slices.Backward(evs) {
		got = append(got, [2]string{e.Type, e.Actor})
	}
	want := [][2]string{
		{signet.EventKeysetCreated, "system"},
		{signet.EventTenantUpdated, "admin:ops@example.com"},
		{signet.EventTenantUpdated, "Zq4client"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events (type, actor) = %v, want %v", got, want)
	}

	for _, actor := range []string{"admin:ops@example.com", keyring.ActorCLI, "Zq4client"} {
		if _, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: actor}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{keyring.ActorKindDashboard, keyring.ActorKindCLI, keyring.ActorKindAPI}; !slices.Equal(kinds, want) {
		t.Errorf("OnChange actor kinds = %v, want %v", kinds, want)
	}
}

func TestActorKind(t *testing.T) {
	for actor, want := range map[string]string{
		"cli": "cli", "policy": "policy", "admin:ops@example.com": "dashboard",
		"Zq4client": "api",
	} {
		if got := keyring.ActorKind(actor); got != want {
			t.Errorf("ActorKind(%q) = %q, want %q", actor, got, want)
		}
	}
}
