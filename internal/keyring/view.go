package keyring

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/token"
)

// View is an immutable snapshot of one tenant: what every request needs,
// computed once per keyset change. Replace, never mutate.
type View struct {
	Tenant signet.Tenant
	// Keyset is the tenant's keys.
	Keyset signet.Keyset
	// Current is the keyset's current key.
	Current signet.Key
	// Signing is the key that signs: Current, except until every replica
	// publishes it (acknowledged, with Config.Acks; otherwise during the
	// Config.PublishDelay after a rotation), when it is the most recent
	// earlier key that every replica already publishes (never past a revoked
	// one).
	Signing signet.Key
	// Signer signs tokens with the Signing key. It refuses (ErrStale) while
	// the replica cannot confirm that this view is current (see
	// Config.MaxStaleness).
	Signer *Signer
	// Key is the Signing key's private half, for signatures that are not
	// JWS (SAML and WS-Fed assertions); it refuses like Signer. Never log or
	// serialise it.
	Key crypto.Signer
	// JWKS is the JSON Web Key Set of the published keys, and ETag its strong
	// entity tag (quoted).
	JWKS []byte
	ETag string

	keys    map[string]publishedKey // by kid: the keys that verify
	version string
	// switchAt is when Current will have been published for PublishDelay
	// and should replace an older Signing key; zero if Signing is Current.
	switchAt time.Time
	// waitPos, with Config.Acks, is the position of Current while it is not
	// acknowledged by every live replica (0 once it is): the view is
	// rebuilt when it is. gate is then set if no earlier key may sign
	// instead: signatures wait for it (see ack.go).
	waitPos int64
	gate    *gate
	// fresh reports whether the replica knows the view is current; nil
	// means always.
	fresh func() error
}

// Fresh returns nil if the replica knows this view of the tenant is current
// (see Config.MaxStaleness), and otherwise an error matching ErrStale: then
// Signer and Key refuse to sign.
func (v *View) Fresh() error {
	if v.fresh == nil {
		return nil
	}
	return v.fresh()
}

// Signer signs tokens with a view's signing key, unless the view is stale.
// It is safe for concurrent use.
type Signer struct {
	tok   *token.Signer
	fresh func() error // nil means always fresh
	// gate, if not nil, is waited for (at most wait) before each signature:
	// the signing key is not yet acknowledged by every replica.
	gate *gate
	wait time.Duration
}

// KID returns the key ID the signer puts in every token's header.
func (s *Signer) KID() string { return s.tok.KID() }

// Sign returns claims signed as a compact JWS. While the signing key is
// not yet acknowledged by every replica (a rotate-and-revoke right after
// another rotation, see Config.Acks) it first waits for that, for a bounded
// time.
// Returns an error matching ErrStale if the view is stale, and token.Signer.Sign's errors.
func (s *Signer) Sign(claims any) (string, error) {
	s.gate.wait(context.Background(), s.wait)
	if s.fresh != nil {
		if err := s.fresh(); err != nil {
			return "", err
		}
	}
	return s.tok.Sign(claims)
}

// guardedKey is a private key that refuses to sign while its view is
// stale, and waits like Signer.Sign while it is not acknowledged.
type guardedKey struct {
	crypto.Signer
	fresh func() error
	gate  *gate
	wait  time.Duration
}

// Sign signs digest unless the view is stale (an error matching ErrStale).
func (k guardedKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.gate.wait(context.Background(), k.wait)
	if k.fresh != nil {
		if err := k.fresh(); err != nil {
			return nil, err
		}
	}
	return k.Signer.Sign(rand, digest, opts)
}

// VerifyKey returns the public key with the given kid if tokens signed by it
// are accepted: the key is current or previous. The next key is published
// but never signs, and revoked keys are not published.
func (v *View) VerifyKey(kid string) (token.VerifyKey, bool) {
	k, ok := v.keys[kid]
	if !ok || !k.signs {
		return token.VerifyKey{}, false
	}
	return k.verify, true
}

// Issuers returns the tenant's issuer URLs, one per host, primary first.
func (r *Ring) Issuers(v *View) []string {
	out := make([]string, len(v.Tenant.Hosts))
	for i, h := range v.Tenant.Hosts {
		out[i] = r.Issuer(h)
	}
	return out
}

// publishedKey is what a view keeps of each published key, carried over to
// the next view of the tenant so a rotation does not redo it.
type publishedKey struct {
	jwk    []byte // the key's JWK as it appears in the JWKS
	verify token.VerifyKey
	// signs is true if the key is current or previous: one that may have
	// signed, here or on another replica.
	signs bool
}

// selection is the signing key a view uses and what may change it.
type selection struct {
	key      signet.Key
	switchAt time.Time     // see View.switchAt
	waitPos  int64         // see View.waitPos
	gate     *gate         // see View.gate
	wait     time.Duration // the longest a signature waits for gate
}

// newView builds a tenant's view. It reuses from old (the tenant's previous
// view, or nil) the JWKs of keys still published and the opened signing key
// if it is unchanged, so its cost grows with what changed.
//
// sel is the signing key (see Ring.selectSigning); fresh (nil for always)
// tells the signers whether the view may sign.
// Returns an error matching seal.ErrOpen, naming the kid, if the signing
// key cannot be opened.
func newView(t signet.Tenant, ks signet.Keyset, s *seal.Sealer, old *View, sel selection, fresh func() error) (*View, error) {
	if err := ks.Validate(); err != nil {
		return nil, err
	}
	v := &View{Tenant: t, Keyset: ks, Current: ks.Current(), keys: map[string]publishedKey{}, version: version(t, ks), fresh: fresh}
	v.Signing, v.switchAt, v.waitPos, v.gate = sel.key, sel.switchAt, sel.waitPos, sel.gate
	var (
		tok  *token.Signer
		priv crypto.Signer
	)
	if old != nil && old.Signing.KID == v.Signing.KID {
		tok, priv = old.Signer.tok, old.Key.(guardedKey).Signer
	} else {
		var err error
		if priv, err = keygen.Open(v.Signing, t.Name, s); err != nil {
			return nil, fmt.Errorf("open signing key %s: %w", v.Signing.KID, err)
		}
		if tok, err = token.NewSigner(priv, v.Signing.Algorithm, v.Signing.KID); err != nil {
			return nil, err
		}
	}
	v.Signer = &Signer{tok: tok, fresh: fresh, gate: sel.gate, wait: sel.wait}
	v.Key = guardedKey{Signer: priv, fresh: fresh, gate: sel.gate, wait: sel.wait}
	published := ks.Published()
	jwks := make([][]byte, 0, len(published))
	for _, k := range published {
		pk, ok := old.published(k.KID)
		if !ok {
			jwk, err := keygen.JWK(k)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", k.KID, err)
			}
			if pk.jwk, err = json.Marshal(jwk); err != nil {
				return nil, fmt.Errorf("marshal jwk %s: %w", k.KID, err)
			}
			pk.verify = token.VerifyKey{Key: jwk.Key, Algorithm: k.Algorithm}
		}
		pk.signs = k.State != signet.StateNext
		v.keys[k.KID] = pk
		jwks = append(jwks, pk.jwk)
	}
	// The same bytes json.Marshal(jose.JSONWebKeySet{Keys: ...}) produces.
	v.JWKS = slices.Concat([]byte(`{"keys":[`), bytes.Join(jwks, []byte(",")), []byte(`]}`))
	sum := sha256.Sum256(v.JWKS)
	v.ETag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	return v, nil
}

// signingKey returns the key a replica should sign with at now, and when the
// current key takes over (zero if it already signs), when acknowledgements
// are off (Config.Acks): it assumes every replica loads a change within
// delay.
//
// A replica must never sign with a key that another replica does not
// publish yet. The current key was published as the next key when it was
// created, so once it is delay old (delay bounding how long a change takes
// to reach every replica) every replica publishes it. Until then, the
// replica signs with the most recent previous key that is delay old: it was
// published even earlier and stays published until revoked. The search
// stops at the first revoked key, since a rotate-and-revoke means "stop
// signing with what came before"; if it finds nothing, the current key signs.
func signingKey(ks signet.Keyset, now time.Time, delay time.Duration) (signet.Key, time.Time) {
	cur := ks.Current()
	if delay <= 0 || !now.Before(cur.CreatedAt.Add(delay)) {
		return cur, time.Time{}
	}
	// Keys are in creation order, which is the order they became current:
	// walk back from the most recently current.
	for i := len(ks.Keys) - 1; i >= 0; i-- {
		switch k := ks.Keys[i]; k.State {
		case signet.StateRevoked:
			return cur, time.Time{}
		case signet.StatePrevious:
			if !now.Before(k.CreatedAt.Add(delay)) {
				return k, cur.CreatedAt.Add(delay)
			}
		}
	}
	return cur, time.Time{}
}

// ackedSigningKey returns the key a replica should sign with, knowing which
// positions every live replica acknowledges (acked), and if the current
// key is not acknowledged, its position and whether no earlier key may
// sign instead (then the current key signs, after waiting; see ack.go).
//
// The current key signs once acknowledged. Until then the most recent
// previous key that is acknowledged signs; the search stops at the first
// revoked key, as in signingKey.
func ackedSigningKey(ks signet.Keyset, acked func(pos int64) bool) (k signet.Key, waitPos int64, gated bool) {
	cur := ks.Current()
	if acked(cur.Position) {
		return cur, 0, false
	}
	for i := len(ks.Keys) - 1; i >= 0; i-- {
		switch k := ks.Keys[i]; k.State {
		case signet.StateRevoked:
			return cur, cur.Position, true
		case signet.StatePrevious:
			if acked(k.Position) {
				return k, cur.Position, false
			}
		}
	}
	return cur, cur.Position, true
}

// published returns what v holds of a published key; v may be nil.
func (v *View) published(kid string) (publishedKey, bool) {
	if v == nil {
		return publishedKey{}, false
	}
	pk, ok := v.keys[kid]
	return pk, ok
}

// version summarises what a view depends on, so an unchanged tenant is not rebuilt.
func version(t signet.Tenant, ks signet.Keyset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%+v", strings.Join(t.Hosts, ","), t.Algorithm, t.Policy)
	for _, k := range ks.Keys {
		fmt.Fprintf(&b, "|%s:%s:%d:%d", k.KID, k.State, k.CurrentUntil.UnixNano(), k.RevokedAt.UnixNano())
	}
	return b.String()
}

// managementPath is what the Management API's audience adds to an issuer.
const managementPath = "api/v2/"

// ManagementAudienceOf returns the Management API audience of an issuer URL
// (which ends in a slash): issuer + "api/v2/", as Auth0's.
func ManagementAudienceOf(issuer string) string { return issuer + managementPath }

// ManagementAudience returns the identifier of the tenant's built-in
// Management API resource server: ManagementAudienceOf the primary issuer.
func (r *Ring) ManagementAudience(v *View) string {
	return ManagementAudienceOf(r.Issuer(v.Tenant.Hosts[0]))
}

// IsManagementAudience reports whether aud is "<issuer>api/v2/" for the
// issuer of any of the tenant's hosts. SDKs derive the audience from the host
// they talk to, so each is an alias of the Management API.
func (r *Ring) IsManagementAudience(v *View, aud string) bool {
	base, ok := strings.CutSuffix(aud, managementPath)
	return ok && slices.Contains(r.Issuers(v), base)
}

// ResourceServer returns the resource server an audience names, mapping every
// Management API alias to the tenant's built-in resource server.
// Returns an error matching signet.ErrNotFound if there is none.
func (r *Ring) ResourceServer(ctx context.Context, v *View, aud string) (signet.ResourceServer, error) {
	if r.IsManagementAudience(v, aud) {
		aud = r.ManagementAudience(v)
	}
	return r.cfg.Store.ResourceServerByIdentifier(ctx, v.Tenant.Name, aud)
}
