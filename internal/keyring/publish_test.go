package keyring_test

import (
	"context"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
)

// TestPublishDelay checks that a view never signs with a key published for
// less than PublishDelay when an older published key can sign instead, and
// never falls back past a revoked key.
func TestPublishDelay(t *testing.T) {
	ctx := context.Background()
	const delay = 2 * time.Second
	clk := ringtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	r := ringtest.New(t, ringtest.Options{PoolSize: 8, Now: clk.Now, PublishDelay: delay}).Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.example"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	rotate := func(revoke bool) keyring.Rotation {
		t.Helper()
		rot, err := r.Rotate(ctx, "acme", keyring.RotateOptions{RevokeCurrent: revoke})
		if err != nil {
			t.Fatal(err)
		}
		return rot
	}
	check := func(step, wantSigning, wantCurrent string) {
		t.Helper()
		if err := r.Refresh(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		v, _ := r.View("acme")
		if v.Signing.KID != wantSigning || v.Signer.KID() != wantSigning {
			t.Errorf("%s: signing with %s (signer %s), want %s", step, v.Signing.KID, v.Signer.KID(), wantSigning)
		}
		if v.Current.KID != wantCurrent {
			t.Errorf("%s: current %s, want %s", step, v.Current.KID, wantCurrent)
		}
		if _, ok := v.VerifyKey(wantSigning); !ok {
			t.Errorf("%s: the signing key %s is not published", step, wantSigning)
		}
	}

	v0, _ := r.View("acme")
	check("new tenant (every key young: the current key signs)", v0.Current.KID, v0.Current.KID)

	clk.Add(time.Hour)
	r1 := rotate(false) // promotes a key published an hour ago
	check("rotation of an old next key", r1.Current.KID, r1.Current.KID)

	r2 := rotate(false) // promotes the key r1 published a moment ago
	check("rotation right after a rotation", r1.Current.KID, r2.Current.KID)
	r3 := rotate(false)
	check("a burst of rotations", r1.Current.KID, r3.Current.KID)

	clk.Add(delay)
	check("PublishDelay later", r3.Current.KID, r3.Current.KID)

	rotate(false)
	r5 := rotate(true) // revokes r4's current key
	check("rotate-and-revoke in a burst: no fallback past the revoked key", r5.Current.KID, r5.Current.KID)
}

// TestPublishDelaySwitches checks that a running Ring starts signing with
// the current key by itself once it has been published for PublishDelay.
func TestPublishDelaySwitches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const delay = 300 * time.Millisecond
	// The ring's clock stands still between the two rotations, however long
	// they take on a busy machine: the second one's key is then exactly as
	// young as the test means it to be. The switch timer runs on real time.
	clock := ringtest.NewClock(time.Now())
	r := ringtest.New(t, ringtest.Options{PoolSize: 4, PublishDelay: delay, Now: clock.Now}).Ring
	go r.Run(ctx)
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.example"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	clock.Add(delay) // the first keys are now old enough
	first, err := r.Rotate(ctx, "acme", keyring.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.Rotate(ctx, "acme", keyring.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := r.View("acme")
	if v.Signing.KID != first.Current.KID {
		t.Fatalf("right after the second rotation: signing with %s, want %s", v.Signing.KID, first.Current.KID)
	}
	clock.Add(delay) // the second rotation's key is old enough: its timer switches the view
	deadline := time.Now().Add(10 * delay)
	for {
		v, _ = r.View("acme")
		if v.Signing.KID == second.Current.KID {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after the rotation: still signing with %s, want %s", 10*delay, v.Signing.KID, second.Current.KID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
