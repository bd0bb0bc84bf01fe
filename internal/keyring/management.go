package keyring

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/signet-auth/signet"
)

// errUpToDate stops a store update that has nothing to change.
var errUpToDate = errors.New("up to date")

// ManagementAPI returns tenant's built-in Management API resource server.
// Returns an error matching signet.ErrNotFound if the tenant has none.
func (r *Ring) ManagementAPI(ctx context.Context, tenant string) (signet.ResourceServer, error) {
	rss, err := r.cfg.Store.ResourceServers(ctx, tenant)
	if err != nil {
		return signet.ResourceServer{}, fmt.Errorf("management api of %s: %w", tenant, err)
	}
	for _, rs := range rss {
		if rs.System {
			return rs, nil
		}
	}
	return signet.ResourceServer{}, signet.Errorf(signet.ENOTFOUND, "Tenant %s has no %s.", tenant, ManagementAPIName)
}

// missingScopes returns the scopes of ManagementScopes that are not in have.
func missingScopes(have []signet.Scope) []signet.Scope {
	var out []signet.Scope
	for _, s := range ManagementScopes {
		if !slices.ContainsFunc(have, func(h signet.Scope) bool { return h.Value == s.Value }) {
			out = append(out, s)
		}
	}
	return out
}

// UpgradeManagementAPI adds to tenant's built-in Management API the scopes
// of ManagementScopes it lacks: a tenant created before Signet defined a
// scope gets it, so that its clients can be granted it. The added scopes go
// after the ones it has; nothing is removed or changed. The check and the
// change run in one store transaction, so replicas starting at once all
// converge and a second call changes nothing. Returns the values added
// (none if it was up to date) and an error matching signet.ErrNotFound if
// the tenant or its Management API is missing.
func (r *Ring) UpgradeManagementAPI(ctx context.Context, tenant string) ([]string, error) {
	rs, err := r.ManagementAPI(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if len(missingScopes(rs.Scopes)) == 0 {
		return nil, nil // the common case: no write, no lock
	}
	var added []string
	_, err = r.cfg.Store.UpdateResourceServer(ctx, tenant, rs.ID, func(rs *signet.ResourceServer) error {
		added = added[:0]
		missing := missingScopes(rs.Scopes)
		if len(missing) == 0 {
			return errUpToDate // another replica was first
		}
		for _, s := range missing {
			added = append(added, s.Value)
		}
		rs.Scopes = append(slices.Clip(rs.Scopes), missing...)
		rs.UpdatedAt = r.cfg.Now().UTC()
		return nil
	})
	if errors.Is(err, errUpToDate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("upgrade management api of %s: %w", tenant, err)
	}
	r.cfg.Logger.Info("management api scopes added", "tenant", tenant, "scopes", added)
	return added, nil
}

// UpgradeManagementAPIs runs UpgradeManagementAPI for every tenant with a
// view (call Load first): one resource-server list read per tenant, and a
// write only where scopes are missing. A tenant without a Management API is
// logged and skipped. Returns the first other error, after trying every
// tenant.
func (r *Ring) UpgradeManagementAPIs(ctx context.Context) error {
	var first error
	for _, v := range r.Views() {
		_, err := r.UpgradeManagementAPI(ctx, v.Tenant.Name)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, signet.ErrNotFound):
			r.cfg.Logger.Warn("tenant without a management api", "tenant", v.Tenant.Name, "err", err)
		default:
			r.cfg.Logger.Error("upgrade management api", "tenant", v.Tenant.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// GrantNewManagementScopes gives clientID's grant for tenant's built-in
// Management API the scopes of ManagementScopes that the API itself lacks,
// if the grant holds every one of them the API has: a client granted the whole
// Management API (the one bootstrap creates) keeps the whole of it when
// UpgradeManagementAPI adds scopes, so call this first. A grant narrowed
// to fewer scopes is left alone, as is a client without a grant. Safe on
// several replicas at once, like UpgradeManagementAPI. Returns the values
// added to the grant (none if nothing changed) and an error matching
// signet.ErrNotFound if the tenant or its Management API is missing.
func (r *Ring) GrantNewManagementScopes(ctx context.Context, tenant, clientID string) ([]string, error) {
	rs, err := r.ManagementAPI(ctx, tenant)
	if err != nil {
		return nil, err
	}
	missing := missingScopes(rs.Scopes)
	if len(missing) == 0 {
		return nil, nil
	}
	gs, err := r.cfg.Store.ClientGrants(ctx, tenant, signet.GrantFilter{ClientID: clientID, Audience: rs.Identifier})
	if err != nil {
		return nil, fmt.Errorf("grant management scopes to %s: %w", clientID, err)
	}
	if len(gs) == 0 {
		return nil, nil
	}
	var added []string
	_, err = r.cfg.Store.UpdateClientGrant(ctx, tenant, gs[0].ID, func(g *signet.ClientGrant) error {
		added = added[:0]
		for _, s := range ManagementScopes {
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
		g.UpdatedAt = r.cfg.Now().UTC()
		return nil
	})
	if errors.Is(err, errUpToDate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("grant management scopes to %s: %w", clientID, err)
	}
	r.cfg.Logger.Info("management api scopes granted", "tenant", tenant, "client_id", clientID, "scopes", added)
	return added, nil
}
