package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

func testKeyset(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		tn, _ := newTenant(t, "acme")
		keys := []signet.Key{
			{
				KID: "cur", Algorithm: "RS256", State: signet.StateCurrent,
				Certificate: []byte{0x30, 0x82, 0x00, 0xff, 0x00}, SealedPrivateKey: []byte{0x00, 0x01, 0xfe, 0xff},
				CreatedAt: at(-48 * time.Hour), CurrentSince: at(-time.Hour),
			},
			{
				KID: "nxt", Algorithm: "RS256", State: signet.StateNext,
				Certificate: []byte("next cert"), SealedPrivateKey: []byte("next sealed"),
				CreatedAt: at(-30 * time.Minute),
			},
			{
				KID: "prev", Algorithm: "ES256", State: signet.StatePrevious,
				Certificate: []byte("prev cert"), SealedPrivateKey: []byte("prev sealed"),
				CreatedAt:    time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
				CurrentSince: at(-47 * time.Hour), CurrentUntil: at(-time.Hour),
			},
			{
				KID: "rev", Algorithm: "PS256", State: signet.StateRevoked,
				Certificate: []byte("rev cert"), SealedPrivateKey: []byte("rev sealed"),
				CreatedAt: at(-100 * 24 * time.Hour), CurrentSince: at(-99 * 24 * time.Hour),
				CurrentUntil: at(-47 * time.Hour), RevokedAt: time.Date(2100, 1, 2, 3, 4, 5, 6000, time.Local),
			},
			{
				// Every optional time zero.
				KID: "bare", Algorithm: "RS256", State: signet.StatePrevious,
				Certificate: []byte("c"), SealedPrivateKey: []byte("s"),
			},
		}
		ks := signet.Keyset{Tenant: "acme", Keys: keys}
		if err := s.CreateTenant(t.Context(), tn, ks); err != nil {
			t.Fatalf("CreateTenant: %v", err)
		}
		got := keyset(t, s, "acme")
		if got.Tenant != "acme" {
			t.Errorf("Keyset.Tenant = %q, want acme", got.Tenant)
		}
		if len(got.Events) != 0 {
			t.Errorf("Keyset.Events: got %d events, want none", len(got.Events))
		}
		checkKeys(t, "Keyset", keys, got.Keys)
	})

	t.Run("RoundTripThroughUpdate", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		var want []signet.Key
		stored, err := s.UpdateKeyset(t.Context(), "acme", func(ks *signet.Keyset) error {
			// Change every field of an existing key, and add keys.
			k := &ks.Keys[0]
			k.Algorithm = "ES384"
			k.Certificate = []byte{0xff, 0x00, 0x7f}
			k.SealedPrivateKey = []byte{0x00}
			k.CreatedAt, k.CurrentSince = at(-72*time.Hour), at(-71*time.Hour)
			ks.Keys = append(ks.Keys,
				signet.Key{KID: "old", Algorithm: "RS256", State: signet.StateRevoked,
					Certificate: []byte("old\x00"), SealedPrivateKey: []byte("\x00old"),
					CreatedAt: at(-9 * time.Hour), CurrentSince: at(-8 * time.Hour),
					CurrentUntil: at(-7 * time.Hour), RevokedAt: at(-6 * time.Hour)},
				signet.Key{KID: "older", Algorithm: "RS256", State: signet.StatePrevious,
					Certificate: []byte("older"), SealedPrivateKey: []byte("older")},
			)
			want = append([]signet.Key(nil), ks.Keys...)
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateKeyset: %v", err)
		}
		checkKeys(t, "UpdateKeyset's result", want, stored.Keys)
		checkKeys(t, "Keyset", want, keyset(t, s, "acme").Keys)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		_, err := s.Keyset(t.Context(), "nobody")
		wantErr(t, "Keyset(nobody)", err, signet.ErrTenantNotFound)
	})
}

func testUpdateKeyset(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("Rotate", func(t *testing.T) {
		s := open(t)
		_, first := createTenant(t, s, "acme")
		now := at(time.Hour)
		var seen signet.Keyset
		stored, err := s.UpdateKeyset(t.Context(), "acme", func(ks *signet.Keyset) error {
			seen = *ks
			seen.Keys = append([]signet.Key(nil), ks.Keys...)
			if _, err := ks.Rotate(now, newKey("fresh", at(30*time.Minute))); err != nil {
				return err
			}
			ks.Events[len(ks.Events)-1].Actor = "cli"
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateKeyset: %v", err)
		}
		if seen.Tenant != "acme" {
			t.Errorf("fn got a keyset of tenant %q, want acme", seen.Tenant)
		}
		checkKeys(t, "the keyset fn got", first.Keys, seen.Keys)

		want := signet.Keyset{Tenant: "acme", Keys: append([]signet.Key(nil), first.Keys...)}
		r, err := want.Rotate(now, newKey("fresh", at(30*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		if stored.Tenant != "acme" {
			t.Errorf("UpdateKeyset's result has tenant %q, want acme", stored.Tenant)
		}
		if len(stored.Events) != 0 {
			t.Errorf("UpdateKeyset's result holds %d events, want them cleared", len(stored.Events))
		}
		checkKeys(t, "UpdateKeyset's result", want.Keys, stored.Keys)
		got := keyset(t, s, "acme")
		checkKeys(t, "Keyset", want.Keys, got.Keys)
		if err := got.Validate(); err != nil {
			t.Errorf("stored keyset: %v", err)
		}
		if c := got.Current(); c.KID != r.Current.KID {
			t.Errorf("current key: got %s, want %s", c.KID, r.Current.KID)
		}

		evs := events(t, s, "acme", signet.EventFilter{})
		if len(evs) != 2 {
			t.Fatalf("Events: got %d, want 2 (created, rotated)", len(evs))
		}
		wantEv := want.Events[0]
		wantEv.Actor = "cli"
		diffEvent(wantEv, evs[0]).check(t, "rotated event")
	})

	t.Run("RotateAndRevoke", func(t *testing.T) {
		s := open(t)
		_, first := createTenant(t, s, "acme")
		now := at(2 * time.Hour)
		_, err := s.UpdateKeyset(t.Context(), "acme", func(ks *signet.Keyset) error {
			_, err := ks.RotateAndRevoke(now, newKey("fresh", now))
			return err
		})
		if err != nil {
			t.Fatalf("UpdateKeyset: %v", err)
		}
		want := signet.Keyset{Tenant: "acme", Keys: append([]signet.Key(nil), first.Keys...)}
		if _, err := want.RotateAndRevoke(now, newKey("fresh", now)); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, "Keyset", want.Keys, keyset(t, s, "acme").Keys)
		evs := events(t, s, "acme", signet.EventFilter{})
		if len(evs) != 3 {
			t.Fatalf("Events: got %d, want 3 (created, rotated, revoked)", len(evs))
		}
		diffEvent(want.Events[1], evs[0]).check(t, "revoked event")
		diffEvent(want.Events[0], evs[1]).check(t, "rotated event")
	})

	t.Run("RevokePrevious", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		if _, err := s.UpdateKeyset(t.Context(), "acme", rotate(at(time.Hour), newKey("fresh", base))); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		revokedAt := at(3 * time.Hour)
		stored, err := s.UpdateKeyset(t.Context(), "acme", func(ks *signet.Keyset) error {
			_, err := ks.Revoke(revokedAt, "acme-k1")
			return err
		})
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
		for _, ks := range []signet.Keyset{stored, keyset(t, s, "acme")} {
			k, err := ks.Key("acme-k1")
			if err != nil {
				t.Fatalf("revoked key: %v", err)
			}
			var d diff
			d.str("State", string(signet.StateRevoked), string(k.State))
			d.time("RevokedAt", revokedAt, k.RevokedAt)
			d.time("CurrentUntil", at(time.Hour), k.CurrentUntil)
			d.check(t, "revoked key")
		}
	})

	errBoom := errors.New("boom")
	refusals := []struct {
		name  string
		fn    func(*signet.Keyset) error
		check func(t *testing.T, err error)
	}{
		{
			name: "FnError",
			fn: func(ks *signet.Keyset) error {
				if _, err := ks.Rotate(at(time.Hour), newKey("fresh", base)); err != nil {
					return err
				}
				return errBoom
			},
			check: func(t *testing.T, err error) { wantErr(t, "UpdateKeyset", err, errBoom) },
		},
		{
			name: "DomainRefusal",
			fn: func(ks *signet.Keyset) error {
				_, err := ks.Revoke(at(time.Hour), ks.Current().KID)
				return err
			},
			check: func(t *testing.T, err error) { wantErr(t, "UpdateKeyset", err, signet.ErrRevokeCurrent) },
		},
		{
			name: "TwoNextKeys",
			fn: func(ks *signet.Keyset) error {
				ks.Keys[0].State = signet.StateNext
				ks.Events = append(ks.Events, signet.Event{Type: "test.broken", Time: base})
				return nil
			},
			check: wantInvariantError,
		},
		{
			name: "NoKeys",
			fn: func(ks *signet.Keyset) error {
				ks.Keys = nil
				return nil
			},
			check: wantInvariantError,
		},
		{
			name: "RepeatedKID",
			fn: func(ks *signet.Keyset) error {
				k := ks.Keys[0]
				k.State = signet.StatePrevious
				ks.Keys = append(ks.Keys, k)
				return nil
			},
			check: wantInvariantError,
		},
		{
			name: "UnknownState",
			fn: func(ks *signet.Keyset) error {
				ks.Keys = append(ks.Keys, signet.Key{KID: "odd", State: "retired"})
				return nil
			},
			check: wantInvariantError,
		},
	}
	for _, tc := range refusals {
		t.Run("Refused"+tc.name, func(t *testing.T) {
			s := open(t)
			createTenant(t, s, "acme")
			before := keyset(t, s, "acme")
			stored, err := s.UpdateKeyset(t.Context(), "acme", tc.fn)
			tc.check(t, err)
			if len(stored.Keys) != 0 {
				t.Errorf("UpdateKeyset returned %d keys with its error", len(stored.Keys))
			}
			checkKeys(t, "Keyset after the refused update", before.Keys, keyset(t, s, "acme").Keys)
			if evs := events(t, s, "acme", signet.EventFilter{}); len(evs) != 1 {
				t.Errorf("Events after the refused update: got %d, want 1", len(evs))
			}
		})
	}

	t.Run("UnknownTenant", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		called := false
		_, err := s.UpdateKeyset(t.Context(), "nobody", func(ks *signet.Keyset) error {
			called = true
			return nil
		})
		wantErr(t, "UpdateKeyset(nobody)", err, signet.ErrTenantNotFound)
		if called {
			t.Error("UpdateKeyset called fn for an unknown tenant")
		}
	})

	t.Run("IdempotencyKey", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		createTenant(t, s, "rival")
		rotateOnce := func(tenant, kid, idem string) error {
			_, err := s.UpdateKeyset(t.Context(), tenant, func(ks *signet.Keyset) error {
				if _, err := ks.Rotate(at(time.Hour), newKey(kid, base)); err != nil {
					return err
				}
				ks.Events[len(ks.Events)-1].IdempotencyKey = idem
				return nil
			})
			return err
		}
		if err := rotateOnce("acme", "fresh-1", "idem-1"); err != nil {
			t.Fatalf("first rotation: %v", err)
		}
		after := keyset(t, s, "acme")
		err := rotateOnce("acme", "fresh-2", "idem-1")
		wantErr(t, "rotation with a used idempotency key", err, signet.ErrConflict)
		checkKeys(t, "Keyset after the refused rotation", after.Keys, keyset(t, s, "acme").Keys)
		if evs := events(t, s, "acme", signet.EventFilter{}); len(evs) != 2 {
			t.Errorf("Events after the refused rotation: got %d, want 2", len(evs))
		}
		evs := events(t, s, "acme", signet.EventFilter{IdempotencyKey: "idem-1"})
		if len(evs) != 1 || evs[0].KID != "acme-k2" {
			t.Errorf("Events(idem-1): got %+v, want the first rotation's event", evs)
		}

		if err := rotateOnce("rival", "fresh-3", "idem-1"); err != nil {
			t.Errorf("the same idempotency key in another tenant: %v", err)
		}
		if err := rotateOnce("acme", "fresh-4", "idem-2"); err != nil {
			t.Errorf("a new idempotency key: %v", err)
		}
		if err := rotateOnce("acme", "fresh-5", ""); err != nil {
			t.Errorf("no idempotency key: %v", err)
		}
		if err := rotateOnce("acme", "fresh-6", ""); err != nil {
			t.Errorf("no idempotency key, twice: %v", err)
		}
	})
}

// wantInvariantError requires the error of Keyset.Validate: code EINTERNAL
// and a message about the invariant.
func wantInvariantError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("UpdateKeyset of an invalid keyset: got no error")
	}
	if code := signet.ErrorCode(err); code != signet.EINTERNAL {
		t.Errorf("UpdateKeyset of an invalid keyset: got code %q (%v), want %q", code, err, signet.EINTERNAL)
	}
}
