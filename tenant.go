package signet

import (
	"regexp"
	"strings"
	"time"
)

// DefaultAlgorithm is the JWS algorithm of new keys unless a tenant says otherwise.
const DefaultAlgorithm = "RS256"

// Tenant is one isolated authority: its own hosts, issuer, keys, clients and
// Management API.
type Tenant struct {
	// Name is the tenant's slug, [a-z0-9-]{3,63}.
	Name string
	// Hosts are the Host header values (host or host:port, lower case) that
	// reach the tenant; the first is its primary host and names its certificates.
	Hosts []string
	// Algorithm is the JWS algorithm of the tenant's keys (default RS256).
	Algorithm string
	// Policy is the tenant's automatic rotation policy.
	Policy    Policy
	CreatedAt time.Time
}

// Policy governs automatic rotation. The zero Policy reproduces Auth0's
// manual behaviour.
type Policy struct {
	// RotationPeriod rotates the keys this long after the last rotation; 0 = manual only.
	RotationPeriod time.Duration
	// RevokePreviousAfter revokes previous keys this long after they stopped
	// signing; 0 = never.
	RevokePreviousAfter time.Duration
	// MinNextAge is the least time a next key must have been published before a
	// scheduled rotation promotes it.
	MinNextAge time.Duration
}

// UpdatedEvent returns the EventTenantUpdated event, dated now, that
// records the hosts, algorithm and policy Store.UpdateTenant stores for t
// on behalf of actor.
func (t Tenant) UpdatedEvent(now time.Time, actor string) Event {
	return Event{
		Tenant: t.Name,
		Time:   now,
		Type:   EventTenantUpdated,
		Actor:  actor,
		Data: map[string]string{
			"hosts":                 strings.Join(t.Hosts, ","),
			"algorithm":             t.Algorithm,
			"rotation_period":       t.Policy.RotationPeriod.String(),
			"revoke_previous_after": t.Policy.RevokePreviousAfter.String(),
			"min_next_age":          t.Policy.MinNextAge.String(),
		},
	}
}

var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// ValidateTenantName checks a tenant slug: 3 to 63 characters of a-z, 0-9 and
// '-', not starting or ending with '-'.
// Returns EINVALID otherwise.
func ValidateTenantName(name string) error {
	if !tenantName.MatchString(name) {
		return Errorf(EINVALID, "Invalid tenant name %q: use 3 to 63 characters a-z, 0-9 and '-', not starting or ending with '-'.", name)
	}
	return nil
}

// Validate checks a policy: no negative durations, and a minimum next-key
// age shorter than the rotation period (or the next key could never be
// promoted on schedule).
// Returns EINVALID otherwise.
func (p Policy) Validate() error {
	switch {
	case p.RotationPeriod < 0 || p.RevokePreviousAfter < 0 || p.MinNextAge < 0:
		return Errorf(EINVALID, "Policy durations cannot be negative.")
	case p.RotationPeriod > 0 && p.MinNextAge >= p.RotationPeriod:
		return Errorf(EINVALID, "min_next_age (%s) must be shorter than rotation_period (%s).", p.MinNextAge, p.RotationPeriod)
	}
	return nil
}
