package mgmt

import (
	"net/http"
	"time"

	"github.com/signet-auth/signet"
)

// maxPolicySeconds bounds policy durations: ten years.
const maxPolicySeconds = 10 * 365 * 24 * 3600

// policyObject is Signet's rotation policy (an extension; Auth0 has none).
// Durations are whole seconds; 0 disables the rule.
type policyObject struct {
	RotationPeriod      int64 `json:"rotation_period"`
	RevokePreviousAfter int64 `json:"revoke_previous_after"`
	MinNextAge          int64 `json:"min_next_age"`
	// NextRotation is when the rotation period next elapses; absent without one.
	NextRotation time.Time `json:"next_rotation,omitzero"`
	// RotationHeld says why a rotation that is due waits, if it does.
	RotationHeld string `json:"rotation_held,omitempty"`
}

func newPolicyObject(p signet.Policy, s signet.Schedule) policyObject {
	return policyObject{
		RotationPeriod:      int64(p.RotationPeriod / time.Second),
		RevokePreviousAfter: int64(p.RevokePreviousAfter / time.Second),
		MinNextAge:          int64(p.MinNextAge / time.Second),
		NextRotation:        utc(s.NextRotation),
		RotationHeld:        s.Held,
	}
}

// getPolicy answers GET /api/v2/keys/signing/policy.
func (a *API) getPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	v := c.req.View
	writeJSON(w, http.StatusOK, newPolicyObject(v.Tenant.Policy, a.ring.Schedule(v)))
	return nil
}

// updatePolicy answers PATCH /api/v2/keys/signing/policy: the fields given
// change, the others stay.
func (a *API) updatePolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, "rotation_period", "revoke_previous_after", "min_next_age")
	if err != nil {
		return err
	}
	fields := []struct {
		name string
		dst  func(*signet.Policy) *time.Duration
	}{
		{"rotation_period", func(p *signet.Policy) *time.Duration { return &p.RotationPeriod }},
		{"revoke_previous_after", func(p *signet.Policy) *time.Duration { return &p.RevokePreviousAfter }},
		{"min_next_age", func(p *signet.Policy) *time.Duration { return &p.MinNextAge }},
	}
	p := c.req.View.Tenant.Policy
	for _, f := range fields {
		n, ok, err := o.integer(f.name, 0, maxPolicySeconds)
		if err != nil {
			return err
		}
		if ok {
			*f.dst(&p) = time.Duration(n) * time.Second
		}
	}
	if _, err := a.ring.UpdatePolicy(r.Context(), c.tenant, p, c.actor); err != nil {
		return err
	}
	v, ok := a.ring.View(c.tenant)
	if !ok {
		return signet.ErrTenantNotFound
	}
	writeJSON(w, http.StatusOK, newPolicyObject(v.Tenant.Policy, a.ring.Schedule(v)))
	return nil
}
