package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
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
		for _, name := range []string{"nobody", ""} {
			_, err := s.Tenant(t.Context(), name)
			wantErr(t, fmt.Sprintf("Tenant(%q)", name), err, signet.ErrTenantNotFound)
		}
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

func testUpdateTenant(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		acme, acmeKeys := createTenant(t, s, "acme", "acme.example.com", "login.acme.test")
		rival, _ := createTenant(t, s, "rival")

		// Every stored field changes; hosts swap places, so the primary host
		// changes, and one is added.
		want := acme
		want.Hosts = []string{"login.acme.test", "new.acme.test:8443", "acme.example.com"}
		want.Algorithm = "ES256"
		want.Policy = signet.Policy{
			RotationPeriod:      30 * 24 * time.Hour,
			RevokePreviousAfter: 48*time.Hour + time.Microsecond,
			MinNextAge:          time.Hour,
		}
		var seen signet.Tenant
		got, err := s.UpdateTenant(t.Context(), "acme", "admin:ops@example.com", func(tn *signet.Tenant) error {
			seen = *tn
			seen.Hosts = slices.Clone(tn.Hosts)
			tn.Hosts = slices.Clone(want.Hosts)
			tn.Algorithm, tn.Policy = want.Algorithm, want.Policy
			return nil
		})

		if err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
		diffTenant(acme, seen).check(t, "the tenant fn got")
		diffTenant(want, got).check(t, "UpdateTenant's result")
		stored, err := s.Tenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		diffTenant(want, stored).check(t, "Tenant after UpdateTenant")
		all, err := s.Tenants(t.Context())
		if err != nil {
			t.Fatalf("Tenants: %v", err)
		}
		if len(all) != 2 {
			t.Fatalf("Tenants: got %d tenants, want 2", len(all))
		}
		diffTenant(want, all[0]).check(t, "Tenants()[0] after UpdateTenant")
		diffTenant(rival, all[1]).check(t, "the other tenant after UpdateTenant")
		checkKeys(t, "Keyset after UpdateTenant", acmeKeys.Keys, keyset(t, s, "acme").Keys)
		evs, err := s.Events(t.Context(), "acme", signet.EventFilter{Type: signet.EventTenantUpdated})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(evs) != 1 || evs[0].Actor != "admin:ops@example.com" || evs[0].Data["hosts"] != strings.Join(want.Hosts, ",") {
			t.Errorf("%s events after UpdateTenant: %+v, want one by admin:ops@example.com", signet.EventTenantUpdated, evs)
		}

		// And back to the zero policy, with one host.
		want.Hosts = []string{"acme.example.com"}
		want.Algorithm = signet.DefaultAlgorithm
		want.Policy = signet.Policy{}
		if _, err := s.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
			tn.Hosts = []string{"acme.example.com"}
			tn.Algorithm, tn.Policy = want.Algorithm, want.Policy
			return nil
		}); err != nil {
			t.Fatalf("second UpdateTenant: %v", err)
		}
		stored, err = s.Tenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		diffTenant(want, stored).check(t, "Tenant after the second UpdateTenant")
	})

	t.Run("FnError", func(t *testing.T) {
		s := open(t)
		acme, _ := createTenant(t, s, "acme", "acme.example.com", "login.acme.test")
		errBoom := errors.New("boom")
		got, err := s.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
			tn.Hosts = []string{"elsewhere.test"}
			tn.Algorithm = "ES256"
			tn.Policy.RotationPeriod = time.Hour
			return errBoom
		})

		if err != errBoom {
			t.Errorf("UpdateTenant: got error %v, want fn's error as it is", err)
		}
		if got.Name != "" {
			t.Errorf("UpdateTenant returned tenant %q with its error", got.Name)
		}
		stored, err := s.Tenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		diffTenant(acme, stored).check(t, "Tenant after the failed update")
		// The hosts fn dropped are still acme's.
		tn, ks := newTenant(t, "rival", "login.acme.test")
		wantErr(t, "CreateTenant with a host of acme", s.CreateTenant(t.Context(), tn, ks), signet.ErrConflict)
	})

	t.Run("IgnoresRename", func(t *testing.T) {
		s := open(t)
		acme, _ := createTenant(t, s, "acme")
		want := acme
		want.Hosts = []string{"renamed.example.com"}
		got, err := s.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
			tn.Name = "renamed"
			tn.Hosts = []string{"renamed.example.com"}
			return nil
		})

		if err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
		diffTenant(want, got).check(t, "UpdateTenant's result")
		stored, err := s.Tenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("Tenant(acme) after an attempted rename: %v", err)
		}
		diffTenant(want, stored).check(t, "Tenant after an attempted rename")
		_, err = s.Tenant(t.Context(), "renamed")
		wantErr(t, "Tenant(renamed)", err, signet.ErrTenantNotFound)
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		s := open(t)
		acme, _ := createTenant(t, s, "acme")
		for _, name := range []string{"nobody", ""} {
			called := false
			_, err := s.UpdateTenant(t.Context(), name, "test", func(tn *signet.Tenant) error {
				called = true
				tn.Hosts = nil
				return nil
			})

			wantErr(t, fmt.Sprintf("UpdateTenant(%q)", name), err, signet.ErrTenantNotFound)
			if called {
				t.Errorf("UpdateTenant(%q) called fn for an unknown tenant", name)
			}
		}
		stored, err := s.Tenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		diffTenant(acme, stored).check(t, "acme after updates of unknown tenants")
	})

	conflicts := []struct {
		name  string
		hosts []string // rival's new hosts
	}{
		{"HostOfAnotherTenant", []string{"rival.example.com", "login.acme.test"}},
		{"PrimaryHostOfAnotherTenant", []string{"acme.example.com"}},
		{"RepeatedHost", []string{"rival.example.com", "rival.test", "rival.example.com"}},
	}
	for _, tc := range conflicts {
		t.Run("Conflict"+tc.name, func(t *testing.T) {
			s := open(t)
			acme, _ := createTenant(t, s, "acme", "acme.example.com", "login.acme.test")
			rival, _ := createTenant(t, s, "rival", "rival.example.com")
			_, err := s.UpdateTenant(t.Context(), "rival", "test", func(tn *signet.Tenant) error {
				tn.Hosts = tc.hosts
				tn.Policy.RotationPeriod = time.Hour
				return nil
			})

			wantErr(t, "UpdateTenant", err, signet.ErrConflict)

			// Neither tenant changed.
			for _, want := range []signet.Tenant{acme, rival} {
				got, err := s.Tenant(t.Context(), want.Name)
				if err != nil {
					t.Fatalf("Tenant(%s): %v", want.Name, err)
				}
				diffTenant(want, got).check(t, want.Name+" after the refused update")
				if evs := events(t, s, want.Name, signet.EventFilter{}); len(evs) != 1 {
					t.Errorf("%s's events after the refused update: got %d, want 1", want.Name, len(evs))
				}
			}
		})
	}

	t.Run("RemovedHostIsFree", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme", "acme.example.com", "login.acme.test")
		createTenant(t, s, "rival", "rival.example.com")
		if _, err := s.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
			tn.Hosts = []string{"acme.example.com", "shared.test"}
			return nil
		}); err != nil {
			t.Fatalf("UpdateTenant(acme): %v", err)
		}

		// login.acme.test went: a new tenant can have it.
		createTenant(t, s, "newcomer", "login.acme.test")

		// shared.test goes from acme to rival in two updates.
		if _, err := s.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
			tn.Hosts = tn.Hosts[:1]
			return nil
		}); err != nil {
			t.Fatalf("UpdateTenant(acme): %v", err)
		}
		if _, err := s.UpdateTenant(t.Context(), "rival", "test", func(tn *signet.Tenant) error {
			tn.Hosts = append(tn.Hosts, "shared.test")
			return nil
		}); err != nil {
			t.Fatalf("UpdateTenant(rival) with a host acme gave up: %v", err)
		}

		want := map[string][]string{
			"acme":     {"acme.example.com"},
			"newcomer": {"login.acme.test"},
			"rival":    {"rival.example.com", "shared.test"},
		}
		for name, hosts := range want {
			got, err := s.Tenant(t.Context(), name)
			if err != nil {
				t.Fatalf("Tenant(%s): %v", name, err)
			}
			if !slices.Equal(got.Hosts, hosts) {
				t.Errorf("Tenant(%s).Hosts = %q, want %q", name, got.Hosts, hosts)
			}
		}
	})
}
