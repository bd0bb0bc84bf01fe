package keyring

import (
	"context"
	"errors"
	"fmt"

	"github.com/signet-auth/signet"
)

// errNotDue stops a scheduled change whose reason vanished before its
// transaction (another replica, or an operator, acted first).
var errNotDue = errors.New("no longer due")

// EnforcePolicies applies every tenant's rotation policy once: it rotates
// the tenants whose rotation period has elapsed — unless their next key has
// been published for less than the policy's MinNextAge or the JWKS max-age,
// so no client that honours Cache-Control meets an unknown kid — and revokes
// previous keys whose grace period has passed. Each change re-checks the
// schedule inside its transaction, so replicas enforcing the same policy at
// once change the keyset once. Failures are logged, not returned.
func (r *Ring) EnforcePolicies(ctx context.Context) {
	for _, v := range r.Views() {
		if ctx.Err() != nil {
			return
		}
		p := v.Tenant.Policy
		if p.RotationPeriod == 0 && p.RevokePreviousAfter == 0 {
			continue
		}
		now := r.cfg.Now().UTC()
		s := v.Keyset.Schedule(now, p, r.cfg.JWKSMaxAge)
		if s.Held != "" {
			r.cfg.Logger.Warn("scheduled rotation held", "tenant", v.Tenant.Name, "reason", s.Held)
		}
		if s.Rotate {
			if err := r.scheduledRotate(ctx, v.Tenant); err != nil && !errors.Is(err, errNotDue) {
				r.cfg.Logger.Error("scheduled rotation", "tenant", v.Tenant.Name, "err", err)
			}
		}
		if len(s.Revoke) > 0 {
			if err := r.expirePrevious(ctx, v.Tenant); err != nil && !errors.Is(err, errNotDue) {
				r.cfg.Logger.Error("scheduled revocation", "tenant", v.Tenant.Name, "err", err)
			}
		}
	}
}

// scheduledRotate rotates t if its schedule still says so inside the transaction.
func (r *Ring) scheduledRotate(ctx context.Context, t signet.Tenant) error {
	fresh, err := r.freshKey(ctx, t, r.cfg.Now().UTC())
	if err != nil {
		return err
	}
	var rot signet.Rotation
	_, err = r.cfg.Store.UpdateKeyset(ctx, t.Name, func(ks *signet.Keyset) error {
		now := r.cfg.Now().UTC()
		if !ks.Schedule(now, t.Policy, r.cfg.JWKSMaxAge).Rotate {
			return errNotDue
		}
		var err error
		if rot, err = ks.Rotate(now, fresh); err != nil {
			return err
		}
		for i := range ks.Events {
			ks.Events[i].Actor = ActorPolicy
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rotate tenant %s: %w", t.Name, err)
	}
	r.changed(ChangeRotate, ActorPolicy)
	r.cfg.Logger.Info("signing key rotated", "tenant", t.Name, "actor", ActorPolicy, "current", rot.Current, "next", rot.Next)
	return r.Refresh(ctx, t.Name)
}

// expirePrevious revokes t's previous keys whose grace period has passed.
func (r *Ring) expirePrevious(ctx context.Context, t signet.Tenant) error {
	var revoked []string
	_, err := r.cfg.Store.UpdateKeyset(ctx, t.Name, func(ks *signet.Keyset) error {
		now := r.cfg.Now().UTC()
		revoked = ks.Schedule(now, t.Policy, r.cfg.JWKSMaxAge).Revoke
		if len(revoked) == 0 {
			return errNotDue
		}
		for _, kid := range revoked {
			if _, err := ks.Revoke(now, kid); err != nil {
				return err
			}
		}
		for i := range ks.Events {
			ks.Events[i].Actor = ActorPolicy
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke expired keys of tenant %s: %w", t.Name, err)
	}
	for range revoked {
		r.changed(ChangeRevoke, ActorPolicy)
	}
	r.cfg.Logger.Info("previous signing keys revoked", "tenant", t.Name, "actor", ActorPolicy, "kids", revoked)
	return r.Refresh(ctx, t.Name)
}

// ActorPolicy is the actor of changes made by a rotation policy.
const ActorPolicy = "policy"

// UpdateTenant applies fn to a tenant (its hosts and policy; the name and
// algorithm stay), records it as a change by actor and installs the new
// view. The primary host, which names certificates and the Management API
// identifier, cannot change.
// Returns fn's error, EINVALID for invalid hosts or policy,
// ErrTenantNotFound, and ErrConflict if a host belongs to another tenant.
func (r *Ring) UpdateTenant(ctx context.Context, name, actor string, fn func(*signet.Tenant) error) (signet.Tenant, error) {
	t, err := r.cfg.Store.UpdateTenant(ctx, name, actor, func(t *signet.Tenant) error {
		primary, alg := t.Hosts[0], t.Algorithm
		if err := fn(t); err != nil {
			return err
		}
		hosts, err := normalizeHosts(t.Hosts)
		if err != nil {
			return err
		}
		if hosts[0] != primary {
			return signet.Errorf(signet.EINVALID, "The primary host %s cannot be removed or moved.", primary)
		}
		t.Hosts, t.Algorithm = hosts, alg
		return t.Policy.Validate()
	})
	if err != nil {
		return signet.Tenant{}, fmt.Errorf("update tenant %s: %w", name, err)
	}
	if err := r.Refresh(ctx, name); err != nil {
		return signet.Tenant{}, err
	}
	p := t.Policy
	r.cfg.Logger.Info("tenant updated", "tenant", name, "actor", actor, "hosts", t.Hosts, "rotation_period", p.RotationPeriod,
		"revoke_previous_after", p.RevokePreviousAfter, "min_next_age", p.MinNextAge)
	return t, nil
}

// UpdatePolicy sets a tenant's rotation policy on behalf of actor.
// Returns EINVALID for an invalid policy and ErrTenantNotFound.
func (r *Ring) UpdatePolicy(ctx context.Context, tenant string, p signet.Policy, actor string) (signet.Tenant, error) {
	return r.UpdateTenant(ctx, tenant, actor, func(t *signet.Tenant) error {
		t.Policy = p
		return nil
	})
}

// Schedule returns what the tenant's policy asks of its keyset now, with the
// JWKS max-age as the least next-key age.
func (r *Ring) Schedule(v *View) signet.Schedule {
	return v.Keyset.Schedule(r.cfg.Now().UTC(), v.Tenant.Policy, r.cfg.JWKSMaxAge)
}
