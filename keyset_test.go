package signet_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// t0 is the tests' "now".
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// key returns a fake key: the domain never parses certificates or sealed
// keys, so any non-empty bytes do.
func key(kid string, state signet.KeyState, created time.Time) signet.Key {
	return signet.Key{
		KID:              kid,
		Algorithm:        signet.DefaultAlgorithm,
		State:            state,
		Certificate:      []byte("cert-" + kid),
		SealedPrivateKey: []byte("sealed-" + kid),
		CreatedAt:        created,
	}
}

// fixture returns a valid keyset with a history, its keys out of order:
//
//	rev-old   current [-60d, -50d], revoked at -45d
//	prev-old  current [-50d, -40d]
//	rev-new   current [-40d, -30d], revoked at -1d
//	prev-mid  current [-30d, -20d]
//	prev-new  current [-20d, -10d]
//	cur       current since -10d
//	next      created at -2d
func fixture() signet.Keyset {
	period := func(kid string, state signet.KeyState, from, until int) signet.Key {
		k := key(kid, state, t0.Add(-days(from+5)))
		k.CurrentSince = t0.Add(-days(from))
		if until > 0 {
			k.CurrentUntil = t0.Add(-days(until))
		}
		return k
	}
	revOld := period("rev-old", signet.StateRevoked, 60, 50)
	revOld.RevokedAt = t0.Add(-days(45))
	revNew := period("rev-new", signet.StateRevoked, 40, 30)
	revNew.RevokedAt = t0.Add(-days(1))
	return signet.Keyset{Tenant: "acme", Keys: []signet.Key{
		period("prev-mid", signet.StatePrevious, 30, 20),
		revNew,
		period("cur", signet.StateCurrent, 10, 0),
		period("prev-old", signet.StatePrevious, 50, 40),
		key("next", signet.StateNext, t0.Add(-days(2))),
		revOld,
		period("prev-new", signet.StatePrevious, 20, 10),
	}}
}

// clone deep-copies a keyset so that a later comparison sees any change.
func clone(ks signet.Keyset) signet.Keyset {
	out := signet.Keyset{Tenant: ks.Tenant, Keys: slices.Clone(ks.Keys), Events: slices.Clone(ks.Events)}
	for i, k := range out.Keys {
		out.Keys[i].Certificate = slices.Clone(k.Certificate)
		out.Keys[i].SealedPrivateKey = slices.Clone(k.SealedPrivateKey)
	}
	for i, e := range out.Events {
		out.Events[i].Data = maps.Clone(e.Data)
	}
	return out
}

// mustKey returns the key kid of ks.
func mustKey(t *testing.T, ks *signet.Keyset, kid string) signet.Key {
	t.Helper()
	k, err := ks.Key(kid)
	if err != nil {
		t.Fatalf("Key(%s): %v", kid, err)
	}
	return k
}

func kids(keys []signet.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KID
	}
	return out
}

func TestNewKeyset(t *testing.T) {
	current, next := key("k1", "", t0.Add(-time.Hour)), key("k2", "", t0.Add(-time.Minute))
	ks, err := signet.NewKeyset("acme", t0, current, next)
	if err != nil {
		t.Fatalf("NewKeyset: %v", err)
	}
	if err := ks.Validate(); err != nil {
		t.Errorf("new keyset: %v", err)
	}
	if ks.Tenant != "acme" {
		t.Errorf("Tenant = %q, want acme", ks.Tenant)
	}
	wantCurrent := current
	wantCurrent.State, wantCurrent.CurrentSince = signet.StateCurrent, t0
	wantNext := next
	wantNext.State = signet.StateNext
	if got := ks.Current(); !reflect.DeepEqual(got, wantCurrent) {
		t.Errorf("Current() = %+v, want %+v", got, wantCurrent)
	}
	if got := ks.Next(); !reflect.DeepEqual(got, wantNext) {
		t.Errorf("Next() = %+v, want %+v", got, wantNext)
	}
	wantEvents := []signet.Event{{
		Tenant: "acme", Time: t0, Type: signet.EventKeysetCreated, KID: "k1",
		Data: map[string]string{"next_kid": "k2"},
	}}
	if !reflect.DeepEqual(ks.Events, wantEvents) {
		t.Errorf("Events = %+v, want %+v", ks.Events, wantEvents)
	}

	refusals := []struct {
		name          string
		current, next signet.Key
	}{
		{"CurrentWithoutKID", key("", "", t0), key("k2", "", t0)},
		{"NextWithoutKID", key("k1", "", t0), key("", "", t0)},
		{"SameKID", key("k1", "", t0), key("k1", "", t0)},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := signet.NewKeyset("acme", t0, tc.current, tc.next)
			if !errors.Is(err, signet.ErrInvalid) {
				t.Errorf("NewKeyset: got %v, want an EINVALID error", err)
			}
			if len(ks.Keys) != 0 || len(ks.Events) != 0 {
				t.Errorf("NewKeyset returned a keyset with its error: %+v", ks)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	with := func(change func(ks *signet.Keyset)) signet.Keyset {
		ks := fixture()
		change(&ks)
		return ks
	}
	setState := func(kid string, s signet.KeyState) func(*signet.Keyset) {
		return func(ks *signet.Keyset) {
			for i := range ks.Keys {
				if ks.Keys[i].KID == kid {
					ks.Keys[i].State = s
				}
			}
		}
	}
	tests := []struct {
		name  string
		ks    signet.Keyset
		valid bool
	}{
		{"Fixture", fixture(), true},
		{"CurrentAndNextOnly", signet.Keyset{Keys: []signet.Key{key("a", signet.StateCurrent, t0), key("b", signet.StateNext, t0)}}, true},
		{"Empty", signet.Keyset{Tenant: "acme"}, false},
		{"NoCurrent", with(setState("cur", signet.StatePrevious)), false},
		{"TwoCurrent", with(setState("prev-new", signet.StateCurrent)), false},
		{"NoNext", with(setState("next", signet.StatePrevious)), false},
		{"TwoNext", with(setState("prev-new", signet.StateNext)), false},
		{"CurrentIsNext", with(setState("cur", signet.StateNext)), false},
		{"DuplicateKID", with(func(ks *signet.Keyset) {
			ks.Keys = append(ks.Keys, key("prev-old", signet.StateRevoked, t0))
		}), false},
		{"EmptyKID", with(func(ks *signet.Keyset) {
			ks.Keys = append(ks.Keys, key("", signet.StatePrevious, t0))
		}), false},
		{"UnknownState", with(setState("prev-old", "retired")), false},
		{"EmptyState", with(setState("prev-old", "")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := clone(tc.ks)
			err := tc.ks.Validate()
			switch {
			case tc.valid && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case !tc.valid && err == nil:
				t.Error("Validate: got nil, want an error")
			case !tc.valid:
				if code := signet.ErrorCode(err); code != signet.EINTERNAL {
					t.Errorf("Validate: got code %q, want %q", code, signet.EINTERNAL)
				}
				if msg := signet.ErrorMessage(err); !strings.HasPrefix(msg, "Keyset invariant violated") {
					t.Errorf("Validate: got message %q, want one about the invariant", msg)
				}
			}
			if !reflect.DeepEqual(tc.ks, before) {
				t.Error("Validate changed the keyset")
			}
		})
	}
}

// TestValidateMatchesErrInvalidKeyset checks the documented promise that
// Validate's error matches ErrInvalidKeyset.
func TestValidateMatchesErrInvalidKeyset(t *testing.T) {
	ks := signet.Keyset{}
	if err := ks.Validate(); !errors.Is(err, signet.ErrInvalidKeyset) {
		t.Errorf("Validate: got %v, want an error matching ErrInvalidKeyset", err)
	}
}

func TestRotate(t *testing.T) {
	ks := fixture()
	oldCurrent, oldNext := mustKey(t, &ks, "cur"), mustKey(t, &ks, "next")
	fresh := key("fresh", "", t0.Add(-time.Minute))
	// Whatever the fresh key says about its lifecycle is reset.
	fresh.State, fresh.CurrentSince, fresh.CurrentUntil, fresh.RevokedAt = signet.StateRevoked, t0, t0, t0

	r, err := ks.Rotate(t0, fresh)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if err := ks.Validate(); err != nil {
		t.Fatalf("keyset after Rotate: %v", err)
	}

	wantPrevious := oldCurrent
	wantPrevious.State, wantPrevious.CurrentUntil = signet.StatePrevious, t0
	wantCurrent := oldNext
	wantCurrent.State, wantCurrent.CurrentSince = signet.StateCurrent, t0
	wantNext := key("fresh", signet.StateNext, t0.Add(-time.Minute))
	tests := []struct {
		name      string
		got, want signet.Key
	}{
		{"FormerCurrentIsPrevious", mustKey(t, &ks, "cur"), wantPrevious},
		{"FormerNextIsCurrent", mustKey(t, &ks, "next"), wantCurrent},
		{"FreshIsNext", mustKey(t, &ks, "fresh"), wantNext},
		{"Current", ks.Current(), wantCurrent},
		{"Next", ks.Next(), wantNext},
		{"Rotation.Current", r.Current, wantCurrent},
		{"Rotation.Previous", r.Previous, wantPrevious},
		{"Rotation.Next", r.Next, wantNext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", tc.got, tc.want)
			}
		})
	}
	if want := 2 * 24 * time.Hour; r.NextAge != want {
		t.Errorf("NextAge = %v, want %v (now minus the promoted key's CreatedAt)", r.NextAge, want)
	}

	// The other keys are untouched.
	before := fixture()
	for _, k := range before.Keys {
		if k.KID == "cur" || k.KID == "next" {
			continue
		}
		if got := mustKey(t, &ks, k.KID); !reflect.DeepEqual(got, k) {
			t.Errorf("key %s changed: got %+v, want %+v", k.KID, got, k)
		}
	}
	if len(ks.Keys) != len(before.Keys)+1 {
		t.Errorf("%d keys after Rotate, want %d", len(ks.Keys), len(before.Keys)+1)
	}

	wantEvents := []signet.Event{{
		Tenant: "acme", Time: t0, Type: signet.EventKeyRotated, KID: "next",
		Data: map[string]string{"previous_kid": "cur", "next_kid": "fresh"},
	}}
	if !reflect.DeepEqual(ks.Events, wantEvents) {
		t.Errorf("Events = %+v, want %+v", ks.Events, wantEvents)
	}
}

func TestRotateRepeatedly(t *testing.T) {
	ks, err := signet.NewKeyset("acme", t0, key("k0", "", t0), key("k1", "", t0))
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 12; i++ {
		now := t0.Add(days(i))
		r, err := ks.Rotate(now, key(fmt.Sprintf("k%d", i), "", now))
		if err != nil {
			t.Fatalf("rotation %d: %v", i-1, err)
		}
		if want := fmt.Sprintf("k%d", i-1); r.Current.KID != want || ks.Current().KID != want {
			t.Fatalf("rotation %d: current %s, want %s", i-1, ks.Current().KID, want)
		}
		if r.Previous.KID != fmt.Sprintf("k%d", i-2) {
			t.Fatalf("rotation %d: previous %s, want k%d", i-1, r.Previous.KID, i-2)
		}
	}
	if err := ks.Validate(); err != nil {
		t.Fatal(err)
	}
	// Published: current, next, then previous newest first.
	want := []string{"k10", "k11", "k9", "k8", "k7", "k6", "k5", "k4", "k3", "k2", "k1", "k0"}
	if got := kids(ks.Published()); !slices.Equal(got, want) {
		t.Errorf("Published() = %q, want %q", got, want)
	}
	if len(ks.Events) != 11 {
		t.Errorf("%d events, want 11 (created + 10 rotations)", len(ks.Events))
	}
}

func TestRotateRefused(t *testing.T) {
	noCert := key("fresh", "", t0)
	noCert.Certificate = nil
	tests := []struct {
		name  string
		ks    signet.Keyset
		fresh signet.Key
		want  error // matched with errors.Is
		code  string
	}{
		{"FreshWithoutKID", fixture(), key("", "", t0), signet.ErrInvalid, signet.EINVALID},
		{"FreshWithoutCertificate", fixture(), noCert, signet.ErrInvalid, signet.EINVALID},
		{"FreshIsCurrent", fixture(), key("cur", "", t0), signet.ErrInvalid, signet.EINVALID},
		{"FreshIsNext", fixture(), key("next", "", t0), signet.ErrInvalid, signet.EINVALID},
		{"FreshIsPrevious", fixture(), key("prev-old", "", t0), signet.ErrInvalid, signet.EINVALID},
		{"FreshIsRevoked", fixture(), key("rev-old", "", t0), signet.ErrInvalid, signet.EINVALID},
		{"InvalidKeyset", signet.Keyset{Tenant: "acme", Keys: []signet.Key{key("a", signet.StateCurrent, t0)}},
			key("fresh", "", t0), nil, signet.EINTERNAL},
	}
	for _, tc := range tests {
		for _, op := range []struct {
			name   string
			rotate func(*signet.Keyset, time.Time, signet.Key) (signet.Rotation, error)
		}{
			{"Rotate", (*signet.Keyset).Rotate},
			{"RotateAndRevoke", (*signet.Keyset).RotateAndRevoke},
		} {
			t.Run(op.name+"/"+tc.name, func(t *testing.T) {
				ks := clone(tc.ks)
				r, err := op.rotate(&ks, t0, tc.fresh)
				if err == nil {
					t.Fatal("got no error")
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("got %v, want an error matching %v", err, tc.want)
				}
				if code := signet.ErrorCode(err); code != tc.code {
					t.Errorf("got code %q, want %q", code, tc.code)
				}
				if !reflect.DeepEqual(r, signet.Rotation{}) {
					t.Errorf("got a Rotation with the error: %+v", r)
				}
				if !reflect.DeepEqual(ks, tc.ks) {
					t.Errorf("keyset changed by a refused rotation:\ngot  %+v\nwant %+v", ks, tc.ks)
				}
			})
		}
	}
}

func TestRevoke(t *testing.T) {
	t.Run("Previous", func(t *testing.T) {
		ks := fixture()
		want := mustKey(t, &ks, "prev-mid")
		want.State, want.RevokedAt = signet.StateRevoked, t0
		got, err := ks.Revoke(t0, "prev-mid")
		if err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Revoke returned %+v, want %+v", got, want)
		}
		if stored := mustKey(t, &ks, "prev-mid"); !reflect.DeepEqual(stored, want) {
			t.Errorf("key in the keyset: %+v, want %+v", stored, want)
		}
		if got.Verifies() {
			t.Error("revoked key still verifies")
		}
		wantEvents := []signet.Event{{Tenant: "acme", Time: t0, Type: signet.EventKeyRevoked, KID: "prev-mid"}}
		if !reflect.DeepEqual(ks.Events, wantEvents) {
			t.Errorf("Events = %+v, want %+v", ks.Events, wantEvents)
		}
		if err := ks.Validate(); err != nil {
			t.Errorf("keyset after Revoke: %v", err)
		}
		if slices.Contains(kids(ks.Published()), "prev-mid") {
			t.Error("revoked key still published")
		}
	})

	refusals := []struct {
		name    string
		ks      signet.Keyset
		kid     string
		want    error   // the exact sentinel, or nil
		matches []error // further errors it must match
		code    string
	}{
		{"Current", fixture(), "cur", signet.ErrRevokeCurrent, []error{signet.ErrConflict}, signet.ECONFLICT},
		{"Next", fixture(), "next", signet.ErrRevokeNext, []error{signet.ErrConflict}, signet.ECONFLICT},
		{"Revoked", fixture(), "rev-new", signet.ErrAlreadyRevoked, []error{signet.ErrConflict}, signet.ECONFLICT},
		{"Unknown", fixture(), "ghost", signet.ErrKeyNotFound, []error{signet.ErrNotFound}, signet.ENOTFOUND},
		{"EmptyKID", fixture(), "", signet.ErrKeyNotFound, []error{signet.ErrNotFound}, signet.ENOTFOUND},
		{"InvalidKeyset", signet.Keyset{Keys: []signet.Key{key("p", signet.StatePrevious, t0)}}, "p", nil, nil, signet.EINTERNAL},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			ks := clone(tc.ks)
			got, err := ks.Revoke(t0, tc.kid)
			if err == nil {
				t.Fatal("Revoke: got no error")
			}
			if tc.want != nil {
				if err != tc.want {
					t.Errorf("Revoke: got %v, want %v", err, tc.want)
				}
				wrapped := fmt.Errorf("revoke %s: %w", tc.kid, err)
				for _, target := range append([]error{tc.want}, tc.matches...) {
					if !errors.Is(wrapped, target) {
						t.Errorf("errors.Is(%v, %v) = false, want true", wrapped, target)
					}
				}
			}
			if code := signet.ErrorCode(err); code != tc.code {
				t.Errorf("Revoke: got code %q, want %q", code, tc.code)
			}
			if !reflect.DeepEqual(got, signet.Key{}) {
				t.Errorf("Revoke returned a key with its error: %+v", got)
			}
			if !reflect.DeepEqual(ks, tc.ks) {
				t.Errorf("keyset changed by a refused Revoke:\ngot  %+v\nwant %+v", ks, tc.ks)
			}
		})
	}

	// The refusals are distinct from each other.
	sentinels := []error{signet.ErrRevokeCurrent, signet.ErrRevokeNext, signet.ErrAlreadyRevoked, signet.ErrKeyNotFound}
	for i, a := range sentinels {
		for j, b := range sentinels {
			if i != j && errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = true, want false", a, b)
			}
		}
	}
	if !strings.Contains(signet.ErrRevokeCurrent.Message, "rotate and revoke") {
		t.Errorf("ErrRevokeCurrent does not point at rotate-and-revoke: %q", signet.ErrRevokeCurrent.Message)
	}
}

// TestErrorMessagesFreeOfHTTP checks that the domain's messages speak of
// keys and tenants, not of the Management API's paths and parameters: each
// front end (API, CLI, dashboard) names its own remedy.
func TestErrorMessagesFreeOfHTTP(t *testing.T) {
	sentinels := map[string]*signet.Error{
		"ErrKeyNotFound": signet.ErrKeyNotFound, "ErrTenantNotFound": signet.ErrTenantNotFound,
		"ErrRevokeCurrent": signet.ErrRevokeCurrent, "ErrRevokeNext": signet.ErrRevokeNext,
		"ErrAlreadyRevoked": signet.ErrAlreadyRevoked, "ErrInvalidKeyset": signet.ErrInvalidKeyset,
	}
	for name, e := range sentinels {
		for _, http := range []string{"/api/", "POST ", "PUT ", "GET ", "revoke_current", "?"} {
			if strings.Contains(e.Message, http) {
				t.Errorf("%s names %q: %q", name, http, e.Message)
			}
		}
	}
}

func TestRotateAndRevoke(t *testing.T) {
	ks := fixture()
	oldCurrent, oldNext := mustKey(t, &ks, "cur"), mustKey(t, &ks, "next")
	r, err := ks.RotateAndRevoke(t0, key("fresh", "", t0))
	if err != nil {
		t.Fatalf("RotateAndRevoke: %v", err)
	}
	if err := ks.Validate(); err != nil {
		t.Fatalf("keyset after RotateAndRevoke: %v", err)
	}

	wantRevoked := oldCurrent
	wantRevoked.State, wantRevoked.CurrentUntil, wantRevoked.RevokedAt = signet.StateRevoked, t0, t0
	wantCurrent := oldNext
	wantCurrent.State, wantCurrent.CurrentSince = signet.StateCurrent, t0
	if got := mustKey(t, &ks, "cur"); !reflect.DeepEqual(got, wantRevoked) {
		t.Errorf("former current key: got %+v, want %+v", got, wantRevoked)
	}
	if !reflect.DeepEqual(r.Previous, wantRevoked) {
		t.Errorf("Rotation.Previous: got %+v, want %+v", r.Previous, wantRevoked)
	}
	if !reflect.DeepEqual(r.Current, wantCurrent) || ks.Current().KID != "next" {
		t.Errorf("Rotation.Current: got %+v, want %+v", r.Current, wantCurrent)
	}
	if r.Next.KID != "fresh" || ks.Next().KID != "fresh" {
		t.Errorf("next key: got %s (Rotation.Next %s), want fresh", ks.Next().KID, r.Next.KID)
	}
	if slices.Contains(kids(ks.Published()), "cur") {
		t.Error("the former current key is still published")
	}
	types := []string{}
	for _, e := range ks.Events {
		types = append(types, e.Type+":"+e.KID)
	}
	if want := []string{signet.EventKeyRotated + ":next", signet.EventKeyRevoked + ":cur"}; !slices.Equal(types, want) {
		t.Errorf("Events: got %q, want %q", types, want)
	}
}

func TestPublishedAndSorted(t *testing.T) {
	ks := fixture()
	before := clone(ks)
	tests := []struct {
		name string
		got  []signet.Key
		want []string
	}{
		{"Published", ks.Published(), []string{"cur", "next", "prev-new", "prev-mid", "prev-old"}},
		{"Sorted", ks.Sorted(), []string{"cur", "next", "prev-new", "prev-mid", "prev-old", "rev-new", "rev-old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kids(tc.got); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, k := range tc.got {
				if want := mustKey(t, &ks, k.KID); !reflect.DeepEqual(k, want) {
					t.Errorf("key %s: got %+v, want the keyset's %+v", k.KID, k, want)
				}
			}
		})
	}
	for _, k := range ks.Published() {
		if !k.Verifies() {
			t.Errorf("published key %s does not verify", k.KID)
		}
	}
	if !reflect.DeepEqual(ks, before) {
		t.Error("Published or Sorted changed the keyset")
	}
}

func TestKeyLookup(t *testing.T) {
	ks := fixture()
	tests := []struct {
		kid  string
		want error
	}{
		{"cur", nil},
		{"rev-old", nil},
		{"ghost", signet.ErrKeyNotFound},
		{"", signet.ErrKeyNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.kid, func(t *testing.T) {
			k, err := ks.Key(tc.kid)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Key(%q): got error %v, want %v", tc.kid, err, tc.want)
			}
			if tc.want == nil && k.KID != tc.kid {
				t.Errorf("Key(%q) returned key %q", tc.kid, k.KID)
			}
		})
	}
}

func TestKeyVerifiesAndLogValue(t *testing.T) {
	for _, tc := range []struct {
		state signet.KeyState
		want  bool
	}{
		{signet.StateCurrent, true},
		{signet.StateNext, true},
		{signet.StatePrevious, true},
		{signet.StateRevoked, false},
		{"", false},
	} {
		if got := (signet.Key{State: tc.state}).Verifies(); got != tc.want {
			t.Errorf("Key{State: %q}.Verifies() = %v, want %v", tc.state, got, tc.want)
		}
	}

	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("k", "key", key("kid-1", signet.StateCurrent, t0))
	out := b.String()
	for _, want := range []string{"key.kid=kid-1", "key.alg=RS256", "key.state=current"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	for _, secret := range []string{"sealed-kid-1", "cert-kid-1"} {
		if strings.Contains(out, secret) {
			t.Errorf("log %q shows key material", out)
		}
	}
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		err, target error
		want        bool
	}{
		{signet.ErrKeyNotFound, signet.ErrKeyNotFound, true},
		{signet.ErrKeyNotFound, signet.ErrNotFound, true},
		{signet.ErrTenantNotFound, signet.ErrNotFound, true},
		{signet.ErrNotFound, signet.ErrKeyNotFound, false},
		{signet.ErrKeyNotFound, signet.ErrTenantNotFound, false},
		{signet.ErrRevokeCurrent, signet.ErrConflict, true},
		{signet.ErrRevokeCurrent, signet.ErrNotFound, false},
		{signet.ErrInvalidKeyset, signet.ErrInvalidKeyset, true},
		{signet.Errorf(signet.ECONFLICT, "Client %q already exists.", "x"), signet.ErrConflict, true},
		{signet.Errorf(signet.ENOTFOUND, "Signing key not found."), signet.ErrKeyNotFound, true},
		{signet.Errorf(signet.EINVALID, "bad"), &signet.Error{Code: signet.EINVALID, Message: "bad"}, true},
		{signet.Errorf(signet.EINVALID, "bad"), &signet.Error{Code: signet.EINVALID, Message: "worse"}, false},
		{fmt.Errorf("revoke: %w", signet.ErrRevokeNext), signet.ErrRevokeNext, true},
		{fmt.Errorf("revoke: %w", signet.ErrRevokeNext), signet.ErrConflict, true},
		{fmt.Errorf("revoke: %w", signet.ErrRevokeNext), signet.ErrInvalid, false},
		{errors.New("Signing key not found."), signet.ErrNotFound, false},
		{signet.ErrNotFound, io.EOF, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%v", tc.err, tc.target), func(t *testing.T) {
			if got := errors.Is(tc.err, tc.target); got != tc.want {
				t.Errorf("errors.Is = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"Nil", nil, "", "Internal error."},
		{"Sentinel", signet.ErrKeyNotFound, signet.ENOTFOUND, "Signing key not found."},
		{"Errorf", signet.Errorf(signet.EINVALID, "Bad %s.", "kid"), signet.EINVALID, "Bad kid."},
		{"Wrapped", fmt.Errorf("a: %w", fmt.Errorf("b: %w", signet.ErrRevokeCurrent)), signet.ECONFLICT, signet.ErrRevokeCurrent.Message},
		{"Joined", errors.Join(errors.New("other"), signet.ErrTenantNotFound), signet.ENOTFOUND, "Tenant not found."},
		{"Plain", errors.New("disk on fire"), signet.EINTERNAL, "Internal error."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := signet.ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := signet.ErrorMessage(tc.err); got != tc.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.message)
			}
		})
	}
	if got, want := signet.ErrKeyNotFound.Error(), "signet: not_found: Signing key not found."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestValidateFor(t *testing.T) {
	ks := fixture()
	if err := ks.ValidateFor("acme"); err != nil {
		t.Errorf("ValidateFor(own tenant) = %v", err)
	}
	anon := clone(ks)
	anon.Tenant = ""
	if err := anon.ValidateFor("acme"); err != nil {
		t.Errorf("ValidateFor a keyset naming no tenant = %v", err)
	}
	if err := ks.ValidateFor("other"); !errors.Is(err, signet.ErrInvalid) {
		t.Errorf("ValidateFor(other tenant) = %v, want EINVALID", err)
	}
	bad := clone(ks)
	bad.Keys = bad.Keys[:1]
	if err := bad.ValidateFor("acme"); !errors.Is(err, signet.ErrInvalidKeyset) {
		t.Errorf("ValidateFor(invalid keyset) = %v, want ErrInvalidKeyset", err)
	}
}

func TestChangeKeyset(t *testing.T) {
	fresh := key("fresh", "", t0)
	t.Run("rotate and revoke", func(t *testing.T) {
		ks := fixture()
		c, err := signet.ChangeKeyset(ks, func(ks *signet.Keyset) error {
			ks.Tenant = "renamed" // not kept
			if _, err := ks.Rotate(t0, fresh); err != nil {
				return err
			}
			_, err := ks.Revoke(t0, "prev-old")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := kids(c.Insert); !slices.Equal(got, []string{"fresh"}) {
			t.Errorf("Insert = %v", got)
		}
		if got := kids(c.Update); !slices.Equal(got, []string{"cur", "prev-old", "next"}) {
			t.Errorf("Update = %v (in keyset order)", got)
		}
		if len(c.Delete) != 0 {
			t.Errorf("Delete = %v", c.Delete)
		}
		if len(c.Events) != 2 || c.Events[0].Type != signet.EventKeyRotated || c.Events[1].Type != signet.EventKeyRevoked {
			t.Errorf("Events = %+v", c.Events)
		}
		if c.Keyset.Tenant != "acme" || c.Keyset.Events != nil || len(c.Keyset.Keys) != len(fixture().Keys)+1 {
			t.Errorf("Keyset = %s %v %d keys", c.Keyset.Tenant, c.Keyset.Events, len(c.Keyset.Keys))
		}
	})
	t.Run("in-place byte changes and deletions", func(t *testing.T) {
		c, err := signet.ChangeKeyset(fixture(), func(ks *signet.Keyset) error {
			ks.Keys[0].SealedPrivateKey[0] ^= 1 // rewrapped in place
			ks.Keys = slices.DeleteFunc(ks.Keys, func(k signet.Key) bool { return strings.HasPrefix(k.KID, "rev-") })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := kids(c.Update); !slices.Equal(got, []string{"prev-mid"}) {
			t.Errorf("Update = %v", got)
		}
		if !slices.Equal(c.Delete, []string{"rev-new", "rev-old"}) {
			t.Errorf("Delete = %v (in loaded order)", c.Delete)
		}
		if len(c.Insert) != 0 || len(c.Events) != 0 {
			t.Errorf("Insert = %v, Events = %v", kids(c.Insert), c.Events)
		}
	})
	t.Run("no change", func(t *testing.T) {
		c, err := signet.ChangeKeyset(fixture(), func(*signet.Keyset) error { return nil })
		if err != nil || len(c.Insert)+len(c.Update)+len(c.Delete)+len(c.Events) != 0 {
			t.Errorf("ChangeKeyset(no-op) = %+v, %v", c, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := signet.ChangeKeyset(fixture(), func(*signet.Keyset) error { return boom }); err != boom {
			t.Errorf("fn's error = %v, want it as it is", err)
		}
		_, err := signet.ChangeKeyset(fixture(), func(ks *signet.Keyset) error {
			ks.Keys = append(ks.Keys, key("extra", signet.StateNext, t0))
			return nil
		})
		if !errors.Is(err, signet.ErrInvalidKeyset) {
			t.Errorf("invalid result = %v, want ErrInvalidKeyset", err)
		}
	})
}

func TestRevokePreviousBefore(t *testing.T) {
	// fixture's previous keys stopped signing at -40d (prev-old), -20d
	// (prev-mid) and -10d (prev-new).
	tests := []struct {
		name   string
		cutoff time.Time
		want   []string // revoked, most recently current first
	}{
		{"BeforeEveryKey", t0.Add(-days(45)), nil},
		{"EqualIsKept", t0.Add(-days(40)), nil},
		{"JustAfter", t0.Add(-days(40) + time.Nanosecond), []string{"prev-old"}},
		{"KeepsTheEqualOne", t0.Add(-days(20)), []string{"prev-old"}},
		{"Two", t0.Add(-days(15)), []string{"prev-mid", "prev-old"}},
		{"Now", t0, []string{"prev-new", "prev-mid", "prev-old"}},
		{"Future", t0.Add(days(365)), []string{"prev-new", "prev-mid", "prev-old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks := fixture()
			before := clone(ks)
			got, err := ks.RevokePreviousBefore(t0, tc.cutoff)
			if err != nil {
				t.Fatalf("RevokePreviousBefore: %v", err)
			}
			if !slices.Equal(kids(got), tc.want) {
				t.Fatalf("revoked %q, want %q", kids(got), tc.want)
			}
			if len(tc.want) == 0 && !reflect.DeepEqual(ks, before) {
				t.Fatalf("keyset changed although nothing matched:\ngot  %+v\nwant %+v", ks, before)
			}
			if err := ks.Validate(); err != nil {
				t.Fatalf("keyset after RevokePreviousBefore: %v", err)
			}
			var wantEvents []signet.Event
			for i, kid := range tc.want {
				want := mustKey(t, &before, kid)
				want.State, want.RevokedAt = signet.StateRevoked, t0
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("returned %+v, want %+v", got[i], want)
				}
				wantEvents = append(wantEvents, signet.Event{Tenant: "acme", Time: t0, Type: signet.EventKeyRevoked, KID: kid})
			}
			if !reflect.DeepEqual(ks.Events, wantEvents) {
				t.Errorf("Events = %+v, want %+v", ks.Events, wantEvents)
			}
			// Every other key is exactly as it was: current, next, the
			// previous keys kept and those revoked before.
			for _, k := range before.Keys {
				if slices.Contains(tc.want, k.KID) {
					continue
				}
				if got := mustKey(t, &ks, k.KID); !reflect.DeepEqual(got, k) {
					t.Errorf("key %s changed: got %+v, want %+v", k.KID, got, k)
				}
			}
		})
	}

	t.Run("InvalidKeyset", func(t *testing.T) {
		ks := signet.Keyset{Keys: []signet.Key{key("p", signet.StatePrevious, t0)}}
		before := clone(ks)
		got, err := ks.RevokePreviousBefore(t0, t0.Add(days(1)))
		if !errors.Is(err, signet.ErrInvalidKeyset) || got != nil {
			t.Errorf("RevokePreviousBefore = %v, %v; want nil, ErrInvalidKeyset", got, err)
		}
		if !reflect.DeepEqual(ks, before) {
			t.Error("keyset changed by a refused RevokePreviousBefore")
		}
	})
}

func TestGrowthWarning(t *testing.T) {
	tests := []struct {
		rotations int
		revoke    bool // revoke the previous keys after rotating
		warn      string
	}{
		{rotations: 0},
		{rotations: 5},
		{rotations: 6, warn: "publishes 6 previous signing keys, more than 5"},
		{rotations: 9, warn: "publishes 9 previous signing keys, more than 5"},
		{rotations: 9, revoke: true}, // revoked keys are not published
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/revoke=%t", tc.rotations, tc.revoke), func(t *testing.T) {
			ks, err := signet.NewKeyset("acme", t0, key("k0", "", t0), key("k1", "", t0))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.rotations {
				now := t0.Add(time.Duration(i+1) * time.Hour)
				if _, err := ks.Rotate(now, key(fmt.Sprintf("k%d", i+2), "", now)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.revoke {
				if _, err := ks.RevokePreviousBefore(t0.Add(days(1)), t0.Add(days(1))); err != nil {
					t.Fatal(err)
				}
			}
			got := ks.GrowthWarning()
			if tc.warn == "" {
				if got != "" {
					t.Errorf("GrowthWarning = %q, want none", got)
				}
				return
			}
			if !strings.Contains(got, tc.warn) || !strings.Contains(got, "1.5 KB") || !strings.Contains(got, "revoke_previous_after") {
				t.Errorf("GrowthWarning = %q, want it to say %q, the growth and the policy", got, tc.warn)
			}
		})
	}
}
