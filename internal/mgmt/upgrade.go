package mgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
)

// errUpToDate stops a store update that has nothing to change.
var errUpToDate = errors.New("up to date")

// ResourceServer returns tenant's built-in Management API resource server
// (keyring.Ring.CreateTenant creates it). Returns an error matching
// signet.ErrNotFound if the tenant has none.
func ResourceServer(ctx context.Context, store Store, tenant string) (signet.ResourceServer, error) {
	rss, err := store.ResourceServers(ctx, tenant)
	if err != nil {
		return signet.ResourceServer{}, fmt.Errorf("management api of %s: %w", tenant, err)
	}
	for _, rs := range rss {
		if rs.System {
			return rs, nil
		}
	}
	return signet.ResourceServer{}, signet.Errorf(signet.ENOTFOUND, "Tenant %s has no %s.", tenant, keyring.ManagementAPIName)
}

// missingScopes returns the scopes of keyring.ManagementScopes that are not
// in have.
func missingScopes(have []signet.Scope) []signet.Scope {
	var out []signet.Scope
	for _, s := range keyring.ManagementScopes {
		if !slices.ContainsFunc(have, func(h signet.Scope) bool { return h.Value == s.Value }) {
			out = append(out, s)
		}
	}
	return out
}

// Upgrade adds to tenant's built-in Management API the scopes of
// keyring.ManagementScopes it lacks: a tenant created before Signet defined
// a scope gets it, so that its clients can be granted it. The added scopes
// go after the ones it has; nothing is removed or changed. The check and
// the change run in one store transaction, so replicas starting at once all
// converge and a second call changes nothing. Returns the values added
// (none if it was up to date) and an error matching signet.ErrNotFound if
// the tenant or its Management API is missing.
func (a *API) Upgrade(ctx context.Context, tenant string) ([]string, error) {
	rs, err := ResourceServer(ctx, a.store, tenant)
	if err != nil {
		return nil, err
	}
	if len(missingScopes(rs.Scopes)) == 0 {
		return nil, nil // the common case: no write, no lock
	}
	var added []string
	_, err = a.store.UpdateResourceServer(ctx, tenant, rs.ID, func(rs *signet.ResourceServer) error {
		added = added[:0]
		missing := missingScopes(rs.Scopes)
		if len(missing) == 0 {
			return errUpToDate // another replica was first
		}
		for _, s := range missing {
			added = append(added, s.Value)
		}
		rs.Scopes = append(slices.Clip(rs.Scopes), missing...)
		rs.UpdatedAt = a.now().UTC()
		return nil
	})
	if errors.Is(err, errUpToDate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("upgrade management api of %s: %w", tenant, err)
	}
	a.logger.Info("management api scopes added", "tenant", tenant, "scopes", added)
	return added, nil
}

// UpgradeAll runs Upgrade for every tenant with a view in the ring (call
// its Load first): one resource-server list read per tenant, and a write
// only where scopes are missing. A tenant without a Management API is
// logged and skipped. Returns the first other error, after trying every
// tenant.
func (a *API) UpgradeAll(ctx context.Context) error {
	var first error
	for _, v := range a.ring.Views() {
		_, err := a.Upgrade(ctx, v.Tenant.Name)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, signet.ErrNotFound):
			a.logger.Warn("tenant without a management api", "tenant", v.Tenant.Name, "err", err)
		default:
			a.logger.Error("upgrade management api", "tenant", v.Tenant.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// GrantNewScopes gives clientID's grant for tenant's built-in Management
// API the scopes of keyring.ManagementScopes that the API itself lacks, if
// the grant holds every one of them the API has: a client granted the whole
// Management API (the one bootstrap creates) keeps the whole of it when
// Upgrade adds scopes, so call this first. A grant narrowed to fewer scopes
// is left alone, as is a client without a grant. Safe on several replicas
// at once, like Upgrade. Returns the values added to the grant (none if
// nothing changed) and an error matching signet.ErrNotFound if the tenant
// or its Management API is missing.
func (a *API) GrantNewScopes(ctx context.Context, tenant, clientID string) ([]string, error) {
	rs, err := ResourceServer(ctx, a.store, tenant)
	if err != nil {
		return nil, err
	}
	missing := missingScopes(rs.Scopes)
	if len(missing) == 0 {
		return nil, nil
	}
	gs, err := a.store.ClientGrants(ctx, tenant, signet.GrantFilter{ClientID: clientID, Audience: rs.Identifier})
	if err != nil {
		return nil, fmt.Errorf("grant management scopes to %s: %w", clientID, err)
	}
	if len(gs) == 0 {
		return nil, nil
	}
	var added []string
	_, err = a.store.UpdateClientGrant(ctx, tenant, gs[0].ID, func(g *signet.ClientGrant) error {
		added = added[:0]
		for _, s := range keyring.ManagementScopes {
			if slices.ContainsFunc(rs.Scopes, func(h signet.Scope) bool { return h.Value == s.Value }) && !slices.Contains(g.Scope, s.Value) {
				return errUpToDate // narrowed by an administrator
			}
		}
		for _, s := range missing {
			if !slices.Contains(g.Scope, s.Value) {
				added = append(added, s.Value)
			}
		}
		if len(added) == 0 {
			return errUpToDate // another replica was first
		}
		g.Scope = append(slices.Clip(g.Scope), added...)
		g.UpdatedAt = a.now().UTC()
		return nil
	})
	if errors.Is(err, errUpToDate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("grant management scopes to %s: %w", clientID, err)
	}
	a.logger.Info("management api scopes granted", "tenant", tenant, "client_id", clientID, "scopes", added)
	return added, nil
}
