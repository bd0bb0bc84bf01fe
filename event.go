package signet

import "time"

// Event types recorded in the audit log.
const (
	EventKeysetCreated = "signing_keys.created" // a tenant's first keyset
	EventKeyRotated    = "signing_key.rotated"  // next → current → previous
	EventKeyRevoked    = "signing_key.revoked"  // previous → revoked
	EventTenantUpdated = "tenant.updated"       // hosts, algorithm or policy stored by UpdateTenant
)

// Event is one audit-log entry. Keyset changes record events that the store
// writes in the same transaction as the change.
type Event struct {
	// Seq is the store-assigned sequence number; zero until stored.
	Seq    int64
	Tenant string
	Time   time.Time
	Type   string
	// Actor is who made the change: a client_id, "admin:<email>" (the
	// dashboard), "cli", "policy" or "system".
	Actor string
	// KID is the key the event is about: the new current key for a rotation,
	// the revoked key for a revocation.
	KID string
	// IdempotencyKey, if set, is unique per tenant: storing a second event with
	// the same key fails with ErrConflict and rolls the change back.
	IdempotencyKey string
	// Data holds further details (previous_kid, next_kid, revoked_kid, warning).
	Data map[string]string
}

// Max returns how many events f allows at most: Limit, or 100 if Limit is
// not positive.
func (f EventFilter) Max() int {
	if f.Limit <= 0 {
		return 100
	}
	return f.Limit
}
