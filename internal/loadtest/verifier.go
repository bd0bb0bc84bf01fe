package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verification errors. Verify wraps them with details; use errors.Is.
var (
	// ErrMalformed: the token is not a compact JWS with an accepted algorithm.
	ErrMalformed = errors.New("malformed token")
	// ErrUnknownKey: the token's kid is not in the JWKS, even after a refetch.
	ErrUnknownKey = errors.New("kid not in the JWKS")
	// ErrSignature: the signature does not verify with the key of that kid.
	ErrSignature = errors.New("bad signature")
	// ErrClaims: iss, aud, exp, nbf or iat is not acceptable.
	ErrClaims = errors.New("claims rejected")
	// ErrJWKS: the JWKS could not be fetched or parsed; no verdict.
	ErrJWKS = errors.New("jwks unavailable")
)

// algorithms are the signature algorithms Signet signs with.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// leeway is the clock skew Verify tolerates on exp, nbf and iat.
const leeway = time.Minute

// Verifier verifies tokens against one replica's JWKS as a careful client
// does, using only go-jose: it keeps the JWKS exactly as long as the
// response's Cache-Control max-age allows, then revalidates it with
// If-None-Match (a 304 renews it), and refetches it once when a token names a
// kid it does not hold. Concurrent callers share one fetch. A Verifier is safe
// for concurrent use.
type Verifier struct {
	url      string // the JWKS URL
	host     string // Host header; "" means the URL's
	client   *http.Client
	issuers  []string
	audience string

	fetchMu sync.Mutex // one fetch at a time
	cache   atomic.Pointer[jwksCache]

	fetches, notModified, refetches, fetchErrors atomic.Int64
}

// jwksCache is one stored JWKS response; replace, never mutate.
type jwksCache struct {
	keys      map[string]jose.JSONWebKey // by kid
	etag      string
	requested time.Time // when the request that brought it was sent
	expires   time.Time
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// BaseURL is the replica's base URL; the JWKS is BaseURL + "/.well-known/jwks.json".
	BaseURL string
	// Host, if set, is sent as the Host header.
	Host string
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
	// Issuers are the accepted iss values (a tenant may have several hosts).
	Issuers []string
	// Audience must be one of the token's audiences.
	Audience string
}

// NewVerifier returns a Verifier with an empty cache.
func NewVerifier(cfg VerifierConfig) *Verifier {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &Verifier{url: trimSlash(cfg.BaseURL) + "/.well-known/jwks.json", host: cfg.Host, client: cfg.Client,
		issuers: slices.Clone(cfg.Issuers), audience: cfg.Audience}
}

// Verify checks raw's signature against the JWKS and its iss, aud, exp, nbf
// and iat, and returns the token's kid (also on failure, when it could be
// read). Returns an error wrapping ErrMalformed, ErrUnknownKey, ErrSignature,
// ErrClaims or ErrJWKS.
func (v *Verifier) Verify(ctx context.Context, raw string) (kid string, err error) {
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return "", fmt.Errorf("%w: want one signature with a kid", ErrMalformed)
	}
	kid = tok.Headers[0].KeyID
	c, err := v.fresh(ctx)
	if err != nil {
		return kid, err
	}
	key, ok := c.keys[kid]
	if !ok {
		v.refetches.Add(1)
		if c, err = v.fetch(ctx, c, time.Now()); err != nil {
			return kid, err
		}
		if key, ok = c.keys[kid]; !ok {
			return kid, fmt.Errorf("%w: %s", ErrUnknownKey, kid)
		}
	}
	var claims jwt.Claims
	if err := tok.Claims(key.Key, &claims); err != nil {
		return kid, fmt.Errorf("%w: kid %s: %v", ErrSignature, kid, err)
	}
	if !slices.Contains(v.issuers, claims.Issuer) {
		return kid, fmt.Errorf("%w: iss %q", ErrClaims, claims.Issuer)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{v.audience}, Time: time.Now()}, leeway); err != nil {
		return kid, fmt.Errorf("%w: %v", ErrClaims, err)
	}
	return kid, nil
}

// fresh returns the cached JWKS if it is still fresh, else revalidates it.
func (v *Verifier) fresh(ctx context.Context) (*jwksCache, error) {
	c := v.cache.Load()
	if c != nil && time.Now().Before(c.expires) {
		return c, nil
	}
	return v.fetch(ctx, c, time.Time{})
}

// fetch revalidates the JWKS that the caller saw as seen (nil if none). If
// another caller replaced it meanwhile, that copy is used instead if it is
// fresh or, for a refetch (after is set), if it was requested after after: a
// copy requested earlier may predate the token that made the caller refetch.
func (v *Verifier) fetch(ctx context.Context, seen *jwksCache, after time.Time) (*jwksCache, error) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if c := v.cache.Load(); c != seen && c != nil {
		if after.IsZero() && time.Now().Before(c.expires) || !after.IsZero() && c.requested.After(after) {
			return c, nil
		}
	}
	c, err := v.get(ctx, seen)
	if err != nil {
		v.fetchErrors.Add(1)
		return nil, fmt.Errorf("%w: %s: %v", ErrJWKS, v.url, err)
	}
	v.cache.Store(c)
	return c, nil
}

// get makes one (conditional, if old is set) request for the JWKS.
func (v *Verifier) get(ctx context.Context, old *jwksCache) (*jwksCache, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return nil, err
	}
	req.Host = v.host
	if old != nil && old.etag != "" {
		req.Header.Set("If-None-Match", old.etag)
	}
	start := time.Now()
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	// Freshness counts from when the request was sent (RFC 9111 §4.2.3).
	expires := start.Add(freshness(resp.Header))
	switch {
	case resp.StatusCode == http.StatusNotModified && old != nil:
		v.notModified.Add(1)
		return &jwksCache{keys: old.keys, etag: old.etag, requested: start, expires: expires}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	v.fetches.Add(1)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() || k.KeyID == "" || (k.Use != "" && k.Use != "sig") {
			return nil, fmt.Errorf("unusable key %q", k.KeyID)
		}
		keys[k.KeyID] = k
	}
	return &jwksCache{keys: keys, etag: resp.Header.Get("ETag"), requested: start, expires: expires}, nil
}

// VerifierStats counts a Verifier's JWKS requests.
type VerifierStats struct {
	// Fetches are 200 answers, NotModified 304 answers, Errors failed requests.
	Fetches     int64 `json:"fetches"`
	NotModified int64 `json:"not_modified"`
	Errors      int64 `json:"errors"`
	// UnknownKID is how many verifications met a kid not in the cached JWKS
	// (each refetched it once, sharing concurrent fetches).
	UnknownKID int64 `json:"unknown_kid"`
}

// Stats returns the Verifier's counters.
func (v *Verifier) Stats() VerifierStats {
	return VerifierStats{Fetches: v.fetches.Load(), NotModified: v.notModified.Load(),
		Errors: v.fetchErrors.Load(), UnknownKID: v.refetches.Load()}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
