package signet_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

func TestLoginSessionExpired(t *testing.T) {
	s := signet.LoginSession{ExpiresAt: t0}
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{t0.Add(-time.Nanosecond), false},
		{t0, true},
		{t0.Add(time.Hour), true},
	} {
		if got := s.Expired(tc.now); got != tc.want {
			t.Errorf("Expired(%s) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

func TestAuthCodeRedeem(t *testing.T) {
	now := t0.In(time.FixedZone("X", 3600))
	for _, tc := range []struct {
		name string
		code signet.AuthCode
		want error
	}{
		{"fresh", signet.AuthCode{ExpiresAt: t0.Add(time.Minute)}, nil},
		{"expires now", signet.AuthCode{ExpiresAt: t0}, signet.ErrCodeInvalid},
		{"expired", signet.AuthCode{ExpiresAt: t0.Add(-time.Minute)}, signet.ErrCodeInvalid},
		{"used", signet.AuthCode{ExpiresAt: t0.Add(time.Minute), UsedAt: t0.Add(-time.Second)}, signet.ErrCodeReused},
		{"used and expired", signet.AuthCode{ExpiresAt: t0.Add(-time.Minute), UsedAt: t0.Add(-time.Hour)}, signet.ErrCodeReused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.code
			err := c.Redeem(now)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Redeem = %v, want %v", err, tc.want)
			}
			switch {
			case err != nil && !c.UsedAt.Equal(tc.code.UsedAt):
				t.Errorf("a refused Redeem changed UsedAt to %s", c.UsedAt)
			case err == nil && (!c.UsedAt.Equal(t0) || c.UsedAt.Location() != time.UTC):
				t.Errorf("UsedAt = %s, want %s in UTC", c.UsedAt, t0)
			}
		})
	}
}

func TestRefreshTokenRotate(t *testing.T) {
	now := t0.In(time.FixedZone("X", 3600))
	live := signet.RefreshToken{Tenant: "acme", TokenHash: []byte("old"), FamilyID: "fam", ClientID: "c", UserID: "u",
		CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(24 * time.Hour)}
	next := signet.RefreshToken{Tenant: "other", TokenHash: []byte("new"), FamilyID: "other", ClientID: "c", UserID: "u",
		Scope: []string{"openid"}, CreatedAt: t0, ExpiresAt: t0.Add(1000 * time.Hour),
		UsedAt: t0, RevokedAt: t0}
	with := func(f func(*signet.RefreshToken)) signet.RefreshToken { tok := live; f(&tok); return tok }
	for _, tc := range []struct {
		name string
		tok  signet.RefreshToken
		want error
	}{
		{"live", live, nil},
		{"used", with(func(t *signet.RefreshToken) { t.UsedAt = t0.Add(-time.Minute) }), signet.ErrRefreshTokenReused},
		{"revoked", with(func(t *signet.RefreshToken) { t.RevokedAt = t0.Add(-time.Minute) }), signet.ErrRefreshTokenReused},
		{"used and expired", with(func(t *signet.RefreshToken) { t.UsedAt, t.ExpiresAt = t0.Add(-time.Hour), t0 }), signet.ErrRefreshTokenReused},
		{"expires now", with(func(t *signet.RefreshToken) { t.ExpiresAt = t0 }), signet.ErrRefreshTokenInvalid},
		{"expired", with(func(t *signet.RefreshToken) { t.ExpiresAt = t0.Add(-time.Minute) }), signet.ErrRefreshTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.tok
			got, err := tok.Rotate(now, next)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Rotate = %v, want %v", err, tc.want)
			}
			if err != nil {
				if !tok.UsedAt.Equal(tc.tok.UsedAt) {
					t.Errorf("a refused Rotate changed UsedAt to %s", tok.UsedAt)
				}
				return
			}
			if !tok.UsedAt.Equal(t0) || tok.UsedAt.Location() != time.UTC {
				t.Errorf("old UsedAt = %s, want %s in UTC", tok.UsedAt, t0)
			}
			want := next
			want.Tenant, want.FamilyID, want.ExpiresAt = "acme", "fam", live.ExpiresAt
			want.UsedAt, want.RevokedAt = time.Time{}, time.Time{}
			if got.Tenant != want.Tenant || got.FamilyID != want.FamilyID || !got.ExpiresAt.Equal(want.ExpiresAt) ||
				!got.UsedAt.IsZero() || !got.RevokedAt.IsZero() || string(got.TokenHash) != "new" ||
				!slices.Equal(got.Scope, want.Scope) || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("successor = %+v, want %+v", got, want)
			}
		})
	}
}

func TestUserFilterLimit(t *testing.T) {
	for _, tc := range []struct {
		f             signet.UserFilter
		limit, offset int
	}{
		{signet.UserFilter{}, 50, 0},
		{signet.UserFilter{Page: 2}, 50, 100},
		{signet.UserFilter{Page: -1, PerPage: 10}, 10, 0},
		{signet.UserFilter{Page: 3, PerPage: -5}, 50, 150},
		{signet.UserFilter{Page: 1, PerPage: 7}, 7, 7},
	} {
		if l, o := tc.f.Limit(); l != tc.limit || o != tc.offset {
			t.Errorf("%+v.Limit() = %d, %d; want %d, %d", tc.f, l, o, tc.limit, tc.offset)
		}
	}
}

func TestEventFilterMax(t *testing.T) {
	for limit, want := range map[int]int{0: 100, -3: 100, 1: 1, 250: 250} {
		if got := (signet.EventFilter{Limit: limit}).Max(); got != want {
			t.Errorf("EventFilter{Limit: %d}.Max() = %d, want %d", limit, got, want)
		}
	}
}

func TestTenantUpdatedEvent(t *testing.T) {
	tn := signet.Tenant{Name: "acme", Hosts: []string{"a.example", "b.example:8443"}, Algorithm: "ES256",
		Policy: signet.Policy{RotationPeriod: 90 * 24 * time.Hour, MinNextAge: time.Hour}}
	e := tn.UpdatedEvent(t0, "admin:ops@example.com")
	if e.Tenant != "acme" || !e.Time.Equal(t0) || e.Type != signet.EventTenantUpdated || e.KID != "" || e.Actor != "admin:ops@example.com" {
		t.Errorf("event = %+v", e)
	}
	want := map[string]string{"hosts": "a.example,b.example:8443", "algorithm": "ES256",
		"rotation_period": "2160h0m0s", "revoke_previous_after": "0s", "min_next_age": "1h0m0s"}
	if len(e.Data) != len(want) {
		t.Errorf("Data = %v, want %v", e.Data, want)
	}
	for k, v := range want {
		if e.Data[k] != v {
			t.Errorf("Data[%s] = %q, want %q", k, e.Data[k], v)
		}
	}
}
