package mgmt

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/secret"
)

// Client field rules (Auth0's).
const (
	maxClientName        = 128
	maxClientDescription = 140
	defaultAppType       = "non_interactive"
	clientIDLength       = 32
)

var (
	appTypes   = []string{"non_interactive", "regular_web", "spa", "native"}
	grantTypes = []string{"client_credentials", "authorization_code", "refresh_token", "implicit", "password"}
	// clientFields are the properties a client body may carry.
	clientFields = []string{"name", "description", "app_type", "grant_types"}
)

// clientObject is Auth0's client object (the subset Signet keeps).
type clientObject struct {
	ClientID                string    `json:"client_id"`
	Tenant                  string    `json:"tenant"`
	Name                    string    `json:"name"`
	Description             string    `json:"description,omitempty"`
	AppType                 string    `json:"app_type"`
	GrantTypes              []string  `json:"grant_types"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	IsFirstParty            bool      `json:"is_first_party"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	CreatedAt               time.Time `json:"created_at,omitzero"`
	UpdatedAt               time.Time `json:"updated_at,omitzero"`
}

// newClientObject renders c; sec is the clear secret, given only on
// creation and secret rotation.
func newClientObject(c signet.Client, sec string) clientObject {
	gt := c.GrantTypes
	if gt == nil {
		gt = []string{}
	}
	return clientObject{
		ClientID:                c.ClientID,
		Tenant:                  c.Tenant,
		Name:                    c.Name,
		Description:             c.Description,
		AppType:                 c.AppType,
		GrantTypes:              gt,
		TokenEndpointAuthMethod: "client_secret_post",
		IsFirstParty:            true,
		ClientSecret:            sec,
		CreatedAt:               utc(c.CreatedAt),
		UpdatedAt:               utc(c.UpdatedAt),
	}
}

// errClientNotFound is Auth0's 404 for an unknown client.
var errClientNotFound = notFound("client", "The client does not exist")

// clientErr translates a store error about one client.
func clientErr(err error) error {
	if errors.Is(err, signet.ErrNotFound) {
		return errClientNotFound
	}
	return err
}

// applyClient sets the client properties present in o on c.
// Returns EINVALID for a bad value.
func applyClient(o object, c *signet.Client) error {
	if name, ok, err := o.str("name", 1, maxClientName); err != nil {
		return err
	} else if ok {
		c.Name = name
	}
	if d, ok, err := o.str("description", 0, maxClientDescription); err != nil {
		return err
	} else if ok {
		c.Description = d
	}
	if t, ok, err := o.str("app_type", 1, 64); err != nil {
		return err
	} else if ok {
		if !slices.Contains(appTypes, t) {
			return invalid("Payload validation error: 'No enum match for: \"%s\"' on property app_type.", t)
		}
		c.AppType = t
	}
	if gts, ok, err := o.strs("grant_types"); err != nil {
		return err
	} else if ok {
		var out []string
		for _, g := range gts {
			if !slices.Contains(grantTypes, g) {
				return invalid("Payload validation error: 'No enum match for: \"%s\"' on property grant_types.", g)
			}
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
		c.GrantTypes = append([]string{}, out...)
	}
	return nil
}

// createClient answers POST /api/v2/clients with the new client and its
// secret, shown this once.
func (a *API) createClient(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, clientFields...)
	if err != nil {
		return err
	}
	if _, ok := o["name"]; !ok {
		return required("name")
	}
	now := a.now().UTC()
	cl := signet.Client{
		Tenant:     c.tenant,
		ClientID:   secret.ID(clientIDLength),
		AppType:    defaultAppType,
		GrantTypes: []string{"client_credentials"},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := applyClient(o, &cl); err != nil {
		return err
	}
	sec, digest := secret.New()
	cl.SecretHash = digest
	if err := a.store.CreateClient(r.Context(), cl); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newClientObject(cl, sec))
	return nil
}

// listClients answers GET /api/v2/clients.
func (a *API) listClients(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	cs, err := a.store.Clients(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	out := make([]clientObject, len(cs))
	for i, cl := range cs {
		out[i] = newClientObject(cl, "")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getClient answers GET /api/v2/clients/{id}.
func (a *API) getClient(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	cl, err := a.store.Client(r.Context(), c.tenant, r.PathValue("id"))
	if err != nil {
		return clientErr(err)
	}
	writeJSON(w, http.StatusOK, newClientObject(cl, ""))
	return nil
}

// updateClient answers PATCH /api/v2/clients/{id}.
func (a *API) updateClient(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, clientFields...)
	if err != nil {
		return err
	}
	cl, err := a.store.UpdateClient(r.Context(), c.tenant, r.PathValue("id"), func(cl *signet.Client) error {
		if err := applyClient(o, cl); err != nil {
			return err
		}
		cl.UpdatedAt = a.now().UTC()
		return nil
	})
	if err != nil {
		return clientErr(err)
	}
	writeJSON(w, http.StatusOK, newClientObject(cl, ""))
	return nil
}

// deleteClient answers DELETE /api/v2/clients/{id}; the client's grants go too.
func (a *API) deleteClient(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	if err := a.store.DeleteClient(r.Context(), c.tenant, r.PathValue("id")); err != nil {
		return clientErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateClientSecret answers POST /api/v2/clients/{id}/rotate-secret with
// the client and its new secret; the old secret stops working at once.
func (a *API) rotateClientSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	sec, digest := secret.New()
	cl, err := a.store.UpdateClient(r.Context(), c.tenant, r.PathValue("id"), func(cl *signet.Client) error {
		cl.SecretHash = digest
		cl.UpdatedAt = a.now().UTC()
		return nil
	})
	if err != nil {
		return clientErr(err)
	}
	writeJSON(w, http.StatusOK, newClientObject(cl, sec))
	return nil
}
