package mgmt_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/mgmt/openapitest"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/sqlite"
	"github.com/signet-auth/signet/internal/token"
)

var pool = keygen.NewPool(6)

// contract checks every answer env.serve gets against the OpenAPI document.
var contract = sync.OnceValues(openapitest.Load)

func TestMain(m *testing.M) { os.Exit(ringtest.Main(m, pool)) }

const (
	host      = "localhost:8080"
	aliasHost = "127.0.0.1:8080"
	otherHost = "other.localhost:8080"
	issuer    = "http://" + host + "/"
	mgmtAud   = issuer + "api/v2/"
)

// env is two tenants on real parts (sqlite, sealer, key pool, keyring) with
// the oauth and mgmt handlers on one mux behind a tenant middleware like
// internal/server's.
type env struct {
	t      *testing.T
	re     *ringtest.Env
	store  *sqlite.DB
	sealer *seal.Sealer
	ring   *keyring.Ring
	mux    *http.ServeMux

	// admin holds a grant for every Management API scope in both tenants.
	adminID, adminSecret string
	otherID, otherSecret string // the admin of tenant "other"

	logs   ringtest.Buffer // the handlers' log output
	mu     sync.Mutex
	bodies [][]byte // every response body, checked for private material
	// leakChecked is set once checkNoPrivateMaterial has run.
	leakChecked bool
}

func (e *env) logged() string { return e.logs.String() }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	re := ringtest.New(t, ringtest.Options{Pool: pool})
	db, ring := re.Store, re.Ring
	e := &env{t: t, re: re, store: db, sealer: re.Sealer, ring: ring, mux: http.NewServeMux()}
	logger := slog.New(slog.NewTextHandler(&e.logs, nil))
	oauth.New(oauth.Config{Ring: ring, Store: db, Logger: logger}).Register(e.mux)
	mgmt.New(mgmt.Config{Ring: ring, Store: db, Logger: logger}).Register(e.mux)

	if _, err := ring.CreateTenant(ctx, "default", []string{host, aliasHost}, "", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.CreateTenant(ctx, "other", []string{otherHost}, "", "test"); err != nil {
		t.Fatal(err)
	}
	e.adminID, e.adminSecret = e.admin("default", "http://"+host+"/api/v2/")
	e.otherID, e.otherSecret = e.admin("other", "http://"+otherHost+"/api/v2/")
	t.Cleanup(e.checkNoPrivateMaterial)
	return e
}

// checkContract fails t unless the answer rec to r matches the OpenAPI
// document (mgmt.OpenAPI).
func checkContract(t testing.TB, r *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	v, err := contract()
	if err != nil {
		t.Error(err)
		return
	}
	if err := v.Check(r, rec.Code, rec.Result().Header, rec.Body.Bytes()); err != nil {
		t.Errorf("the answer does not match the OpenAPI document: %v", err)
	}
}

// admin creates a client of tenant with every Management API scope.
func (e *env) admin(tenant, aud string) (string, string) {
	return e.re.AdminClient(e.t, tenant, aud)
}

func (e *env) view(tenant string) *keyring.View {
	v, ok := e.ring.View(tenant)
	if !ok {
		e.t.Fatalf("no view of %s", tenant)
	}
	return v
}

// serve runs r through the tenant middleware and the mux.
func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	if r.Host == "example.com" || r.Host == "" {
		r.Host = host
	}
	if v, ok := e.ring.ViewByHost(r.Host); ok {
		r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: v, Issuer: "http://" + r.Host + "/"}))
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, r)
	checkContract(e.t, r, rec)
	e.mu.Lock()
	e.bodies = append(e.bodies, bytes.Clone(rec.Body.Bytes()))
	e.mu.Unlock()
	return rec
}

// req is one Management API call.
type req struct {
	method, path string
	token        string
	body         string // sent as is; "" = no body
	contentType  string
	host         string
	header       map[string]string
}

func (e *env) do(q req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r := httptest.NewRequest(q.method, q.path, body)
	if q.host != "" {
		r.Host = q.host
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	if q.contentType != "" {
		r.Header.Set("Content-Type", q.contentType)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	return e.serve(r)
}

// tokenFor gets a Management API token through the real /oauth/token, at
// host h with audience aud, for the client id/sec; scope "" = all granted.
func (e *env) tokenFor(h, aud, id, sec, scope string) string {
	e.t.Helper()
	v := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}, "audience": {aud}}
	if scope != "" {
		v.Set("scope", scope)
	}
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(v.Encode()))
	r.Host = h
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := e.serve(r)
	if rec.Code != 200 {
		e.t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &out)
	return out.AccessToken
}

// token returns an admin token of tenant "default" with scope ("" = all).
func (e *env) token(scope string) string {
	return e.tokenFor(host, mgmtAud, e.adminID, e.adminSecret, scope)
}

// signed signs claims with the current key of tenant "default", filling
// iss, sub, aud, iat, exp and azp unless set.
func (e *env) signed(c token.Claims) string {
	e.t.Helper()
	now := time.Now().Unix()
	if c.Issuer == "" {
		c.Issuer = issuer
	}
	if c.Subject == "" {
		c.Subject = e.adminID + "@clients"
		c.AuthorizedParty = e.adminID
	}
	if c.Audience == nil {
		c.Audience = token.Audience{mgmtAud}
	}
	if c.IssuedAt == 0 {
		c.IssuedAt = now
	}
	if c.Expiry == 0 {
		c.Expiry = now + 3600
	}
	tok, err := e.view("default").Signer.Sign(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// signedByNext signs c with the private half of tenant "default"'s next key.
func (e *env) signedByNext(c token.Claims) string {
	e.t.Helper()
	next := e.view("default").Keyset.Next()
	priv, err := keygen.Open(next, "default", e.sealer)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := token.NewSigner(priv, next.Algorithm, next.KID)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := s.Sign(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// decode decodes rec's JSON body into v.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
	return v
}

// wantError checks an Auth0 error answer exactly.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, message, errorCode string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body := decode[map[string]any](t, rec)
	if body["statusCode"] != float64(status) || body["error"] != http.StatusText(status) {
		t.Errorf("body = %s", rec.Body)
	}
	if message != "" && body["message"] != message {
		t.Errorf("message = %q, want %q", body["message"], message)
	}
	if errorCode != "" && body["errorCode"] != errorCode {
		t.Errorf("errorCode = %v, want %q", body["errorCode"], errorCode)
	}
}

// checkNoPrivateMaterial fails if any response body carried a private key
// or sealed private-key bytes, in any usual encoding.
func (e *env) checkNoPrivateMaterial() {
	if e.leakChecked {
		return
	}
	e.leakChecked = true
	ctx := context.Background()
	var needles [][]byte
	for _, tenant := range []string{"default", "other"} {
		ks, err := e.store.Keyset(ctx, tenant)
		if err != nil {
			e.t.Errorf("keyset %s: %v", tenant, err)
			return
		}
		for _, k := range ks.Keys {
			sealed := k.SealedPrivateKey
			needles = append(needles, sealed[:32], []byte(base64.StdEncoding.EncodeToString(sealed)[:40]),
				[]byte(base64.RawURLEncoding.EncodeToString(sealed)[:40]))
			priv, err := keygen.Open(k, tenant, e.sealer)
			if err != nil {
				e.t.Errorf("open %s: %v", k.KID, err)
				continue
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				e.t.Errorf("marshal %s: %v", k.KID, err)
				continue
			}
			mid := der[len(der)/2 : len(der)/2+48]
			needles = append(needles, mid, []byte(base64.StdEncoding.EncodeToString(der)[200:260]),
				[]byte(base64.RawURLEncoding.EncodeToString(der)[200:260]))
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, b := range e.bodies {
		if bytes.Contains(b, []byte("PRIVATE KEY")) {
			e.t.Errorf("response %d contains a PEM private key", i)
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				e.t.Errorf("response %d contains private key material", i)
			}
		}
	}
}
