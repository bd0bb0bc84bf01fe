package mgmt

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/token"
)

// leeway is the clock skew tolerated on bearer tokens' exp, iat and nbf.
const leeway = 30 * time.Second

// Store is the part of signet.Store the Management API uses; key and
// tenant changes go through the ring. See signet.Store for each method's
// contract.
type Store interface {
	Clients(ctx context.Context, tenant string) ([]signet.Client, error)
	Client(ctx context.Context, tenant, clientID string) (signet.Client, error)
	CreateClient(ctx context.Context, c signet.Client) error
	UpdateClient(ctx context.Context, tenant, clientID string, fn func(*signet.Client) error) (signet.Client, error)
	DeleteClient(ctx context.Context, tenant, clientID string) error
	ResourceServers(ctx context.Context, tenant string) ([]signet.ResourceServer, error)
	ResourceServer(ctx context.Context, tenant, id string) (signet.ResourceServer, error)
	ResourceServerByIdentifier(ctx context.Context, tenant, identifier string) (signet.ResourceServer, error)
	CreateResourceServer(ctx context.Context, rs signet.ResourceServer) error
	UpdateResourceServer(ctx context.Context, tenant, id string, fn func(*signet.ResourceServer) error) (signet.ResourceServer, error)
	DeleteResourceServer(ctx context.Context, tenant, id string) error
	ClientGrants(ctx context.Context, tenant string, f signet.GrantFilter) ([]signet.ClientGrant, error)
	ClientGrant(ctx context.Context, tenant, id string) (signet.ClientGrant, error)
	CreateClientGrant(ctx context.Context, g signet.ClientGrant) error
	UpdateClientGrant(ctx context.Context, tenant, id string, fn func(*signet.ClientGrant) error) (signet.ClientGrant, error)
	DeleteClientGrant(ctx context.Context, tenant, id string) error
	Users(ctx context.Context, tenant string, f signet.UserFilter) ([]signet.User, int, error)
	User(ctx context.Context, tenant, id string) (signet.User, error)
	CreateUser(ctx context.Context, u signet.User) error
	UpdateUser(ctx context.Context, tenant, id string, fn func(*signet.User) error) (signet.User, error)
	DeleteUser(ctx context.Context, tenant, id string) error
	EndUserSessions(ctx context.Context, tenant, userID string, now time.Time) error
	Events(ctx context.Context, tenant string, f signet.EventFilter) ([]signet.Event, error)
}

var _ Store = signet.Store(nil)

// Config configures an API.
type Config struct {
	// Ring performs key changes and names each tenant's issuers.
	Ring *keyring.Ring
	// Store holds clients, resource servers, client grants, users and
	// events.
	Store Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors only; nil discards them.
	Logger *slog.Logger
}

// API serves the Management API. Create it with New.
type API struct {
	ring   *keyring.Ring
	store  Store
	now    func() time.Time
	logger *slog.Logger
	mux    *http.ServeMux // the mux Register was given, for 405 answers
}

// New returns an API for cfg.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{ring: cfg.Ring, store: cfg.Store, now: cfg.Now, logger: cfg.Logger}
}

// call is what an authenticated request carries to its handler.
type call struct {
	req    reqctx.Request
	tenant string
	claims token.Claims
	// actor is the calling client's id (the token's azp, else its sub).
	actor string
}

// granted reports whether c's token holds scope.
func (c *call) granted(scope string) bool {
	return slices.Contains(strings.Fields(c.claims.Scope), scope)
}

// handlerFunc is a Management API handler: it writes a success answer or
// returns an error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// need is the scope an endpoint requires.
type need struct {
	scopes []string
	// all requires every scope; otherwise any one suffices.
	all     bool
	message string
}

// anyOf requires one of scopes, with Auth0's usual 403 message.
func anyOf(scopes ...string) need {
	return need{scopes: scopes, message: "Insufficient scope, expected any of: " + strings.Join(scopes, ",")}
}

// satisfied reports whether the granted scopes meet n.
func (n need) satisfied(granted []string) bool {
	if n.all {
		return !slices.ContainsFunc(n.scopes, func(s string) bool { return !slices.Contains(granted, s) })
	}
	return slices.ContainsFunc(n.scopes, func(s string) bool { return slices.Contains(granted, s) })
}

// Register adds the Management API's routes to mux, and a catch-all for
// /api/v2/ that answers unknown paths and methods with Auth0-style bodies.
func (a *API) Register(mux *http.ServeMux) {
	a.mux = mux
	a.register(mux)
}

// router is what register needs of a mux; a test passes a recorder to list
// the routes.
type router interface {
	Handle(pattern string, handler http.Handler)
}

// register adds every route to mux. Every pattern goes through here, so
// that the authorization test sees it.
func (a *API) register(mux router) {
	route := func(pattern string, n need, h handlerFunc) { mux.Handle(pattern, a.handle(n, h)) }

	route("GET /api/v2/keys/signing", anyOf("read:signing_keys"), a.listKeys)
	route("GET /api/v2/keys/signing/{kid}", anyOf("read:signing_keys"), a.getKey)
	route("GET /api/v2/keys/signing/policy", anyOf("read:signing_keys"), a.getPolicy)
	route("GET /api/v2/keys/signing/events", anyOf("read:signing_keys"), a.listEvents)
	route("PATCH /api/v2/keys/signing/policy", need{
		scopes:  []string{"update:signing_keys"},
		message: "Insufficient scope; expected any of: update:signing_keys.",
	}, a.updatePolicy)
	route("POST /api/v2/keys/signing/rotate", need{
		scopes: []string{"create:signing_keys", "update:signing_keys"}, all: true,
		message: "Insufficient scope; expected create:signing_keys and update:signing_keys.",
	}, a.rotateKey)
	route("PUT /api/v2/keys/signing/{kid}/revoke", need{
		scopes:  []string{"update:signing_keys"},
		message: "Insufficient scope; expected any of: update:signing_keys.",
	}, a.revokeKey)

	route("POST /api/v2/clients", anyOf("create:clients"), a.createClient)
	route("GET /api/v2/clients", anyOf("read:clients"), a.listClients)
	route("GET /api/v2/clients/{id}", anyOf("read:clients"), a.getClient)
	// Either scope updates a client; a change of its credentials
	// (client_secret, token_endpoint_auth_method) needs update:client_keys.
	route("PATCH /api/v2/clients/{id}", anyOf("update:clients", "update:client_keys"), a.updateClient)
	route("DELETE /api/v2/clients/{id}", anyOf("delete:clients"), a.deleteClient)
	route("POST /api/v2/clients/{id}/rotate-secret", anyOf("update:client_keys"), a.rotateClientSecret)

	route("POST /api/v2/resource-servers", anyOf("create:resource_servers"), a.createResourceServer)
	route("GET /api/v2/resource-servers", anyOf("read:resource_servers"), a.listResourceServers)
	route("GET /api/v2/resource-servers/{id}", anyOf("read:resource_servers"), a.getResourceServer)
	route("PATCH /api/v2/resource-servers/{id}", anyOf("update:resource_servers"), a.updateResourceServer)
	route("DELETE /api/v2/resource-servers/{id}", anyOf("delete:resource_servers"), a.deleteResourceServer)

	route("POST /api/v2/users", anyOf("create:users"), a.createUser)
	route("GET /api/v2/users", anyOf("read:users"), a.listUsers)
	route("GET /api/v2/users-by-email", anyOf("read:users"), a.usersByEmail)
	route("GET /api/v2/users/{id}", anyOf("read:users"), a.getUser)
	route("PATCH /api/v2/users/{id}", anyOf("update:users"), a.updateUser)
	route("DELETE /api/v2/users/{id}", anyOf("delete:users"), a.deleteUser)

	route("POST /api/v2/client-grants", anyOf("create:client_grants"), a.createClientGrant)
	route("GET /api/v2/client-grants", anyOf("read:client_grants"), a.listClientGrants)
	route("GET /api/v2/client-grants/{id}", anyOf("read:client_grants"), a.getClientGrant)
	route("PATCH /api/v2/client-grants/{id}", anyOf("update:client_grants"), a.updateClientGrant)
	route("DELETE /api/v2/client-grants/{id}", anyOf("delete:client_grants"), a.deleteClientGrant)

	// The API's description is public, like Auth0's.
	mux.Handle("GET /api/v2/openapi.json", http.HandlerFunc(a.serveOpenAPI))

	mux.Handle(catchAll, http.HandlerFunc(a.serveUnknown))
}

// catchAll is the pattern of the /api/v2/ fallback.
const catchAll = "/api/v2/"

// probeMethods are the methods tried to build a 405's Allow header.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// serveUnknown answers a request no route took: 405 with Allow if the path
// exists for other methods, else 404.
func (a *API) serveUnknown(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range probeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != catchAll {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{StatusCode: http.StatusMethodNotAllowed,
			Error: "Method Not Allowed", Message: "Method Not Allowed"})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{StatusCode: http.StatusNotFound, Error: "Not Found", Message: "Not Found"})
}

// handle wraps h with tenant resolution, bearer authentication and the scope
// check n.
func (a *API) handle(n need, h handlerFunc) http.Handler {
	forbidden := withCode("insufficient_scope", signet.Errorf(signet.EFORBIDDEN, "%s", n.message))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, ok := reqctx.From(r.Context())
		if !ok || req.View == nil {
			writeJSON(w, http.StatusNotFound, errorBody{StatusCode: http.StatusNotFound, Error: "Not Found", Message: "Not Found"})
			return
		}
		c, err := a.authenticate(w, r, req)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if !n.satisfied(strings.Fields(c.claims.Scope)) {
			writeError(w, r, a.logger, forbidden)
			return
		}
		if err := h(w, r, c); err != nil {
			writeError(w, r, a.logger, err)
		}
	})
}

// errInvalidToken is the answer to a missing or rejected bearer token.
var errInvalidToken = signet.Errorf(signet.EUNAUTHORIZED, "Invalid token")

// authenticate verifies the request's bearer token: signed by a non-revoked
// key of this tenant, issued by one of its issuers, for its Management API,
// and not expired. On failure it sets WWW-Authenticate and returns
// errInvalidToken.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request, req reqctx.Request) (*call, error) {
	realm := keyring.ManagementAudienceOf(req.Issuer)
	raw, ok := bearer(r)
	if !ok {
		// RFC 6750 §3.1: no error code when the request had no credentials.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
		return nil, errInvalidToken
	}
	issuers := a.issuers(req)
	auds := make([]string, len(issuers))
	for i, iss := range issuers {
		auds[i] = keyring.ManagementAudienceOf(iss)
	}
	claims, err := token.Verify(raw, req.View.VerifyKey, token.Expect{
		Issuers: issuers, Audiences: auds, Now: a.now(), Leeway: leeway,
	})
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token", error_description="Invalid token"`)
		return nil, errInvalidToken
	}
	actor := claims.AuthorizedParty
	if actor == "" {
		actor = strings.TrimSuffix(claims.Subject, "@clients")
	}
	return &call{req: req, tenant: req.View.Tenant.Name, claims: claims, actor: actor}, nil
}

// issuers returns the tenant's issuers: one per host, and the request's own.
func (a *API) issuers(req reqctx.Request) []string {
	var out []string
	if a.ring != nil {
		out = a.ring.Issuers(req.View)
	}
	if req.Issuer != "" && !slices.Contains(out, req.Issuer) {
		out = append(out, req.Issuer)
	}
	return out
}

// bearer returns the token of an "Authorization: Bearer" header. Only
// spaces and tabs around the token are dropped: anything else, Unicode white
// space included, makes it a different (invalid) credential.
func bearer(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(auth) <= len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.Trim(auth[len(prefix):], " \t")
	return tok, tok != ""
}
