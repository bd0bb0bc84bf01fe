package mgmt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
)

// maxIdempotencyKey is the longest Idempotency-Key header accepted.
const maxIdempotencyKey = 255

// keyObject is Auth0's signing key object. The four booleans are always
// present; each is true exactly when the key is in that state. Timestamps
// are omitted when zero.
type keyObject struct {
	KID          string    `json:"kid"`
	Cert         string    `json:"cert"`
	PKCS7        string    `json:"pkcs7"`
	Current      bool      `json:"current"`
	Next         bool      `json:"next"`
	Previous     bool      `json:"previous"`
	CurrentSince time.Time `json:"current_since,omitzero"`
	CurrentUntil time.Time `json:"current_until,omitzero"`
	Fingerprint  string    `json:"fingerprint"`
	Thumbprint   string    `json:"thumbprint"`
	Revoked      bool      `json:"revoked"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
}

// newKeyObject renders k as Auth0 does. It carries public material only.
func newKeyObject(k signet.Key) keyObject {
	return keyObject{
		KID:          k.KID,
		Cert:         keygen.CertPEM(k.Certificate),
		PKCS7:        keygen.PKCS7(k.Certificate),
		Current:      k.State == signet.StateCurrent,
		Next:         k.State == signet.StateNext,
		Previous:     k.State == signet.StatePrevious,
		CurrentSince: utc(k.CurrentSince),
		CurrentUntil: utc(k.CurrentUntil),
		Fingerprint:  keygen.Fingerprint(k.Certificate),
		Thumbprint:   keygen.Thumbprint(k.Certificate),
		Revoked:      k.State == signet.StateRevoked,
		RevokedAt:    utc(k.RevokedAt),
	}
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// certAndKID is the answer of rotate and revoke.
type certAndKID struct {
	Cert string `json:"cert"`
	KID  string `json:"kid"`
}

// listKeys answers GET /api/v2/keys/signing: every key of the tenant,
// revoked ones included, in display order. A Warning header says when the
// tenant publishes more previous keys than it should (Keyset.GrowthWarning).
func (a *API) listKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	ks := c.req.View.Keyset
	keys := ks.Sorted()
	out := make([]keyObject, len(keys))
	for i, k := range keys {
		out[i] = newKeyObject(k)
	}
	if msg := ks.GrowthWarning(); msg != "" {
		w.Header().Set("Warning", warning299(msg))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// warning299 is an HTTP Warning header value (RFC 7234, code 299
// "miscellaneous persistent warning") carrying msg as a quoted string.
func warning299(msg string) string {
	return `299 - "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(msg) + `"`
}

// errKeyNotFound is the 404 of the signing-key endpoints.
var errKeyNotFound = withCode("inexistent_signing_key", signet.ErrKeyNotFound)

// getKey answers GET /api/v2/keys/signing/{kid}.
func (a *API) getKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	ks := c.req.View.Keyset
	k, err := ks.Key(r.PathValue("kid"))
	if err != nil {
		return errKeyNotFound
	}
	writeJSON(w, http.StatusOK, newKeyObject(k))
	return nil
}

// rotateKey answers POST /api/v2/keys/signing/rotate with the key that has
// just become current. Query revoke_current=true also revokes the former
// current key. An Idempotency-Key header makes a retry of the same request
// by the same client answer the first rotation again, with
// Idempotent-Replayed: true; the same key with another method, path, query
// or body is a 422.
func (a *API) rotateKey(w http.ResponseWriter, r *http.Request, c *call) error {
	opt := keyring.RotateOptions{Actor: c.actor}
	q := r.URL.Query()
	if vs, ok := q["revoke_current"]; ok {
		switch strings.ToLower(vs[len(vs)-1]) {
		case "true", "1":
			opt.RevokeCurrent = true
		case "false", "0":
		default:
			return withCode("invalid_query_string", invalid("Query validation error: 'revoke_current' must be true or false."))
		}
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey {
			return withCode("invalid_headers", invalid("The Idempotency-Key header must be at most %d characters.", maxIdempotencyKey))
		}
		opt.IdempotencyKey = key
		opt.Fingerprint = fingerprint(r, body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := noBody(r); err != nil {
		return err
	}
	rot, err := a.ring.Rotate(r.Context(), c.tenant, opt)
	if errors.Is(err, keyring.ErrIdempotencyKeyReused) {
		return errIdempotencyKeyReused
	}
	if err != nil {
		return err
	}
	if rot.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if rot.Warning != "" {
		w.Header().Set("Warning", `299 - "`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(rot.Warning)+`"`)
	}
	writeJSON(w, http.StatusCreated, certAndKID{Cert: keygen.CertPEM(rot.Current.Certificate), KID: rot.Current.KID})
	return nil
}

// errIdempotencyKeyReused is the 422 of a rotation whose Idempotency-Key the
// caller already used for a different request.
var errIdempotencyKeyReused = withCode("idempotency_key_reused",
	signet.Errorf(eUnprocessable, "%s", keyring.ErrIdempotencyKeyReused.Message))

// fingerprint returns a digest of what makes r the request it is: its
// method, path, query (parameters sorted) and body, which an idempotent
// retry must repeat exactly.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", r.Method, r.URL.EscapedPath(), r.URL.Query().Encode())
	h.Write(body)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// revokeKey answers PUT /api/v2/keys/signing/{kid}/revoke with the revoked key.
func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	k, err := a.ring.Revoke(r.Context(), c.tenant, r.PathValue("kid"), c.actor)
	if errors.Is(err, signet.ErrKeyNotFound) {
		return errKeyNotFound
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, certAndKID{Cert: keygen.CertPEM(k.Certificate), KID: k.KID})
	return nil
}
