package mgmt

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/secret"
)

// Client field rules (Auth0's).
const (
	maxClientName        = 128
	maxClientDescription = 140
	defaultAppType       = "non_interactive"
)

var (
	appTypes   = []string{"non_interactive", "regular_web", "spa", "native"}
	grantTypes = []string{"client_credentials", "authorization_code", "refresh_token", "implicit", "password"}
	// clientFields are the properties a client body may carry.
	clientFields = []string{"name", "description", "app_type", "grant_types", "callbacks",
		"allowed_logout_urls", "token_endpoint_auth_method", "jwt_configuration", "refresh_token", "addons"}
	authMethods = []string{"none", "client_secret_post", "client_secret_basic"}
)

// Limits on a client's URL lists and lifetimes.
const (
	maxClientURLs      = 100
	maxURLLength       = 2048
	maxIDTokenLifetime = 2592000  // 30 days, Auth0's ID-token maximum
	maxRefreshLifetime = 31557600 // one year
)

// clientObject is Auth0's client object (the subset Signet keeps).
type clientObject struct {
	ClientID                string              `json:"client_id"`
	Tenant                  string              `json:"tenant"`
	Name                    string              `json:"name"`
	Description             string              `json:"description,omitempty"`
	AppType                 string              `json:"app_type"`
	GrantTypes              []string            `json:"grant_types"`
	Callbacks               []string            `json:"callbacks"`
	AllowedLogoutURLs       []string            `json:"allowed_logout_urls"`
	TokenEndpointAuthMethod string              `json:"token_endpoint_auth_method"`
	JWTConfiguration        jwtConfig           `json:"jwt_configuration"`
	RefreshToken            refreshTokenConfig  `json:"refresh_token"`
	Addons                  signet.ClientAddons `json:"addons"`
	IsFirstParty            bool                `json:"is_first_party"`
	ClientSecret            string              `json:"client_secret,omitempty"`
	CreatedAt               time.Time           `json:"created_at,omitzero"`
	UpdatedAt               time.Time           `json:"updated_at,omitzero"`
}

// jwtConfig is Auth0's client jwt_configuration.
type jwtConfig struct {
	LifetimeInSeconds int    `json:"lifetime_in_seconds"`
	Alg               string `json:"alg,omitempty"`
}

// refreshTokenConfig is Auth0's client refresh_token settings: Signet always
// rotates refresh tokens and expires a family after TokenLifetime.
type refreshTokenConfig struct {
	RotationType   string `json:"rotation_type"`
	ExpirationType string `json:"expiration_type"`
	TokenLifetime  int    `json:"token_lifetime"`
}

// newClientObject renders c; sec is the clear secret, given only on
// creation and secret rotation; alg is the tenant's signing algorithm, the
// one of the client's ID tokens.
func newClientObject(c signet.Client, sec, alg string) clientObject {
	method := c.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_post"
	}
	idLife := c.IDTokenLifetime
	if idLife == 0 {
		idLife = signet.DefaultIDTokenLifetime
	}
	refreshLife := c.RefreshTokenLifetime
	if refreshLife == 0 {
		refreshLife = signet.DefaultRefreshTokenLifetime
	}
	return clientObject{
		ClientID:                c.ClientID,
		Tenant:                  c.Tenant,
		Name:                    c.Name,
		Description:             c.Description,
		AppType:                 c.AppType,
		GrantTypes:              orEmpty(c.GrantTypes),
		Callbacks:               orEmpty(c.Callbacks),
		AllowedLogoutURLs:       orEmpty(c.AllowedLogoutURLs),
		TokenEndpointAuthMethod: method,
		JWTConfiguration:        jwtConfig{LifetimeInSeconds: idLife, Alg: alg},
		RefreshToken: refreshTokenConfig{RotationType: "rotating", ExpirationType: "expiring",
			TokenLifetime: refreshLife},
		Addons:       c.Addons,
		IsFirstParty: true,
		ClientSecret: sec,
		CreatedAt:    utc(c.CreatedAt),
		UpdatedAt:    utc(c.UpdatedAt),
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

// applyClient sets the client properties present in o on c; alg is the
// tenant's signing algorithm, the only jwt_configuration.alg it accepts.
// Returns EINVALID for a bad value, or a setting Signet does not implement
// (another alg, non-rotating or non-expiring refresh tokens).
func applyClient(o object, c *signet.Client, alg string) error {
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
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{"callbacks", &c.Callbacks}, {"allowed_logout_urls", &c.AllowedLogoutURLs}} {
		urls, ok, err := o.strs(l.name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if len(urls) > maxClientURLs {
			return invalid("Payload validation error: 'Array is too long (%d), maximum %d' on property %s.", len(urls), maxClientURLs, l.name)
		}
		for i, u := range urls {
			if err := checkClientURL(u); err != nil {
				return invalid("Payload validation error: '%s' on property %s[%d].", err, l.name, i)
			}
		}
		*l.dst = slices.Compact(append([]string{}, urls...))
	}
	if m, ok, err := o.str("token_endpoint_auth_method", 1, 64); err != nil {
		return err
	} else if ok {
		if !slices.Contains(authMethods, m) {
			return invalid("Payload validation error: 'No enum match for: \"%s\"' on property token_endpoint_auth_method.", m)
		}
		c.TokenEndpointAuthMethod = m
	}
	if jc, ok, err := o.obj("jwt_configuration", "lifetime_in_seconds", "alg"); err != nil {
		return err
	} else if ok {
		if n, ok, err := jc.integer("jwt_configuration.lifetime_in_seconds", 1, maxIDTokenLifetime); err != nil {
			return err
		} else if ok {
			c.IDTokenLifetime = n
		}
		if err := onlyValue(jc, "jwt_configuration.alg", alg, "this tenant signs with "+alg+" only"); err != nil {
			return err
		}
	}
	if rt, ok, err := o.obj("refresh_token", "rotation_type", "expiration_type", "token_lifetime"); err != nil {
		return err
	} else if ok {
		if n, ok, err := rt.integer("refresh_token.token_lifetime", 1, maxRefreshLifetime); err != nil {
			return err
		} else if ok {
			c.RefreshTokenLifetime = n
		}
		if err := onlyValue(rt, "refresh_token.rotation_type", "rotating", "Signet always rotates refresh tokens"); err != nil {
			return err
		}
		if err := onlyValue(rt, "refresh_token.expiration_type", "expiring", "Signet's refresh tokens always expire"); err != nil {
			return err
		}
	}
	return applyAddons(o, c)
}

// onlyValue checks that string property name of o, if present, is want:
// Auth0 allows other values, which Signet does not implement (why).
// Returns EINVALID otherwise.
func onlyValue(o object, name, want, why string) error {
	v, ok, err := o.str(name, 1, 64)
	if err != nil || !ok || v == want {
		return err
	}
	return invalid("Payload validation error: 'Unsupported value %q: %s' on property %s.", v, why, name)
}

// checkClientURL reports why u cannot be a callback or logout URL: it must
// be absolute, without a fragment, at most maxURLLength bytes, and not of a
// scheme signet.CheckRedirectURL refuses. Custom schemes are allowed for
// native applications.
func checkClientURL(u string) error {
	if err := signet.CheckRedirectURL(u); err != nil {
		return errors.New(signet.ErrorMessage(err))
	}
	if len(u) > maxURLLength {
		return fmt.Errorf("URL is too long (%d bytes), maximum %d", len(u), maxURLLength)
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || (p.Scheme == "http" || p.Scheme == "https") && p.Host == "" {
		//lint:ignore ST1005 Auth0's own validation message, sent as it is.
		return fmt.Errorf("Object didn't pass validation for format absolute-uri: %s", u)
	}
	if p.Fragment != "" || strings.Contains(u, "#") {
		return fmt.Errorf("URL must not contain a fragment: %s", u)
	}
	return nil
}

// orEmpty returns s, or an empty slice for nil, so that JSON shows [].
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// defaultGrantTypes are the grant types Auth0 gives a client created
// without grant_types, by its token_endpoint_auth_method: a public client
// ("none") gets authorization_code, implicit and refresh_token, a
// confidential one client_credentials too. Signet's /authorize answers
// unsupported_response_type to implicit requests; the list names it anyway,
// as Auth0's does.
func defaultGrantTypes(authMethod string) []string {
	gts := []string{"authorization_code", "implicit", "refresh_token"}
	if authMethod != "none" {
		gts = append(gts, "client_credentials")
	}
	return gts
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
		Tenant:    c.tenant,
		ClientID:  secret.ClientID(),
		AppType:   defaultAppType,
		CreatedAt: now,
		UpdatedAt: now,
	}
	alg := c.req.View.Tenant.Algorithm
	if err := applyClient(o, &cl, alg); err != nil {
		return err
	}
	if _, ok := o["token_endpoint_auth_method"]; !ok && (cl.AppType == "spa" || cl.AppType == "native") {
		cl.TokenEndpointAuthMethod = "none" // Auth0's default for public applications
	}
	if _, ok := o["grant_types"]; !ok {
		cl.GrantTypes = defaultGrantTypes(cl.TokenEndpointAuthMethod)
	}
	sec, digest := secret.New()
	cl.SecretHash = digest
	if err := a.store.CreateClient(r.Context(), cl); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newClientObject(cl, sec, alg))
	return nil
}

// listClients answers GET /api/v2/clients[?page=&per_page=&include_totals=].
func (a *API) listClients(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	p, err := readPaging(r.URL.Query(), false)
	if err != nil {
		return err
	}
	cs, err := a.store.Clients(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	out := make([]clientObject, len(cs))
	for i, cl := range cs {
		out[i] = newClientObject(cl, "", c.req.View.Tenant.Algorithm)
	}
	writePage(w, p, "clients", out)
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
	writeJSON(w, http.StatusOK, newClientObject(cl, "", c.req.View.Tenant.Algorithm))
	return nil
}

// keyFields are the client properties that are credentials: changing them
// needs update:client_keys, as in Auth0.
var keyFields = []string{"client_secret", "token_endpoint_auth_method"}

// errNeedClientKeys is the 403 of a client update that changes a
// credential without update:client_keys.
var errNeedClientKeys = withCode("insufficient_scope",
	signet.Errorf(signet.EFORBIDDEN, "Insufficient scope, expected any of: update:client_keys"))

// updateClient answers PATCH /api/v2/clients/{id}. Changing client_secret
// or token_endpoint_auth_method needs update:client_keys; Signet makes
// every secret itself, so client_secret is then refused as an unknown
// property (rotate-secret makes a new one).
func (a *API) updateClient(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := decodeObject(r, slices.Concat(keyFields, clientFields)...)
	if err != nil {
		return err
	}
	for _, f := range keyFields {
		if _, ok := o[f]; ok && !c.granted("update:client_keys") {
			return errNeedClientKeys
		}
	}
	if _, ok := o["client_secret"]; ok {
		return invalid("Payload validation error: 'Additional properties not allowed: client_secret'.")
	}
	alg := c.req.View.Tenant.Algorithm
	cl, err := a.store.UpdateClient(r.Context(), c.tenant, r.PathValue("id"), func(cl *signet.Client) error {
		if err := applyClient(o, cl, alg); err != nil {
			return err
		}
		cl.UpdatedAt = a.now().UTC()
		return nil
	})
	if err != nil {
		return clientErr(err)
	}
	writeJSON(w, http.StatusOK, newClientObject(cl, "", alg))
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
	writeJSON(w, http.StatusOK, newClientObject(cl, sec, c.req.View.Tenant.Algorithm))
	return nil
}
