package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
)

// DefaultJWKSMaxAge is the JWKS Cache-Control max-age when Config.JWKSMaxAge is zero.
const DefaultJWKSMaxAge = 5 * time.Minute

// maxBodyBytes caps request bodies of the token endpoint.
const maxBodyBytes = 64 << 10

// Config configures a Handler.
type Config struct {
	// Ring resolves issuers of the tenants' hosts.
	Ring *keyring.Ring
	// Store holds clients and client grants.
	Store Store
	// JWKSMaxAge is the max-age of the JWKS and discovery documents; 0 means
	// DefaultJWKSMaxAge.
	JWKSMaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors only; nil discards them.
	Logger *slog.Logger
	// Provider, if set, serves more grant types at the token endpoint and
	// adds its endpoints to discovery (internal/oidc).
	Provider Provider
}

// Store is the part of signet.Store the public endpoints use: they only
// read. See signet.Store for each method's contract.
type Store interface {
	Client(ctx context.Context, tenant, clientID string) (signet.Client, error)
	ClientGrants(ctx context.Context, tenant string, f signet.GrantFilter) ([]signet.ClientGrant, error)
}

var _ Store = signet.Store(nil)

// Handler serves the public per-tenant endpoints. Create it with New.
type Handler struct {
	ring     *keyring.Ring
	store    Store
	now      func() time.Time
	logger   *slog.Logger
	provider Provider

	// Header values computed once and shared by every response (never mutated).
	cacheControl []string // JWKS and discovery
	// jwks caches per-view header values of the JWKS response, by tenant name.
	jwks sync.Map // string → *jwksHeaders
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JWKSMaxAge <= 0 {
		cfg.JWKSMaxAge = DefaultJWKSMaxAge
	}
	secs := int64(cfg.JWKSMaxAge / time.Second)
	return &Handler{
		ring:         cfg.Ring,
		store:        cfg.Store,
		now:          cfg.Now,
		logger:       cfg.Logger,
		provider:     cfg.Provider,
		cacheControl: []string{"public, max-age=" + strconv.FormatInt(secs, 10) + ", must-revalidate"},
	}
}

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/jwks.json", h.serveJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", h.serveDiscovery)
	for _, c := range certDocs {
		hf := h.certHandler(c)
		mux.HandleFunc("GET /"+c.name, hf)
		mux.HandleFunc("GET /"+c.name+"/{client...}", hf)
	}
	mux.HandleFunc("POST /oauth/token", h.serveToken)
}

// Shared header values; net/http never modifies them.
var (
	hdrJSON       = []string{"application/json; charset=utf-8"}
	hdrAnyOrigin  = []string{"*"}
	hdrNoStore    = []string{"no-store"}
	hdrNoCache    = []string{"no-cache"}
	hdrNosniff    = []string{"nosniff"}
	hdrPragmaNoCh = []string{"no-cache"}
)

// request returns the tenant the middleware resolved, or answers 404.
func request(w http.ResponseWriter, r *http.Request) (reqctx.Request, bool) {
	req, ok := reqctx.From(r.Context())
	if !ok || req.View == nil {
		http.NotFound(w, r)
		return reqctx.Request{}, false
	}
	return req, true
}
