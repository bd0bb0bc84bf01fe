package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/signet-auth/signet"
)

// errNothingToRevoke stops a bulk revocation that matches no key, so its
// transaction writes nothing.
var errNothingToRevoke = errors.New("no previous key to revoke")

// RevokePreviousBefore revokes every previous key of the tenant that stopped
// signing before cutoff, in one store transaction, with actor as the actor of
// each revocation's audit event (the same event a single Revoke writes).
// The current and next keys are never revoked, nor a previous key that
// stopped signing at cutoff or later. Returns the revoked keys, most recently
// current first: none, and no change, if no key matched.
// Returns ErrTenantNotFound for an unknown tenant.
func (r *Ring) RevokePreviousBefore(ctx context.Context, tenant string, cutoff time.Time, actor string) ([]signet.Key, error) {
	var out []signet.Key
	_, err := r.cfg.Store.UpdateKeyset(ctx, tenant, func(ks *signet.Keyset) error {
		revoked, err := ks.RevokePreviousBefore(r.cfg.Now().UTC(), cutoff)
		if err != nil {
			return err
		}
		if len(revoked) == 0 {
			return errNothingToRevoke
		}
		out = revoked
		for i := range ks.Events {
			ks.Events[i].Actor = actor
		}
		return nil
	})
	if errors.Is(err, errNothingToRevoke) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("revoke previous keys of tenant %s: %w", tenant, err)
	}
	kids := make([]string, len(out))
	for i, k := range out {
		kids[i] = k.KID
		r.changed(ChangeRevoke, actor)
	}
	if err := r.Refresh(ctx, tenant); err != nil {
		return nil, err
	}
	r.cfg.Logger.Info("previous signing keys revoked", "tenant", tenant, "actor", actor,
		"before", cutoff.UTC(), "kids", kids)
	return out, nil
}
