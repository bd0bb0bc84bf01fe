package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

func testEvents(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")

	// 120 events in one update, then one more in another: more than the
	// default limit of 100.
	var added []signet.Event
	_, err := s.UpdateKeyset(t.Context(), "acme", func(ks *signet.Keyset) error {
		for i := range 120 {
			e := signet.Event{
				Tenant: "acme",
				Time:   at(time.Duration(i) * time.Second),
				Type:   "test.even",
				Actor:  fmt.Sprintf("actor-%d", i),
				KID:    fmt.Sprintf("kid-%d", i),
				Data:   map[string]string{"i": fmt.Sprint(i), "quote": `"\u00e9`},
			}
			if i%2 == 1 {
				e.Type = "test.odd"
			}
			if i%10 == 0 {
				e.IdempotencyKey = fmt.Sprintf("idem-%d", i)
			}
			ks.Events = append(ks.Events, e)
		}
		added = append(added, ks.Events...)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	if _, err := s.UpdateKeyset(t.Context(), "acme", rotate(at(time.Hour), newKey("fresh", base))); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := s.UpdateKeyset(t.Context(), "rival", rotate(at(time.Hour), newKey("rival-fresh", base))); err != nil {
		t.Fatalf("rotate rival: %v", err)
	}

	t.Run("NewestFirstWithIncreasingSeq", func(t *testing.T) {
		all := events(t, s, "acme", signet.EventFilter{Limit: 1000})
		if len(all) != 122 {
			t.Fatalf("got %d events, want 122", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].Seq >= all[i-1].Seq {
				t.Fatalf("event %d has Seq %d after Seq %d: want newest (highest Seq) first", i, all[i].Seq, all[i-1].Seq)
			}
		}
		if all[0].Type != signet.EventKeyRotated {
			t.Errorf("newest event: got type %q, want %q", all[0].Type, signet.EventKeyRotated)
		}
		if last := all[len(all)-1]; last.Type != signet.EventKeysetCreated {
			t.Errorf("oldest event: got type %q, want %q", last.Type, signet.EventKeysetCreated)
		}
		for i, want := range added {
			diffEvent(want, all[len(all)-2-i]).check(t, fmt.Sprintf("event %d", i))
		}
	})

	t.Run("DefaultLimit", func(t *testing.T) {
		evs := events(t, s, "acme", signet.EventFilter{})
		if len(evs) != 100 {
			t.Fatalf("got %d events, want 100", len(evs))
		}
		if evs[0].Type != signet.EventKeyRotated || evs[99].KID != "kid-21" {
			t.Errorf("got events from %s to %s, want the newest 100 (rotation down to kid-21)", evs[0].KID, evs[99].KID)
		}
	})

	filters := []struct {
		name string
		f    signet.EventFilter
		want []string // KIDs
	}{
		{"Limit", signet.EventFilter{Limit: 3}, []string{"acme-k2", "kid-119", "kid-118"}},
		{"Type", signet.EventFilter{Type: "test.odd", Limit: 4}, []string{"kid-119", "kid-117", "kid-115", "kid-113"}},
		{"TypeRotated", signet.EventFilter{Type: signet.EventKeyRotated}, []string{"acme-k2"}},
		{"IdempotencyKey", signet.EventFilter{IdempotencyKey: "idem-40"}, []string{"kid-40"}},
		{"IdempotencyKeyAndType", signet.EventFilter{IdempotencyKey: "idem-40", Type: "test.even"}, []string{"kid-40"}},
		{"IdempotencyKeyOtherType", signet.EventFilter{IdempotencyKey: "idem-40", Type: "test.odd"}, nil},
		{"UnknownIdempotencyKey", signet.EventFilter{IdempotencyKey: "idem-41"}, nil},
		{"UnknownType", signet.EventFilter{Type: "nothing"}, nil},
	}
	for _, tc := range filters {
		t.Run("Filter"+tc.name, func(t *testing.T) {
			evs := events(t, s, "acme", tc.f)
			got := ids(evs, func(e signet.Event) string { return e.KID })
			if !slices.Equal(got, tc.want) {
				t.Errorf("Events(%+v): got %q, want %q", tc.f, got, tc.want)
			}
		})
	}

	t.Run("TenantIsolation", func(t *testing.T) {
		evs := events(t, s, "rival", signet.EventFilter{})
		got := ids(evs, func(e signet.Event) string { return e.Type })
		if want := []string{signet.EventKeyRotated, signet.EventKeysetCreated}; !slices.Equal(got, want) {
			t.Errorf("rival's events: got %q, want %q", got, want)
		}
		for _, e := range evs {
			if e.Tenant != "rival" {
				t.Errorf("rival's events include one of tenant %q", e.Tenant)
			}
		}
		noEvents(t, s, "nobody")
	})
}
