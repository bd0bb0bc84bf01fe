package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials are a machine client's, for client_credentials.
type Credentials struct {
	ClientID, ClientSecret string
	// Audience is the API the tokens are for.
	Audience string
}

// Config configures Run.
type Config struct {
	// URLs are the replicas' base URLs (scheme://host:port, no path).
	URLs []string
	// Host, if set, is the Host header of every request, as a load balancer
	// in front of the replicas would forward it; else each URL's own host.
	Host string
	// Duration is how long tokens are requested.
	Duration time.Duration
	// Concurrency is how many token requests are in flight at once.
	Concurrency int
	// Client requests the tokens that are verified.
	Client Credentials
	// Admin rotates keys; it needs create:signing_keys, update:signing_keys
	// and read:signing_keys on the Management API (Audience). Zero means Client.
	Admin Credentials
	// RotateEvery is the time from one rotation's answer to the next
	// rotation; 0 means none.
	RotateEvery time.Duration
	// RotateVia is the index in URLs of the replica rotations go through.
	RotateVia int
	// RevokeEvery makes every RevokeEvery-th rotation a rotate-and-revoke
	// (revoke_current=true); 0 means never.
	RevokeEvery int
	// Burst, if positive, sends that many rotations at once, spread over the
	// replicas, half-way through the run: manual rotations closer together
	// than the time a change takes to reach every replica.
	Burst int
	// BurstRevokeEvery makes every BurstRevokeEvery-th rotation of the
	// burst a rotate-and-revoke; 0 means none. Tokens of the keys revoked
	// in the burst count as revoked from the burst's start.
	BurstRevokeEvery int
	// PollInterval is how often every replica's JWKS is read after a change
	// until it shows the change; 0 means 10 ms.
	PollInterval time.Duration
	// PropagationTimeout is how long a change may take to show; 0 means 10 s.
	PropagationTimeout time.Duration
	// HTTPClient makes every request; nil means a client with enough idle
	// connections per host for Concurrency.
	HTTPClient *http.Client
	// Logger, if set, logs each change.
	Logger *slog.Logger
}

// runner is one Run.
type runner struct {
	cfg       Config
	client    *http.Client
	urls      []string
	verifiers []*Verifier
	rr        atomic.Uint64

	changeMu sync.Mutex // one change or burst at a time

	mu           sync.Mutex
	workers      []*workerStats
	changes      []*Change
	changeErrors []string
	bursts       []*Burst
	revokedAt    map[string]time.Time // kid → when the request that revoked it was sent
}

// workerStats is what one token worker saw; merged at the end.
type workerStats struct {
	latencies     []time.Duration
	perReplica    []int64
	errors        map[string]int64
	verifications int64
	failures      []failure
}

// failure is one failed verification.
type failure struct {
	at                   time.Time
	kid                  string
	issuedBy, verifiedBy int
	err                  error
}

// Run drives the replicas for cfg.Duration as the package documentation
// says and returns what it measured. It returns an error only if the run
// could not start (bad Config, a replica's discovery document unreachable or
// inconsistent) or ctx ended; verification failures are in the Report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, client: cfg.HTTPClient, revokedAt: map[string]time.Time{}}
	if r.client == nil {
		r.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 4 * (cfg.Concurrency + 8), MaxIdleConnsPerHost: cfg.Concurrency + 8, IdleConnTimeout: time.Minute,
		}}
	}
	for _, u := range cfg.URLs {
		r.urls = append(r.urls, trimSlash(u))
	}
	issuers, err := r.discover(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range r.urls {
		v := NewVerifier(VerifierConfig{BaseURL: u, Host: cfg.Host, Client: r.client, Issuers: issuers, Audience: cfg.Client.Audience})
		if _, err := v.fresh(ctx); err != nil {
			return nil, err
		}
		r.verifiers = append(r.verifiers, v)
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var load, changes, trackers sync.WaitGroup
	for range cfg.Concurrency {
		w := &workerStats{perReplica: make([]int64, len(r.urls)), errors: map[string]int64{}}
		r.workers = append(r.workers, w)
		load.Go(func() { r.work(runCtx, ctx, w) })
	}
	if cfg.RotateEvery > 0 {
		changes.Go(func() { r.rotate(runCtx, ctx, &trackers) })
	}
	if cfg.Burst > 0 {
		changes.Go(func() { r.burst(runCtx, ctx) })
	}
	load.Wait()
	elapsed := time.Since(start)
	changes.Wait()
	trackers.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return r.report(elapsed), nil
}

func (c *Config) check() error {
	switch {
	case len(c.URLs) == 0:
		return errors.New("loadtest: no replica URL")
	case c.Duration <= 0:
		return errors.New("loadtest: the duration must be positive")
	case c.Concurrency < 1:
		return errors.New("loadtest: the concurrency must be at least 1")
	case c.Client.ClientID == "" || c.Client.ClientSecret == "" || c.Client.Audience == "":
		return errors.New("loadtest: need a client id, secret and audience")
	case c.RotateVia < 0 || c.RotateVia >= len(c.URLs):
		return fmt.Errorf("loadtest: rotate via replica %d: there are %d", c.RotateVia, len(c.URLs))
	case c.RotateEvery < 0 || c.RevokeEvery < 0 || c.Burst < 0 || c.BurstRevokeEvery < 0:
		return errors.New("loadtest: negative rotation interval or burst")
	}
	for _, u := range c.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || strings.Trim(p.Path, "/") != "" {
			return fmt.Errorf("loadtest: replica URL %q: want http(s)://host[:port]", u)
		}
	}
	if c.Admin == (Credentials{}) {
		c.Admin = c.Client
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Millisecond
	}
	if c.PropagationTimeout <= 0 {
		c.PropagationTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// discover reads every replica's discovery document and returns the issuers
// they name. The replicas must agree: one tenant behind all of them.
func (r *runner) discover(ctx context.Context) ([]string, error) {
	var issuers []string
	var jwksPath string
	for i := range r.urls {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		status, body, err := r.do(ctx, i, http.MethodGet, "/.well-known/openid-configuration", "", nil)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d: %s", status, truncate(body))
		}
		if err == nil {
			err = json.Unmarshal(body, &doc)
		}
		if err != nil {
			return nil, fmt.Errorf("loadtest: discovery of %s: %w", r.urls[i], err)
		}
		u, err := url.Parse(doc.JWKSURI)
		if err != nil || doc.Issuer == "" {
			return nil, fmt.Errorf("loadtest: discovery of %s: no issuer or jwks_uri", r.urls[i])
		}
		if jwksPath == "" {
			jwksPath = u.Path
		}
		if u.Path != "/.well-known/jwks.json" || u.Path != jwksPath {
			return nil, fmt.Errorf("loadtest: %s publishes its keys at %s", r.urls[i], doc.JWKSURI)
		}
		if !slices.Contains(issuers, doc.Issuer) {
			issuers = append(issuers, doc.Issuer)
		}
	}
	return issuers, nil
}

// do sends one request to replica i and returns its status and body.
func (r *runner) do(ctx context.Context, i int, method, path, bearer string, form url.Values) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, r.urls[i]+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Host = r.cfg.Host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// token gets a client_credentials access token from replica i.
func (r *runner) token(ctx context.Context, i int, c Credentials) (string, error) {
	status, body, err := r.do(ctx, i, http.MethodPost, "/oauth/token", "", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "audience": {c.Audience}})
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", &statusError{status, truncate(body)}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token response without access_token: %s", truncate(body))
	}
	return tok.AccessToken, nil
}

// statusError is an unexpected HTTP status.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

func truncate(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// work requests tokens until runCtx ends, spreading them over the replicas,
// and verifies each against every replica's JWKS (under ctx, so the last
// tokens are verified too).
func (r *runner) work(runCtx, ctx context.Context, w *workerStats) {
	for runCtx.Err() == nil {
		i := int((r.rr.Add(1) - 1) % uint64(len(r.urls)))
		t0 := time.Now()
		raw, err := r.token(runCtx, i, r.cfg.Client)
		lat := time.Since(t0)
		if err != nil {
			if runCtx.Err() != nil {
				return
			}
			var se *statusError
			key := r.urls[i] + ": "
			if errors.As(err, &se) {
				key += fmt.Sprintf("status %d", se.status)
			} else {
				key += "request failed"
			}
			w.errors[key]++
			continue
		}
		w.latencies = append(w.latencies, lat)
		w.perReplica[i]++
		for j, v := range r.verifiers {
			w.verifications++
			if kid, err := v.Verify(ctx, raw); err != nil {
				w.failures = append(w.failures, failure{at: time.Now(), kid: kid, issuedBy: i, verifiedBy: j, err: err})
			}
		}
	}
}
