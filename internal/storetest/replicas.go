package storetest

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// testPositions checks the change positions: CreateTenant stores a tenant
// at position 1, every committed UpdateKeyset advances it by one and dates
// the keys it adds with it, and a refused change advances nothing.
func testPositions(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "other")
	ks := keyset(t, s, "acme")
	wantPositions(t, "after CreateTenant", ks, 1, map[string]int64{"acme-k1": 1, "acme-k2": 1})

	stored, err := s.UpdateKeyset(t.Context(), "acme", rotate(at(time.Hour), newKey("k3", at(time.Hour))))
	if err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	want := map[string]int64{"acme-k1": 1, "acme-k2": 1, "k3": 2}
	wantPositions(t, "UpdateKeyset's result", stored, 2, want)
	wantPositions(t, "after a rotation", keyset(t, s, "acme"), 2, want)

	refused := errors.New("refused")
	if _, err := s.UpdateKeyset(t.Context(), "acme", func(*signet.Keyset) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("UpdateKeyset: got %v, want %v", err, refused)
	}
	wantPositions(t, "after a refused change", keyset(t, s, "acme"), 2, want)

	// A change that adds no key (a revocation) advances the position too.
	if _, err := s.UpdateKeyset(t.Context(), "acme", func(ks *signet.Keyset) error {
		_, err := ks.Revoke(at(2*time.Hour), "acme-k1")
		return err
	}); err != nil {
		t.Fatalf("UpdateKeyset(revoke): %v", err)
	}
	wantPositions(t, "after a revocation", keyset(t, s, "acme"), 3, want)
	wantPositions(t, "the other tenant", keyset(t, s, "other"), 1, map[string]int64{"other-k1": 1, "other-k2": 1})
}

// wantPositions fails the test unless ks is at position pos and its keys at
// the given positions.
func wantPositions(t *testing.T, what string, ks signet.Keyset, pos int64, keys map[string]int64) {
	t.Helper()
	if ks.Position != pos {
		t.Errorf("%s: Keyset.Position = %d, want %d", what, ks.Position, pos)
	}
	got := map[string]int64{}
	for _, k := range ks.Keys {
		got[k.KID] = k.Position
	}
	if !maps.Equal(got, keys) {
		t.Errorf("%s: key positions = %v, want %v", what, got, keys)
	}
}

// testReplicas checks Heartbeat, Replicas and RemoveReplica.
func testReplicas(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	ctx := t.Context()
	beat := func(id string, positions map[string]int64) {
		t.Helper()
		if err := s.Heartbeat(ctx, id, positions); err != nil {
			t.Fatalf("Heartbeat(%s): %v", id, err)
		}
	}
	replicas := func(maxAge time.Duration) []signet.Replica {
		t.Helper()
		rs, err := s.Replicas(ctx, maxAge)
		if err != nil {
			t.Fatalf("Replicas(%v): %v", maxAge, err)
		}
		return rs
	}
	check := func(what string, got []signet.Replica, want map[string]map[string]int64, order ...string) {
		t.Helper()
		if len(got) != len(order) {
			t.Fatalf("%s: got %d replicas %+v, want %v", what, len(got), got, order)
		}
		for i, r := range got {
			if r.ID != order[i] {
				t.Errorf("%s: replica %d is %s, want %s", what, i, r.ID, order[i])
			}
			if !maps.Equal(r.Positions, want[r.ID]) {
				t.Errorf("%s: replica %s positions %v, want %v", what, r.ID, r.Positions, want[r.ID])
			}
			if r.Age < 0 || r.Age > time.Minute {
				t.Errorf("%s: replica %s age %v, want between 0 and a minute", what, r.ID, r.Age)
			}
		}
	}

	if rs := replicas(time.Hour); len(rs) != 0 {
		t.Fatalf("a fresh store has replicas %+v", rs)
	}
	beat("r2", map[string]int64{"acme": 3})
	beat("r1", map[string]int64{"acme": 1, "other": 2})
	beat("r3", nil)
	want := map[string]map[string]int64{"r1": {"acme": 1, "other": 2}, "r2": {"acme": 3}, "r3": {}}
	check("after three heartbeats", replicas(time.Hour), want, "r1", "r2", "r3")

	// A heartbeat updates the positions it names and keeps the others.
	beat("r1", map[string]int64{"acme": 5})
	want["r1"] = map[string]int64{"acme": 5, "other": 2}
	check("after r1's second heartbeat", replicas(time.Hour), want, "r1", "r2", "r3")

	// A heartbeat older than maxAge does not count: wait until every one is
	// older than a second, then only a new one does.
	deadline := time.Now().Add(10 * time.Second)
	for len(replicas(time.Second)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Replicas(1s) still returns %+v 10s after the last heartbeat", replicas(time.Second))
		}
		time.Sleep(20 * time.Millisecond)
	}
	beat("r2", nil)
	if rs := replicas(time.Second); len(rs) != 1 || rs[0].ID != "r2" || !maps.Equal(rs[0].Positions, want["r2"]) {
		t.Errorf("Replicas(1s) right after r2's heartbeat = %+v, want r2 alone with %v", rs, want["r2"])
	}

	if err := s.RemoveReplica(ctx, "r1"); err != nil {
		t.Fatalf("RemoveReplica(r1): %v", err)
	}
	if err := s.RemoveReplica(ctx, "nobody"); err != nil {
		t.Errorf("RemoveReplica(nobody): %v", err)
	}
	delete(want, "r1")
	check("after RemoveReplica(r1)", replicas(time.Hour), want, "r2", "r3")
}
