package signet

import (
	"bytes"
	"fmt"
	"slices"
	"time"
)

// Keyset is all signing keys of one tenant. Its methods are the lifecycle
// rules; they change the keyset in memory only and record what they did in
// Events, which a Store writes in the same transaction as the keys.
type Keyset struct {
	Tenant string
	// Keys are in creation order, which is also the order in which they
	// become current.
	Keys []Key
	// Events are the changes made since the keyset was loaded. Store.UpdateKeyset
	// persists them with the keys and clears them.
	Events []Event
	// Position is the tenant's change position: the number of keyset
	// changes committed so far, CreateTenant's included (so a stored
	// tenant's is at least 1). The store sets it when it reads or stores
	// the keyset; it is 0 in a keyset that does not come from a store.
	Position int64
}

// NewKeyset returns the first keyset of a tenant: current becomes the current
// key (current since now) and next the next key.
// Returns EINVALID if either key has no kid or both share one.
func NewKeyset(tenant string, now time.Time, current, next Key) (Keyset, error) {
	if current.KID == "" || next.KID == "" || current.KID == next.KID {
		return Keyset{}, Errorf(EINVALID, "a new keyset needs two keys with distinct kids")
	}
	if len(current.Certificate) == 0 || len(next.Certificate) == 0 {
		return Keyset{}, Errorf(EINVALID, "a new keyset needs two keys with certificates")
	}
	current.State, current.CurrentSince = StateCurrent, now
	next.State = StateNext
	ks := Keyset{Tenant: tenant, Keys: []Key{current, next}}
	ks.Events = append(ks.Events, Event{Tenant: tenant, Time: now, Type: EventKeysetCreated, KID: current.KID,
		Data: map[string]string{"next_kid": next.KID}})
	return ks, nil
}

// Validate reports whether the keyset holds exactly one current and exactly
// one next key, every key has a known state and no kid repeats.
// Returns an error matching ErrInvalidKeyset otherwise.
func (ks *Keyset) Validate() error {
	var current, next int
	seen := make(map[string]bool, len(ks.Keys))
	for _, k := range ks.Keys {
		if k.KID == "" || seen[k.KID] {
			return fmt.Errorf("%w: missing or repeated kid %q", ErrInvalidKeyset, k.KID)
		}
		seen[k.KID] = true
		switch k.State {
		case StateCurrent:
			current++
		case StateNext:
			next++
		case StatePrevious, StateRevoked:
		default:
			return fmt.Errorf("%w: key %s has unknown state %q", ErrInvalidKeyset, k.KID, k.State)
		}
	}
	if current != 1 || next != 1 {
		return fmt.Errorf("%w: %d current and %d next keys", ErrInvalidKeyset, current, next)
	}
	return nil
}

// ValidateFor checks a tenant's first keyset, as Store.CreateTenant does
// before it stores it: ks must be tenant's (or name no tenant) and valid.
// Returns EINVALID if ks belongs to another tenant and the error of Validate.
func (ks *Keyset) ValidateFor(tenant string) error {
	if ks.Tenant != "" && ks.Tenant != tenant {
		return Errorf(EINVALID, "The keyset belongs to tenant %q, not %q.", ks.Tenant, tenant)
	}
	return ks.Validate()
}

// Current returns the key that signs. The keyset must be valid.
func (ks *Keyset) Current() Key { return ks.first(StateCurrent) }

// Next returns the key that will sign after the next rotation. The keyset must be valid.
func (ks *Keyset) Next() Key { return ks.first(StateNext) }

func (ks *Keyset) first(s KeyState) Key {
	for _, k := range ks.Keys {
		if k.State == s {
			return k
		}
	}
	return Key{}
}

// Key returns the key with the given kid.
// Returns ErrKeyNotFound if the tenant has no such key.
func (ks *Keyset) Key(kid string) (Key, error) {
	if i := ks.index(kid); i >= 0 {
		return ks.Keys[i], nil
	}
	return Key{}, ErrKeyNotFound
}

func (ks *Keyset) index(kid string) int {
	return slices.IndexFunc(ks.Keys, func(k Key) bool { return k.KID == kid })
}

// Published returns the keys to publish (JWKS, metadata) in order: current,
// next, then previous keys that are not revoked, most recently current first.
func (ks *Keyset) Published() []Key {
	out := []Key{ks.Current(), ks.Next()}
	return append(out, ks.previous()...)
}

// Sorted returns every key in display order: current, next, previous (most
// recently current first), then revoked (most recently revoked first).
func (ks *Keyset) Sorted() []Key {
	out := ks.Published()
	var revoked []Key
	for _, k := range ks.Keys {
		if k.State == StateRevoked {
			revoked = append(revoked, k)
		}
	}
	slices.SortStableFunc(revoked, func(a, b Key) int { return b.RevokedAt.Compare(a.RevokedAt) })
	return append(out, revoked...)
}

func (ks *Keyset) previous() []Key {
	var prev []Key
	for _, k := range ks.Keys {
		if k.State == StatePrevious {
			prev = append(prev, k)
		}
	}
	slices.SortStableFunc(prev, func(a, b Key) int { return b.CurrentUntil.Compare(a.CurrentUntil) })
	return prev
}

// Rotation is the outcome of a rotation.
type Rotation struct {
	// Current is the key that has just become current (the former next key).
	Current Key
	// Previous is the key that was current; revoked after RotateAndRevoke.
	Previous Key
	// Next is the fresh key now published as next.
	Next Key
	// NextAge is how long the promoted key had been published as next: since
	// its CreatedAt, which is when it was wrapped for the tenant and stored.
	NextAge time.Duration
}

// Rotate promotes the next key to current, moves the current key to
// previous and adds fresh as the new next key. Tokens signed by the former
// current key keep verifying until it is revoked.
// Returns EINVALID if fresh has no kid, a kid already in the keyset, or no
// certificate, and an ErrInvalidKeyset error if the keyset was not valid.
func (ks *Keyset) Rotate(now time.Time, fresh Key) (Rotation, error) {
	if err := ks.Validate(); err != nil {
		return Rotation{}, err
	}
	if fresh.KID == "" || len(fresh.Certificate) == 0 {
		return Rotation{}, Errorf(EINVALID, "a fresh key needs a kid and a certificate")
	}
	if ks.index(fresh.KID) >= 0 {
		return Rotation{}, Errorf(EINVALID, "key %s is already in the keyset", fresh.KID)
	}
	var r Rotation
	for i := range ks.Keys {
		k := &ks.Keys[i]
		switch k.State {
		case StateCurrent:
			k.State, k.CurrentUntil = StatePrevious, now
			r.Previous = *k
		case StateNext:
			k.State, k.CurrentSince = StateCurrent, now
			r.Current = *k
		}
	}
	fresh.State = StateNext
	fresh.CurrentSince, fresh.CurrentUntil, fresh.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	ks.Keys = append(ks.Keys, fresh)
	r.Next = fresh
	r.NextAge = now.Sub(r.Current.CreatedAt)
	ks.Events = append(ks.Events, Event{Tenant: ks.Tenant, Time: now, Type: EventKeyRotated, KID: r.Current.KID,
		Data: map[string]string{"previous_kid": r.Previous.KID, "next_kid": r.Next.KID}})
	return r, nil
}

// Revoke revokes the previous key kid: it is never published or accepted
// again. Only a previous key can be revoked.
// Returns ErrKeyNotFound for an unknown kid, ErrRevokeCurrent or ErrRevokeNext
// for the current or next key, and ErrAlreadyRevoked for a revoked key.
func (ks *Keyset) Revoke(now time.Time, kid string) (Key, error) {
	if err := ks.Validate(); err != nil {
		return Key{}, err
	}
	i := ks.index(kid)
	if i < 0 {
		return Key{}, ErrKeyNotFound
	}
	k := &ks.Keys[i]
	switch k.State {
	case StateCurrent:
		return Key{}, ErrRevokeCurrent
	case StateNext:
		return Key{}, ErrRevokeNext
	case StateRevoked:
		return Key{}, ErrAlreadyRevoked
	}
	k.State, k.RevokedAt = StateRevoked, now
	ks.Events = append(ks.Events, Event{Tenant: ks.Tenant, Time: now, Type: EventKeyRevoked, KID: k.KID})
	return *k, nil
}

// RotateAndRevoke rotates and then revokes the key that was current, in one
// step: afterwards nothing signed by the old current key verifies.
// Returns the errors of Rotate.
func (ks *Keyset) RotateAndRevoke(now time.Time, fresh Key) (Rotation, error) {
	r, err := ks.Rotate(now, fresh)
	if err != nil {
		return Rotation{}, err
	}
	prev, err := ks.Revoke(now, r.Previous.KID)
	if err != nil {
		return Rotation{}, err // unreachable: the former current key is previous now
	}
	r.Previous = prev
	return r, nil
}

// RevokePreviousBefore revokes, in one step, every previous key that stopped
// signing before cutoff (CurrentUntil < cutoff) and returns them, most
// recently current first; each gets the event Revoke records. The current
// and next keys are never revoked, nor a previous key whose CurrentUntil is
// cutoff or later. Returns no keys and changes nothing if none matches, and
// an ErrInvalidKeyset error if the keyset was not valid.
func (ks *Keyset) RevokePreviousBefore(now, cutoff time.Time) ([]Key, error) {
	if err := ks.Validate(); err != nil {
		return nil, err
	}
	var out []Key
	for _, p := range ks.previous() {
		if !p.CurrentUntil.Before(cutoff) {
			continue
		}
		k, err := ks.Revoke(now, p.KID)
		if err != nil {
			return nil, err // unreachable: p is a previous key of a valid keyset
		}
		out = append(out, k)
	}
	return out, nil
}

// MaxPreviousKeys is how many previous (published, not revoked) keys a
// tenant may publish before GrowthWarning warns.
const MaxPreviousKeys = 5

// GrowthWarning returns the warning the key lists (Management API, dashboard,
// CLI) show when the keyset publishes more than MaxPreviousKeys previous
// keys, each of which makes the JWKS larger; "" otherwise.
func (ks *Keyset) GrowthWarning() string {
	n := len(ks.previous())
	if n <= MaxPreviousKeys {
		return ""
	}
	return fmt.Sprintf("The tenant publishes %d previous signing keys, more than %d: each adds about 1.5 KB to the JWKS (RS256; half that for ES256). "+
		"Revoke the previous keys no unexpired token needs, or set a retirement policy (revoke_previous_after) that revokes them automatically.",
		n, MaxPreviousKeys)
}

// KeysetChange is what Store.UpdateKeyset writes, in the transaction that
// loaded the keyset, after its function has changed it.
type KeysetChange struct {
	// Keyset is the changed keyset, valid, with its Tenant as loaded and
	// Events cleared: what UpdateKeyset returns.
	Keyset Keyset
	// Insert are the keys new to the keyset, in keyset order (the order in
	// which they must be stored).
	Insert []Key
	// Update are the keys whose stored fields changed.
	Update []Key
	// Delete are the kids of the keys no longer in the keyset.
	Delete []string
	// Events are the events to store with the keys.
	Events []Event
}

// ChangeKeyset calls fn with the loaded keyset ks, checks the result with
// Validate and returns what to store: the rule of Store.UpdateKeyset. fn may
// change ks and its keys in place; the comparison uses copies taken before.
// Returns fn's error or Validate's as they are.
func ChangeKeyset(ks Keyset, fn func(*Keyset) error) (KeysetChange, error) {
	tenant, loaded := ks.Tenant, make([]Key, len(ks.Keys))
	old := make(map[string]Key, len(ks.Keys))
	for i, k := range ks.Keys {
		k.Certificate = bytes.Clone(k.Certificate)
		k.SealedPrivateKey = bytes.Clone(k.SealedPrivateKey)
		loaded[i], old[k.KID] = k, k
	}
	if err := fn(&ks); err != nil {
		return KeysetChange{}, err
	}
	if err := ks.Validate(); err != nil {
		return KeysetChange{}, err
	}
	c := KeysetChange{Events: ks.Events}
	keep := make(map[string]bool, len(ks.Keys))
	for _, k := range ks.Keys {
		keep[k.KID] = true
		o, ok := old[k.KID]
		switch {
		case !ok:
			c.Insert = append(c.Insert, k)
		case !sameKey(o, k):
			c.Update = append(c.Update, k)
		}
	}
	for _, k := range loaded {
		if !keep[k.KID] {
			c.Delete = append(c.Delete, k.KID)
		}
	}
	ks.Tenant, ks.Events = tenant, nil
	c.Keyset = ks
	return c, nil
}

// sameKey reports whether storing b in place of a would change nothing.
func sameKey(a, b Key) bool {
	return a.KID == b.KID && a.Algorithm == b.Algorithm && a.State == b.State &&
		bytes.Equal(a.Certificate, b.Certificate) && bytes.Equal(a.SealedPrivateKey, b.SealedPrivateKey) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.CurrentSince.Equal(b.CurrentSince) &&
		a.CurrentUntil.Equal(b.CurrentUntil) && a.RevokedAt.Equal(b.RevokedAt)
}

// SetPositions sets the Position of the keys c inserts to ks.Position: what
// a store does once it has stored c at that position.
func (ks *Keyset) SetPositions(c KeysetChange) {
	for i := range ks.Keys {
		for _, n := range c.Insert {
			if n.KID == ks.Keys[i].KID {
				ks.Keys[i].Position = ks.Position
			}
		}
	}
}
