package mgmt

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/secret"
)

// Resource server field rules.
const (
	maxRSName            = 200
	maxRSIdentifier      = 600
	maxScopeValue        = 280
	maxScopeDescription  = 500
	maxTokenLifetime     = 2592000 // 30 days, Auth0's maximum
	maxIdentifiersFilter = 10      // Auth0's cap on ?identifiers=
)

// rsObject is Auth0's resource server object (the subset Signet keeps).
type rsObject struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Identifier    string         `json:"identifier"`
	Scopes        []signet.Scope `json:"scopes"`
	SigningAlg    string         `json:"signing_alg"`
	TokenLifetime int            `json:"token_lifetime"`
	IsSystem      bool           `json:"is_system"`
	CreatedAt     time.Time      `json:"created_at,omitzero"`
	UpdatedAt     time.Time      `json:"updated_at,omitzero"`
}

func newRSObject(rs signet.ResourceServer) rsObject {
	scopes := rs.Scopes
	if scopes == nil {
		scopes = []signet.Scope{}
	}
	return rsObject{
		ID: rs.ID, Name: rs.Name, Identifier: rs.Identifier, Scopes: scopes,
		SigningAlg: rs.SigningAlg, TokenLifetime: rs.TokenLifetime, IsSystem: rs.System,
		CreatedAt: utc(rs.CreatedAt), UpdatedAt: utc(rs.UpdatedAt),
	}
}

var (
	errRSNotFound = notFound("resource_server", "The resource server does not exist")
	errRSConflict = withCode("conflict", signet.Errorf(signet.ECONFLICT, "A resource server with the same identifier already exists"))
)

// applyRS sets the resource-server properties present in o on rs; alg is
// the only signing algorithm the tenant allows.
// Returns EINVALID for a bad value.
func applyRS(o object, rs *signet.ResourceServer, alg string) error {
	if name, ok, err := o.str("name", 1, maxRSName); err != nil {
		return err
	} else if ok {
		rs.Name = name
	}
	if objs, ok, err := o.objects("scopes"); err != nil {
		return err
	} else if ok {
		scopes := make([]signet.Scope, 0, len(objs))
		for _, so := range objs {
			if err := so.only("value", "description"); err != nil {
				return err
			}
			v, ok, err := so.str("value", 1, maxScopeValue)
			if err != nil {
				return err
			}
			if !ok {
				return required("scopes.value")
			}
			if strings.ContainsAny(v, " \t\r\n") {
				return invalid("Payload validation error: 'Scope values must not contain white space: %q' on property scopes.", v)
			}
			if slices.ContainsFunc(scopes, func(s signet.Scope) bool { return s.Value == v }) {
				return invalid("Payload validation error: 'Duplicate scope value: %q' on property scopes.", v)
			}
			d, _, err := so.str("description", 0, maxScopeDescription)
			if err != nil {
				return err
			}
			scopes = append(scopes, signet.Scope{Value: v, Description: d})
		}
		rs.Scopes = scopes
	}
	if a, ok, err := o.str("signing_alg", 1, 16); err != nil {
		return err
	} else if ok {
		if a != alg {
			return invalid("Payload validation error: 'Invalid signing_alg %q: this tenant signs with %s only' on property signing_alg.", a, alg)
		}
		rs.SigningAlg = a
	}
	if n, ok, err := o.integer("token_lifetime", 1, maxTokenLifetime); err != nil {
		return err
	} else if ok {
		rs.TokenLifetime = n
	}
	return nil
}

// createResourceServer answers POST /api/v2/resource-servers.
func (a *API) createResourceServer(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, "name", "identifier", "scopes", "signing_alg", "token_lifetime")
	if err != nil {
		return err
	}
	ident, ok, err := o.str("identifier", 1, maxRSIdentifier)
	if err != nil {
		return err
	}
	if !ok {
		return required("identifier")
	}
	if strings.ContainsAny(ident, " \t\r\n") {
		return invalid("Payload validation error: 'The identifier must not contain white space' on property identifier.")
	}
	if a.ring.IsManagementAudience(c.req.View, ident) {
		return errRSConflict
	}
	now := a.now().UTC()
	alg := c.req.View.Tenant.Algorithm
	rs := signet.ResourceServer{
		Tenant:        c.tenant,
		ID:            secret.ResourceServerID(),
		Name:          ident,
		Identifier:    ident,
		Scopes:        []signet.Scope{},
		SigningAlg:    alg,
		TokenLifetime: signet.DefaultTokenLifetime,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := applyRS(o, &rs, alg); err != nil {
		return err
	}
	if err := a.store.CreateResourceServer(r.Context(), rs); err != nil {
		if errors.Is(err, signet.ErrConflict) {
			return errRSConflict
		}
		return err
	}
	writeJSON(w, http.StatusCreated, newRSObject(rs))
	return nil
}

// listResourceServers answers GET /api/v2/resource-servers[?identifiers=…
// &page=&per_page=&include_totals=].
func (a *API) listResourceServers(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := readPaging(q, false)
	if err != nil {
		return err
	}
	idents := q["identifiers"]
	if len(idents) > maxIdentifiersFilter {
		return withCode("invalid_query_string", invalid("Query validation error: 'identifiers' takes at most %d values.", maxIdentifiersFilter))
	}
	rss, err := a.store.ResourceServers(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	out := make([]rsObject, 0, len(rss))
	for _, rs := range rss {
		if len(idents) == 0 || slices.Contains(idents, rs.Identifier) {
			out = append(out, newRSObject(rs))
		}
	}
	writePage(w, p, "resource_servers", out)
	return nil
}

// lookupRS finds a resource server by id or, as Auth0 allows, by identifier.
// Returns errRSNotFound.
func (a *API) lookupRS(r *http.Request, c *call, id string) (signet.ResourceServer, error) {
	rs, err := a.store.ResourceServer(r.Context(), c.tenant, id)
	if errors.Is(err, signet.ErrNotFound) {
		rs, err = a.ring.ResourceServer(r.Context(), c.req.View, id)
	}
	if errors.Is(err, signet.ErrNotFound) {
		return signet.ResourceServer{}, errRSNotFound
	}
	return rs, err
}

// getResourceServer answers GET /api/v2/resource-servers/{id}.
func (a *API) getResourceServer(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	rs, err := a.lookupRS(r, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newRSObject(rs))
	return nil
}

// errSystemRS refuses changes to the built-in Management API.
func errSystemRS(verb string) error {
	return withCode("operation_not_supported", invalid("You cannot %s the %s: it is a system resource server.", verb, keyring.ManagementAPIName))
}

// updateResourceServer answers PATCH /api/v2/resource-servers/{id}. The
// identifier cannot change, as in Auth0.
func (a *API) updateResourceServer(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, "name", "scopes", "signing_alg", "token_lifetime")
	if err != nil {
		return err
	}
	rs, err := a.lookupRS(r, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rs.System {
		return errSystemRS("update")
	}
	alg := c.req.View.Tenant.Algorithm
	rs, err = a.store.UpdateResourceServer(r.Context(), c.tenant, rs.ID, func(rs *signet.ResourceServer) error {
		if rs.System {
			return errSystemRS("update")
		}
		if err := applyRS(o, rs, alg); err != nil {
			return err
		}
		rs.UpdatedAt = a.now().UTC()
		return nil
	})
	if errors.Is(err, signet.ErrNotFound) {
		return errRSNotFound
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newRSObject(rs))
	return nil
}

// deleteResourceServer answers DELETE /api/v2/resource-servers/{id}; the
// grants for its audience go too.
func (a *API) deleteResourceServer(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	rs, err := a.lookupRS(r, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rs.System {
		return errSystemRS("delete")
	}
	if err := a.store.DeleteResourceServer(r.Context(), c.tenant, rs.ID); err != nil {
		if errors.Is(err, signet.ErrNotFound) {
			return errRSNotFound
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
