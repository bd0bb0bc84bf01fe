package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

func testTenants(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		tn, _ := newTenant(t, "acme", "acme.example.com", "login.acme.test:8443", "127.0.0.1:8080")
		tn.Algorithm = "ES256"
		tn.Policy = signet.Policy{
			RotationPeriod:      90 * 24 * time.Hour,
			RevokePreviousAfter: 7*24*time.Hour + time.Microsecond,
			MinNextAge:          10 * time.Minute,
		}
		_, ks := newTenant(t, "acme")
		if err := s.CreateTenant(t.Context(), tn, ks); err != nil {
			t.Fatalf("CreateTenant: %v", err)
		}
		got, err := s.Tenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		diffTenant(tn, got).check(t, "Tenant")
		all, err := s.Tenants(t.Context())
		if err != nil {
			t.Fatalf("Tenants: %v", err)
		}
		if len(all) != 1 {
			t.Fatalf("Tenants: got %d tenants, want 1", len(all))
		}
		diffTenant(tn, all[0]).check(t, "Tenants()[0]")
	})

	t.Run("StoresKeysetAndEvents", func(t *testing.T) {
		s := open(t)
		_, ks := createTenant(t, s, "acme")
		checkKeys(t, "Keyset", ks.Keys, keyset(t, s, "acme").Keys)
		evs := events(t, s, "acme", signet.EventFilter{})
		if len(evs) != len(ks.Events) || len(evs) != 1 {
			t.Fatalf("Events: got %d events, want the keyset's %d", len(evs), len(ks.Events))
		}
		diffEvent(ks.Events[0], evs[0]).check(t, "keyset created event")
		if evs[0].Seq <= 0 {
			t.Errorf("event Seq = %d, want it assigned (> 0)", evs[0].Seq)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		_, err := s.Tenant(t.Context(), "nobody")
		wantErr(t, "Tenant(nobody)", err, signet.ErrTenantNotFound)
	})

	t.Run("OrderedByName", func(t *testing.T) {
		s := open(t)
		all, err := s.Tenants(t.Context())
		if err != nil {
			t.Fatalf("Tenants on an empty store: %v", err)
		}
		if len(all) != 0 {
			t.Fatalf("Tenants on an empty store: got %d tenants", len(all))
		}
		for _, name := range []string{"zeta", "alpha", "mid-1", "mid"} {
			createTenant(t, s, name)
		}
		all, err = s.Tenants(t.Context())
		if err != nil {
			t.Fatalf("Tenants: %v", err)
		}
		got := ids(all, func(tn signet.Tenant) string { return tn.Name })
		if want := []string{"alpha", "mid", "mid-1", "zeta"}; !slices.Equal(got, want) {
			t.Errorf("Tenants: got %q, want %q", got, want)
		}
	})

	conflicts := []struct {
		name  string
		other string   // tenant to create
		hosts []string // its hosts
	}{
		{"SameName", "acme", []string{"other.example.com"}},
		{"HostOfAnotherTenant", "rival", []string{"rival.example.com", "login.acme.test"}},
		{"RepeatedHost", "rival", []string{"rival.example.com", "rival.example.com"}},
	}
	for _, tc := range conflicts {
		t.Run("Conflict"+tc.name, func(t *testing.T) {
			s := open(t)
			acme, acmeKeys := createTenant(t, s, "acme", "acme.example.com", "login.acme.test")
			tn, ks := newTenant(t, tc.other, tc.hosts...)
			err := s.CreateTenant(t.Context(), tn, ks)
			wantErr(t, "CreateTenant", err, signet.ErrConflict)

			// Nothing of the refused tenant is stored, and acme is intact.
			if tc.other != "acme" {
				_, err = s.Tenant(t.Context(), tc.other)
				wantErr(t, "Tenant of the refused tenant", err, signet.ErrTenantNotFound)
				_, err = s.Keyset(t.Context(), tc.other)
				wantErr(t, "Keyset of the refused tenant", err, signet.ErrTenantNotFound)
				noEvents(t, s, tc.other)
			}
			got, err := s.Tenant(t.Context(), "acme")
			if err != nil {
				t.Fatalf("Tenant(acme): %v", err)
			}
			diffTenant(acme, got).check(t, "acme after the refused creation")
			checkKeys(t, "acme's keyset after the refused creation", acmeKeys.Keys, keyset(t, s, "acme").Keys)
			if evs := events(t, s, "acme", signet.EventFilter{}); len(evs) != 1 {
				t.Errorf("acme's events after the refused creation: got %d, want 1", len(evs))
			}
			all, err := s.Tenants(t.Context())
			if err != nil {
				t.Fatalf("Tenants: %v", err)
			}
			if len(all) != 1 {
				t.Errorf("Tenants: got %d tenants, want 1", len(all))
			}
		})
	}

	t.Run("InvalidKeyset", func(t *testing.T) {
		s := open(t)
		tn, ks := newTenant(t, "acme")
		ks.Keys[1].State = signet.StateCurrent // two current keys, no next
		if err := s.CreateTenant(t.Context(), tn, ks); err == nil {
			t.Fatal("CreateTenant with an invalid keyset: got no error")
		}
		_, err := s.Tenant(t.Context(), "acme")
		wantErr(t, "Tenant after the refused creation", err, signet.ErrTenantNotFound)
	})
}
