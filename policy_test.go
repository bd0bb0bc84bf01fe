package signet_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    signet.Policy
		ok   bool
	}{
		{"manual only (Auth0's behaviour)", signet.Policy{}, true},
		{"monthly with a 10 minute next age", signet.Policy{RotationPeriod: 720 * time.Hour, MinNextAge: 10 * time.Minute}, true},
		{"revoke after a week", signet.Policy{RevokePreviousAfter: 168 * time.Hour}, true},
		{"negative period", signet.Policy{RotationPeriod: -time.Hour}, false},
		{"negative grace", signet.Policy{RevokePreviousAfter: -time.Hour}, false},
		{"negative next age", signet.Policy{MinNextAge: -time.Second}, false},
		{"next age as long as the period", signet.Policy{RotationPeriod: time.Hour, MinNextAge: time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, signet.ErrInvalid) {
				t.Errorf("Validate error %v does not match ErrInvalid", err)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cert := []byte("cert")
	// current since t0, next published at t0+1h, previous p1 stopped at t0,
	// p2 stopped at t0-48h, r revoked.
	ks := signet.Keyset{Tenant: "acme", Keys: []signet.Key{
		{KID: "cur", State: signet.StateCurrent, Certificate: cert, CreatedAt: t0.Add(-72 * time.Hour), CurrentSince: t0},
		{KID: "next", State: signet.StateNext, Certificate: cert, CreatedAt: t0.Add(time.Hour)},
		{KID: "p1", State: signet.StatePrevious, Certificate: cert, CurrentUntil: t0},
		{KID: "p2", State: signet.StatePrevious, Certificate: cert, CurrentUntil: t0.Add(-48 * time.Hour)},
		{KID: "r", State: signet.StateRevoked, Certificate: cert, CurrentUntil: t0.Add(-96 * time.Hour), RevokedAt: t0},
	}}
	day := 24 * time.Hour
	tests := []struct {
		name       string
		now        time.Time
		p          signet.Policy
		minNextAge time.Duration
		rotate     bool
		held       bool
		revoke     []string
	}{
		{"manual policy never acts", t0.Add(1000 * day), signet.Policy{}, 0, false, false, nil},
		{"period not elapsed", t0.Add(6 * day), signet.Policy{RotationPeriod: 7 * day}, 0, false, false, nil},
		{"period elapsed", t0.Add(7 * day), signet.Policy{RotationPeriod: 7 * day}, 0, true, false, nil},
		{"period elapsed but next too young (policy)", t0.Add(2 * time.Hour), signet.Policy{RotationPeriod: time.Hour, MinNextAge: 59*time.Minute + 2*time.Hour}, 0, false, true, nil},
		{"period elapsed but next younger than the JWKS max-age", t0.Add(time.Hour + 4*time.Minute), signet.Policy{RotationPeriod: time.Hour}, 5 * time.Minute, false, true, nil},
		{"next old enough for the JWKS max-age", t0.Add(time.Hour + 5*time.Minute), signet.Policy{RotationPeriod: time.Hour}, 5 * time.Minute, true, false, nil},
		{"grace passed for the older previous key only", t0.Add(day), signet.Policy{RevokePreviousAfter: 2 * day}, 0, false, false, []string{"p2"}},
		{"grace passed for both, newest first", t0.Add(2 * day), signet.Policy{RevokePreviousAfter: 2 * day}, 0, false, false, []string{"p1", "p2"}},
		{"revoked keys are never listed", t0.Add(1000 * day), signet.Policy{RevokePreviousAfter: time.Hour}, 0, false, false, []string{"p1", "p2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ks.Schedule(tt.now, tt.p, tt.minNextAge)
			if s.Rotate != tt.rotate || (s.Held != "") != tt.held {
				t.Errorf("Schedule = rotate %v held %q, want rotate %v held %v", s.Rotate, s.Held, tt.rotate, tt.held)
			}
			if !slices.Equal(s.Revoke, tt.revoke) {
				t.Errorf("Revoke = %v, want %v", s.Revoke, tt.revoke)
			}
			if tt.p.RotationPeriod > 0 && !s.NextRotation.Equal(t0.Add(tt.p.RotationPeriod)) {
				t.Errorf("NextRotation = %v", s.NextRotation)
			}
		})
	}
}
