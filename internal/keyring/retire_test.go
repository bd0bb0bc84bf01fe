package keyring_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
)

// TestRevokePreviousBefore rotates a tenant four times, an hour apart, and
// revokes in bulk the previous keys that stopped signing before a cutoff:
// exactly those are revoked, in one transaction (one time, one refresh), with
// the actor and event of a single revocation; current, next and the newer
// previous keys stay published.
func TestRevokePreviousBefore(t *testing.T) {
	ctx := context.Background()
	clk := ringtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var log changeLog
	env := ringtest.New(t, ringtest.Options{PoolSize: 6, Now: clk.Now, OnChange: log.record})
	r := env.Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.example"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	var prev []signet.Key // previous keys, oldest first
	for range 4 {
		clk.Add(time.Hour)
		rot, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		prev = append(prev, rot.Previous)
	}
	log.take()
	const actor = "admin:alice@example.com"

	// A cutoff at the oldest previous key's CurrentUntil keeps it (>= cutoff).
	got, err := r.RevokePreviousBefore(ctx, "acme", prev[0].CurrentUntil, actor)
	if err != nil || len(got) != 0 {
		t.Fatalf("nothing before the oldest: %v, %v", got, err)
	}
	if c := log.take(); len(c) != 0 {
		t.Errorf("a bulk revoke of no key reported changes %v", c)
	}
	clk.Add(time.Minute)
	got, err = r.RevokePreviousBefore(ctx, "acme", prev[2].CurrentUntil, actor)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{prev[1].KID, prev[0].KID}; !slices.Equal(kidsOf(got), want) {
		t.Fatalf("revoked %q, want %q", kidsOf(got), want)
	}
	if c := log.take(); !slices.Equal(c, []change{{"revoke", "dashboard"}, {"revoke", "dashboard"}}) {
		t.Errorf("OnChange calls %v, want two revocations", c)
	}

	v, _ := r.View("acme")
	published := kidsOf(v.Keyset.Published())
	for _, k := range prev[:2] {
		if slices.Contains(published, k.KID) {
			t.Errorf("revoked key %s still published by the view", k.KID)
		}
	}
	for _, kid := range []string{v.Current.KID, v.Keyset.Next().KID, prev[2].KID, prev[3].KID} {
		if !slices.Contains(published, kid) {
			t.Errorf("key %s is no longer published", kid)
		}
	}

	events, err := env.Store.Events(ctx, "acme", signet.EventFilter{Type: signet.EventKeyRevoked})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d revocation events, want 2", len(events))
	}
	for _, e := range events {
		if e.Actor != actor || !e.Time.Equal(clk.Now()) || !slices.Contains(kidsOf(got), e.KID) {
			t.Errorf("event %+v: want actor %s at %s about a revoked key", e, actor, clk.Now())
		}
	}
}

func kidsOf(keys []signet.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KID
	}
	return out
}
