package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
)

// Registrar is a set of handlers that mounts itself on a mux.
type Registrar interface {
	Register(mux *http.ServeMux)
}

// Config configures a Server.
type Config struct {
	Ring *keyring.Ring
	// Handlers are mounted on the tenant mux: every request they see has a
	// resolved tenant (reqctx.From).
	Handlers []Registrar
	// Ready reports whether the server can take traffic (for /readyz); nil means always.
	Ready func(ctx context.Context) error
	// ReadyTimeout is /readyz's budget: a Ready that has not answered
	// within it (its context's deadline) counts as not ready, 503.
	// Default DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// TLSCert and TLSKey, if both set, make the server speak HTTPS.
	TLSCert, TLSKey string
	Logger          *slog.Logger
	// Metrics, if not nil, counts every request and is served at GET
	// /metrics with the number of tenants. A Metrics serves one Server: New
	// panics if it served another.
	Metrics *Metrics
	// Pool, if set with Metrics, has its ready keys per algorithm in them.
	Pool *keygen.Pool
	// MetricsApart, with Metrics, leaves /metrics off the main handler:
	// ServeMetrics serves it on a listener of its own.
	MetricsApart bool
	// Dashboard, if set, serves /dashboard/. It is no tenant's (an
	// administrator switches between the tenants granted to them), but it
	// answers only on a tenant's host or one of DashboardHosts: any other
	// Host (a DNS-rebinding attacker's name) gets the unknown-host 404.
	Dashboard http.Handler
	// DashboardHosts are further hosts ("host" or "host:port", as the
	// Host header carries them) on which the dashboard answers.
	DashboardHosts []string
	// HTTPS means browsers reach the server over https: it serves TLS
	// (TLSCert) or sits behind a proxy that does. Every response then
	// carries Strict-Transport-Security, as it does whenever TLS is served.
	HTTPS bool
}

// HSTS is the Strict-Transport-Security header sent over https: one year,
// without includeSubDomains or preload, since tenants' hosts may share a
// parent domain with sites Signet does not serve.
const HSTS = "max-age=31536000"

// DefaultReadyTimeout is Config.ReadyTimeout's default: below the usual
// probe timeouts (Kubernetes' default is 1 s; most set a few seconds).
const DefaultReadyTimeout = 2 * time.Second

// Server is Signet's HTTP server.
type Server struct {
	cfg     Config
	tenants *http.ServeMux
	handler http.Handler
	// metrics serves /metrics alone, for ServeMetrics; nil without Metrics.
	metrics http.Handler
	// dashboardHosts holds Config.DashboardHosts in lower case.
	dashboardHosts map[string]bool
	hsts           bool
}

// New returns a Server with every handler mounted.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	s := &Server{cfg: cfg, tenants: http.NewServeMux(), dashboardHosts: map[string]bool{},
		hsts: cfg.HTTPS || cfg.TLSCert != ""}
	for _, h := range cfg.DashboardHosts {
		s.dashboardHosts[strings.ToLower(h)] = true
	}
	for _, h := range cfg.Handlers {
		h.Register(s.tenants)
	}
	// The root of a tenant's host: a page naming the tenant and its links.
	s.tenants.HandleFunc("GET /{$}", s.serveHome)
	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", opsRoute(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}))
	ops.HandleFunc("GET /readyz", opsRoute(s.readyz))
	if cfg.Metrics != nil {
		cfg.Metrics.register(cfg.Ring, cfg.Pool)
		scrape := opsRoute(cfg.Metrics.handler().ServeHTTP)
		apart := http.NewServeMux()
		apart.HandleFunc("GET /metrics", scrape)
		s.metrics = harden(s.observe(apart), false) // plain HTTP: no HSTS
		if !cfg.MetricsApart {
			ops.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
				if !s.metricsHost(r.Host) {
					s.serveTenant(w, r)
					return
				}
				scrape(w, r)
			})
		}
	}
	root := http.Handler(ops)
	if cfg.Dashboard != nil {
		ops.Handle("/dashboard/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setRoute(w, routeDashboard)
			cfg.Dashboard.ServeHTTP(w, r)
		}))
		// Checked before the mux, so that an unknown host does not even
		// get the redirect from /dashboard to /dashboard/.
		root = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := r.URL.Path; (p == "/dashboard" || strings.HasPrefix(p, "/dashboard/")) && !s.dashboardHost(r.Host) {
				s.serveTenant(w, r)
				return
			}
			ops.ServeHTTP(w, r)
		})
	}
	ops.Handle("/", http.HandlerFunc(s.serveTenant))
	s.handler = harden(s.observe(root), s.hsts)
	return s
}

// harden sets the security headers of every response: nosniff, so that no
// browser takes JSON or an error for HTML or script, and with hsts HSTS.
func harden(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if hsts {
			h.Set("Strict-Transport-Security", HSTS)
		}
		next.ServeHTTP(w, r)
	})
}

// dashboardHost reports whether the dashboard answers on host: a tenant's
// or one of Config.DashboardHosts. A page on an attacker's name that
// resolves to this server (DNS rebinding) carries the attacker's name.
func (s *Server) dashboardHost(host string) bool {
	host = strings.ToLower(host)
	if s.dashboardHosts[host] {
		return true
	}
	_, ok := s.cfg.Ring.ViewByHost(host)
	return ok
}

// metricsHost reports whether /metrics answers on host on the main
// listener: a dashboard host, "localhost" or an IP address (with any
// port). Prometheus scrapes by address; DNS rebinding needs a name the
// attacker controls, never an address or localhost.
func (s *Server) metricsHost(host string) bool {
	if s.dashboardHost(host) {
		return true
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	_, err = netip.ParseAddr(h)
	return err == nil
}

// routeDashboard is the route label of every dashboard request.
const routeDashboard = "dashboard"

// opsRoute labels the requests h serves with the route "ops".
func opsRoute(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setRoute(w, routeOps)
		h(w, r)
	}
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// readyz answers 200 if Ready reports ready within ReadyTimeout, 503
// otherwise. A Ready that ignores its context's deadline is left running:
// the answer does not wait for it.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.cfg.Ready(ctx) }()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			err = fmt.Errorf("no answer within %s: %w", s.cfg.ReadyTimeout, ctx.Err())
		}
		if err != nil {
			s.cfg.Logger.Warn("not ready", "err", err)
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// serveTenant resolves the tenant from the Host header. A host that no tenant
// owns gets 404: never a default tenant.
func (s *Server) serveTenant(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	v, ok := s.cfg.Ring.ViewByHost(host)
	if !ok {
		setRoute(w, routeUnknownHost)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if err := s.cfg.Ring.Unavailable(host); err != nil {
			// The tenant exists but cannot sign (logged at start with the kid).
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"statusCode":503,"error":"Service Unavailable","message":"This tenant's signing key cannot be opened; an operator must restore or revoke it."}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"statusCode":404,"error":"Not Found","message":"No tenant serves this host."}`)
		return
	}
	ctx := reqctx.With(r.Context(), reqctx.Request{View: v, Issuer: s.cfg.Ring.Issuer(host)})
	tr := r.WithContext(ctx)
	s.tenants.ServeHTTP(w, tr)
	// The mux sets the matched pattern on the request it was given, so it
	// is the route: a bounded set, unlike paths. A CONNECT request that the
	// mux redirects gets its path as "pattern"; Signet has no CONNECT routes.
	route := tr.Pattern
	if route == "" || r.Method == http.MethodConnect {
		route = routeUnmatched
	}
	setRoute(w, route)
}

// statusWriter records the status code of a response and the route that
// answered it (for metrics).
type statusWriter struct {
	http.ResponseWriter
	status int
	route  string
}

// setRoute records the route that answers a request on w, the server's
// statusWriter.
func setRoute(w http.ResponseWriter, route string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.route = route
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs one line per request — never headers or bodies, which can
// carry credentials — and counts it in the metrics, if any.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		if s.cfg.Metrics != nil {
			route := sw.route
			if route == "" { // the ops mux answered itself: a redirect to a clean path, a bad request
				route = routeUnmatched
			}
			s.cfg.Metrics.observe(route, sw.status, d)
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("host", r.Host),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", d),
		)
	})
}

// cipherSuites are the TLS 1.2 suites Serve accepts: ECDHE key exchange
// (forward secrecy) with an AEAD cipher. No CBC, no RSA key exchange, no
// 3DES. TLS 1.3's suites are Go's, which are not configurable and all AEAD.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Serve serves on ln until ctx is done, then shuts down gracefully, waiting
// up to 10 seconds for requests in flight. With Config.TLSCert it speaks
// TLS 1.2 (ECDHE with AES-GCM or ChaCha20-Poly1305 only) or TLS 1.3. It
// returns an error if the certificate cannot be loaded or ln fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var tlsConfig *tls.Config
	if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("load tls certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites}
	}
	return s.serve(ctx, ln, s.handler, tlsConfig)
}

// ServeMetrics serves GET /metrics (Prometheus text format) on ln, on any
// Host and in plain HTTP, until ctx is done: a listener of its own, to be
// bound to an address only the scraper reaches. Any other path gets 404.
// It returns an error if the Server has no Metrics or ln fails.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	if s.metrics == nil {
		return errors.New("serve metrics: no metrics configured")
	}
	return s.serve(ctx, ln, s.metrics, nil)
}

// serve serves h on ln, over TLS if tlsConfig is set, until ctx is done.
func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler, tlsConfig *tls.Config) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
