package signet

import (
	"fmt"
	"time"
)

// Schedule is what a tenant's policy asks of its keyset at a given time.
type Schedule struct {
	// Rotate is true when a scheduled rotation is due now.
	Rotate bool
	// Held explains why a rotation that is due by the rotation period waits:
	// the next key has not been published for minNextAge yet. Empty otherwise.
	Held string
	// NextRotation is when the rotation period next elapses (zero without a period).
	NextRotation time.Time
	// Revoke lists the previous keys whose grace period (RevokePreviousAfter
	// since they stopped signing) has passed.
	Revoke []string
}

// Schedule returns what policy p asks of the keyset at now. minNextAge is
// the least time the next key must have been published before a scheduled
// rotation promotes it: the larger of p.MinNextAge and the JWKS cache
// lifetime the caller serves, so that every client honouring Cache-Control
// already holds the key that starts signing. The keyset must be valid.
func (ks *Keyset) Schedule(now time.Time, p Policy, minNextAge time.Duration) Schedule {
	var s Schedule
	minNextAge = max(minNextAge, p.MinNextAge)
	if p.RotationPeriod > 0 {
		cur, next := ks.Current(), ks.Next()
		s.NextRotation = cur.CurrentSince.Add(p.RotationPeriod)
		if !now.Before(s.NextRotation) {
			if age := now.Sub(next.CreatedAt); age < minNextAge {
				s.Held = fmt.Sprintf("next key %s has been published for %s, less than %s", next.KID, age.Round(time.Second), minNextAge)
			} else {
				s.Rotate = true
			}
		}
	}
	if p.RevokePreviousAfter > 0 {
		for _, k := range ks.previous() {
			if !now.Before(k.CurrentUntil.Add(p.RevokePreviousAfter)) {
				s.Revoke = append(s.Revoke, k.KID)
			}
		}
	}
	return s
}
