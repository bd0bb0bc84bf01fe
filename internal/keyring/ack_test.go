package keyring_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
)

// counts reports whether r has loaded the heartbeat of the replica with id
// serving tenant at pos or later.
func counts(r *keyring.Ring, id, tenant string, pos int64) bool {
	for _, x := range r.Acknowledgements() {
		if x.ID == id {
			p, ok := x.Positions[tenant]
			return ok && p >= pos
		}
	}
	return false
}

// signingKID returns the kid r's view of tenant signs with, without signing.
func signingKID(r *keyring.Ring, tenant string) string {
	v, _ := r.View(tenant)
	return v.Signing.KID
}

// ackFleet starts rings A and B on the database and C through a proxy that
// can hold its traffic, all with Acks, and waits until A and B count C.
func ackFleet(t *testing.T, maxStaleness time.Duration) (p *pgReplicas, a, b, c *keyring.Ring, proxy *pgtest.Proxy) {
	t.Helper()
	p = newPGReplicas(t)
	cfg := keyring.Config{MaxStaleness: maxStaleness, Acks: true}
	a, _ = p.replica(t, p.dsn, cfg)
	if _, err := a.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	proxy, viaProxy := pgtest.NewProxy(t, p.dsn)
	b, _ = p.replica(t, p.dsn, cfg)
	c, _ = p.replica(t, viaProxy, cfg)
	run(t, a)
	run(t, b)
	run(t, c)
	v, _ := a.View("acme")
	eventually(t, 5*time.Second, "A and B count C", func() bool {
		return counts(a, c.ReplicaID(), "acme", v.Keyset.Position) && counts(b, c.ReplicaID(), "acme", v.Keyset.Position)
	})
	return p, a, b, c, proxy
}

// TestAcksHoldSwitchForLaggingReplica holds replica C's database traffic,
// so that it misses two quick rotations made through A: A and B must keep
// signing with the key C publishes until C acknowledges the new current
// key (once released), and, held again, until C's heartbeat expires.
func TestAcksHoldSwitchForLaggingReplica(t *testing.T) {
	const maxStaleness = 3 * time.Second
	_, a, b, c, proxy := ackFleet(t, maxStaleness)

	// Until C acknowledges.
	proxy.Hold()
	held := time.Now()
	first, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{}) // promotes a key C publishes
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{}) // promotes a key C does not publish
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B loads the second rotation", func() bool {
		v, _ := b.View("acme")
		return v.Current.KID == second.Current.KID
	})
	for name, r := range map[string]*keyring.Ring{"A": a, "B": b} {
		if kid, err := signs(r, "acme"); err != nil || kid != first.Current.KID {
			t.Errorf("%s signs with %s (%v) while C lags, want %s (the key C publishes)", name, kid, err, first.Current.KID)
		}
	}
	if since := time.Since(held); since > maxStaleness/2 {
		t.Fatalf("the checks took %v, too close to C's heartbeat expiry to mean anything", since)
	}
	proxy.Release()
	d := eventually(t, 5*time.Second, "A and B switch once C acknowledges", func() bool {
		return signingKID(a, "acme") == second.Current.KID && signingKID(b, "acme") == second.Current.KID
	})
	if !publishes(c, "acme", second.Current.KID) {
		t.Error("A and B switched before C publishes the key")
	}
	t.Logf("A and B switched %v after C's traffic was released", d.Round(time.Millisecond))

	// Until C's heartbeat expires.
	eventually(t, 5*time.Second, "A counts C at the latest position", func() bool {
		v, _ := a.View("acme")
		return counts(a, c.ReplicaID(), "acme", v.Keyset.Position)
	})
	proxy.Hold()
	held = time.Now()
	if _, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	fourth, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if kid := signingKID(a, "acme"); kid == fourth.Current.KID {
		t.Fatalf("A signs at once with %s, which C does not publish", kid)
	}
	d = eventually(t, maxStaleness+5*time.Second, "A switches once C's heartbeat expires", func() bool {
		return signingKID(a, "acme") == fourth.Current.KID
	})
	if since := time.Since(held); since < maxStaleness-time.Second {
		t.Errorf("A switched %v after C was cut off, before C's heartbeat (max age %v) can have expired", since, maxStaleness)
	}
	t.Logf("A switched %v after the rotation, C cut off", d.Round(time.Millisecond))
	proxy.Release()
}

// TestRotateAndRevokeWaitsForAcks makes a rotate-and-revoke through A
// right after a rotation C has missed: no earlier key may sign, so the
// answer and A's signatures must wait until C acknowledges. A replica that
// stays live but behind makes the answer carry a warning naming it after
// 2×MaxStaleness.
func TestRotateAndRevokeWaitsForAcks(t *testing.T) {
	const maxStaleness = 3 * time.Second
	p, a, _, c, proxy := ackFleet(t, maxStaleness)

	proxy.Hold()
	first, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		rot keyring.Rotation
		err error
		at  time.Time
	}
	rotated := make(chan result, 1)
	go func() {
		rot, err := a.Rotate(context.Background(), "acme", keyring.RotateOptions{RevokeCurrent: true})
		rotated <- result{rot, err, time.Now()}
	}()
	eventually(t, 2*time.Second, "A's view has the rotate-and-revoke", func() bool {
		return !publishes(a, "acme", first.Current.KID)
	})
	cur := first.Next.KID
	signed := make(chan time.Time, 1)
	go func() {
		signs(a, "acme")
		signed <- time.Now()
	}()
	select {
	case r := <-rotated:
		t.Fatalf("the rotate-and-revoke answered (%v) while C lags", r.err)
	case at := <-signed:
		t.Fatalf("A signed at %v with a key C does not publish", at)
	default:
	}
	released := time.Now()
	proxy.Release()
	r := <-rotated
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.rot.Current.KID != cur || strings.Contains(r.rot.Warning, "acknowledged") {
		t.Errorf("rotate-and-revoke = current %s, warning %q; want %s and no acknowledgement warning", r.rot.Current.KID, r.rot.Warning, cur)
	}
	if r.at.Before(released) {
		t.Errorf("the rotate-and-revoke answered before C was released")
	}
	if at := <-signed; at.Before(released) {
		t.Errorf("A signed before C was released")
	}
	if !publishes(c, "acme", cur) {
		t.Error("A answered before C publishes the new current key")
	}
	t.Logf("the rotate-and-revoke answered %v after C was released", r.at.Sub(released).Round(time.Millisecond))

	// A replica live but stuck behind: a heartbeat recorded every 100 ms
	// at the tenant's first position.
	_, db := p.replica(t, p.dsn, keyring.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			db.Heartbeat(ctx, "stuck-replica", map[string]int64{"acme": 1})
			time.Sleep(100 * time.Millisecond)
		}
	}()
	eventually(t, 5*time.Second, "A counts the stuck replica", func() bool { return counts(a, "stuck-replica", "acme", 1) })
	if _, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rot, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{RevokeCurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if !strings.Contains(rot.Warning, "stuck-replica") || took < 2*maxStaleness {
		t.Errorf("rotate-and-revoke with a stuck replica took %v with warning %q; want 2×%v and a warning naming stuck-replica", took, rot.Warning, maxStaleness)
	}
	t.Logf("with a stuck replica: answered after %v: %s", took.Round(time.Millisecond), rot.Warning)
}

// TestAcksSingleReplicaSignsAtOnce checks that acknowledgements change
// nothing for a replica alone: two rotations in a row sign with the new
// current key at once.
func TestAcksSingleReplicaSignsAtOnce(t *testing.T) {
	p := newPGReplicas(t)
	a, _ := p.replica(t, p.dsn, keyring.Config{MaxStaleness: 3 * time.Second, Acks: true})
	if _, err := a.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	for _, revoke := range []bool{false, false, true} {
		start := time.Now()
		rot, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{RevokeCurrent: revoke})
		if err != nil {
			t.Fatal(err)
		}
		if kid, err := signs(a, "acme"); err != nil || kid != rot.Current.KID {
			t.Errorf("after a rotation (revoke %v) A signs with %s (%v), want %s at once", revoke, kid, err, rot.Current.KID)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("rotation (revoke %v) took %v alone", revoke, took)
		}
	}
}
