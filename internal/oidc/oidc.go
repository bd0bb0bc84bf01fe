package oidc

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/throttle"
)

// Defaults of Config.
const (
	// DefaultSessionLifetime is the absolute lifetime of a login session.
	DefaultSessionLifetime = 24 * time.Hour
	// CodeLifetime is how long an authorization code can be redeemed.
	CodeLifetime = 60 * time.Second
	// DefaultPurgeInterval is how often Run deletes expired sessions, codes
	// and refresh tokens.
	DefaultPurgeInterval = 10 * time.Minute
)

// Limits slow down password guessing on the login form: per account (the
// tenant and the email) and client IP, per account across all IPs (a
// higher ceiling), and per client IP (the tenant and the TCP peer's
// address), in memory per replica; see package throttle.
type Limits = throttle.Limits

// Store is the part of signet.Store the provider reads applications from;
// see signet.Store for its contract.
type Store interface {
	Client(ctx context.Context, tenant, clientID string) (signet.Client, error)
}

var _ Store = signet.Store(nil)

// Config configures a Handler.
type Config struct {
	// Ring names each tenant's issuers and resolves audiences.
	Ring *keyring.Ring
	// Store holds clients.
	Store Store
	// Users holds users, sessions, codes and refresh tokens; nil means Store,
	// which then must be a signet.UserStore too.
	Users signet.UserStore
	// SessionLifetime bounds a login session; 0 means DefaultSessionLifetime.
	SessionLifetime time.Duration
	// Limits slow down password guessing; zero fields take
	// throttle.DefaultLimits'.
	Limits Limits
	// Hashing bounds the password checks running at once; share one Gate
	// among every sign-in form of the process. Nil means a Gate of
	// throttle.DefaultHashes for this handler alone.
	Hashing *throttle.Gate
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors and refused sign-ins (never a
	// password, code or token); nil discards them.
	Logger *slog.Logger
}

// Handler serves the OpenID Connect provider endpoints of every tenant.
// Create it with New.
type Handler struct {
	ring            *keyring.Ring
	store           Store
	users           signet.UserStore
	sessionLifetime time.Duration
	now             func() time.Time
	logger          *slog.Logger
	limits          *throttle.Guard
	// hashing bounds concurrent password checks (Argon2id takes 64 MiB each).
	hashing *throttle.Gate
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if u, ok := cfg.Store.(signet.UserStore); ok && cfg.Users == nil {
		cfg.Users = u
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.Hashing == nil {
		cfg.Hashing = throttle.NewGate(throttle.DefaultHashes)
	}
	return &Handler{
		ring:            cfg.Ring,
		store:           cfg.Store,
		users:           cfg.Users,
		sessionLifetime: cfg.SessionLifetime,
		now:             cfg.Now,
		logger:          cfg.Logger,
		limits:          throttle.New(cfg.Limits, cfg.Now),
		hashing:         cfg.Hashing,
	}
}

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+loginPath, h.serveLoginForm)
	mux.HandleFunc("POST "+loginPath, h.serveLogin)
	mux.HandleFunc("GET /authorize", h.serveAuthorize)
	mux.HandleFunc("POST /authorize", h.serveAuthorize)
	mux.HandleFunc("GET /userinfo", h.serveUserinfo)
	mux.HandleFunc("POST /userinfo", h.serveUserinfo)
	mux.HandleFunc("OPTIONS /userinfo", h.serveUserinfoPreflight)
	mux.HandleFunc("GET /v2/logout", h.serveLogout)
	mux.HandleFunc("GET /oidc/logout", h.serveEndSession)
	mux.HandleFunc("POST /oidc/logout", h.serveEndSession)
}

// Run deletes expired sessions, codes and refresh tokens every
// DefaultPurgeInterval, until ctx is done. Every replica may run it.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(DefaultPurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := h.users.PurgeExpired(ctx, h.now()); err != nil && ctx.Err() == nil {
				h.logger.Error("purge expired sessions", "err", err)
			}
		}
	}
}

// request returns the tenant the middleware resolved, or answers 404.
func request(w http.ResponseWriter, r *http.Request) (reqctx.Request, bool) {
	req, ok := reqctx.From(r.Context())
	if !ok || req.View == nil {
		http.NotFound(w, r)
		return reqctx.Request{}, false
	}
	return req, true
}
