package mgmt

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/secret"
)

// grantObject is Auth0's client grant object.
type grantObject struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	Audience  string    `json:"audience"`
	Scope     []string  `json:"scope"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func newGrantObject(g signet.ClientGrant) grantObject {
	scope := g.Scope
	if scope == nil {
		scope = []string{}
	}
	return grantObject{ID: g.ID, ClientID: g.ClientID, Audience: g.Audience, Scope: scope,
		CreatedAt: utc(g.CreatedAt), UpdatedAt: utc(g.UpdatedAt)}
}

var (
	errGrantNotFound    = notFound("client_grant", "The client grant does not exist")
	errGrantRSNotFound  = notFound("resource_server", "No resource server found by specified identifier")
	errGrantConflict    = withCode("conflict", signet.Errorf(signet.ECONFLICT, "A client grant for this client and audience already exists"))
	errGrantScopeFormat = "Payload validation error: 'Scope not found: %s (not defined by the resource server %s)' on property scope."
)

// checkScopes returns scopes without repeats, checking that rs defines each.
// Returns EINVALID naming the first undefined scope.
func checkScopes(scopes []string, rs signet.ResourceServer) ([]string, error) {
	out := []string{}
	for _, s := range scopes {
		if !slices.ContainsFunc(rs.Scopes, func(d signet.Scope) bool { return d.Value == s }) {
			return nil, invalid(errGrantScopeFormat, s, rs.Identifier)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// createClientGrant answers POST /api/v2/client-grants. The client and the
// audience's resource server must exist, and the resource server must define
// every scope.
func (a *API) createClientGrant(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, "client_id", "audience", "scope")
	if err != nil {
		return err
	}
	clientID, ok, err := o.str("client_id", 1, 255)
	if err != nil {
		return err
	} else if !ok {
		return required("client_id")
	}
	aud, ok, err := o.str("audience", 1, maxRSIdentifier)
	if err != nil {
		return err
	} else if !ok {
		return required("audience")
	}
	scopes, ok, err := o.strs("scope")
	if err != nil {
		return err
	} else if !ok {
		return required("scope")
	}
	ctx := r.Context()
	if _, err := a.store.Client(ctx, c.tenant, clientID); err != nil {
		return clientErr(err)
	}
	rs, err := a.ring.ResourceServer(ctx, c.req.View, aud)
	if errors.Is(err, signet.ErrNotFound) {
		return errGrantRSNotFound
	}
	if err != nil {
		return err
	}
	if scopes, err = checkScopes(scopes, rs); err != nil {
		return err
	}
	now := a.now().UTC()
	g := signet.ClientGrant{
		Tenant:    c.tenant,
		ID:        secret.GrantID(),
		ClientID:  clientID,
		Audience:  rs.Identifier,
		Scope:     scopes,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := a.store.CreateClientGrant(ctx, g); err != nil {
		if errors.Is(err, signet.ErrConflict) {
			return errGrantConflict
		}
		return err
	}
	writeJSON(w, http.StatusCreated, newGrantObject(g))
	return nil
}

// listClientGrants answers GET /api/v2/client-grants, filtered by the
// optional client_id and audience query parameters, paged by page/per_page
// or from/take.
func (a *API) listClientGrants(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := readPaging(q, true)
	if err != nil {
		return err
	}
	f := signet.GrantFilter{ClientID: q.Get("client_id"), Audience: q.Get("audience")}
	if f.Audience != "" && a.ring.IsManagementAudience(c.req.View, f.Audience) {
		f.Audience = a.ring.ManagementAudience(c.req.View)
	}
	gs, err := a.store.ClientGrants(r.Context(), c.tenant, f)
	if err != nil {
		return err
	}
	out := make([]grantObject, len(gs))
	for i, g := range gs {
		out[i] = newGrantObject(g)
	}
	writePage(w, p, "client_grants", out)
	return nil
}

// getClientGrant answers GET /api/v2/client-grants/{id}.
func (a *API) getClientGrant(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	g, err := a.store.ClientGrant(r.Context(), c.tenant, r.PathValue("id"))
	if errors.Is(err, signet.ErrNotFound) {
		return errGrantNotFound
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newGrantObject(g))
	return nil
}

// updateClientGrant answers PATCH /api/v2/client-grants/{id}: it replaces the scope.
func (a *API) updateClientGrant(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, "scope")
	if err != nil {
		return err
	}
	scopes, hasScope, err := o.strs("scope")
	if err != nil {
		return err
	}
	ctx := r.Context()
	g, err := a.store.ClientGrant(ctx, c.tenant, r.PathValue("id"))
	if errors.Is(err, signet.ErrNotFound) {
		return errGrantNotFound
	}
	if err != nil {
		return err
	}
	if hasScope {
		rs, err := a.store.ResourceServerByIdentifier(ctx, c.tenant, g.Audience)
		if errors.Is(err, signet.ErrNotFound) {
			return errGrantRSNotFound
		}
		if err != nil {
			return err
		}
		if scopes, err = checkScopes(scopes, rs); err != nil {
			return err
		}
	}
	g, err = a.store.UpdateClientGrant(ctx, c.tenant, g.ID, func(g *signet.ClientGrant) error {
		if hasScope {
			g.Scope = scopes
		}
		g.UpdatedAt = a.now().UTC()
		return nil
	})
	if errors.Is(err, signet.ErrNotFound) {
		return errGrantNotFound
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newGrantObject(g))
	return nil
}

// deleteClientGrant answers DELETE /api/v2/client-grants/{id}.
func (a *API) deleteClientGrant(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	if err := a.store.DeleteClientGrant(r.Context(), c.tenant, r.PathValue("id")); err != nil {
		if errors.Is(err, signet.ErrNotFound) {
			return errGrantNotFound
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
