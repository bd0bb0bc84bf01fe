package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt/openapitest"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/sqlite"
)

// poolSize is how many keys per algorithm the shared pool keeps ready.
const poolSize = 4

// pool pre-generates keys for every test of the package.
var pool *keygen.Pool

// settle waits until the pool is full again, so that background key
// generation does not steal CPU from a benchmark.
func settle(tb testing.TB) {
	deadline := time.Now().Add(time.Minute)
	for _, alg := range keygen.Algorithms() {
		for pool.Ready(alg) < poolSize && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestMain(m *testing.M) {
	pool = keygen.NewPool(poolSize)
	os.Exit(ringtest.Main(m, pool))
}

const (
	host      = "localhost:8080"
	aliasHost = "127.0.0.1:8080"
	issuer    = "http://" + host + "/"
	mgmtAud   = issuer + "api/v2/"
	apiAud    = "https://api.example.com/"
)

// env is a tenant on real parts: sqlite store, sealer, key pool, keyring.
type env struct {
	tb     testing.TB
	store  *sqlite.DB
	sealer *seal.Sealer
	ring   *keyring.Ring
	h      *oauth.Handler
	mux    *http.ServeMux
	// serve is mux behind a check of every answer against the OpenAPI
	// document (mgmt.OpenAPI).
	serve http.Handler

	// client may use client_credentials for the Management API (all scopes)
	// and for apiAud (read:things write:things).
	clientID, secret string
	// nogrant is a client without any grant; nocc may not use client_credentials.
	nograntID, nograntSecret string
	noccID, noccSecret       string
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	re := ringtest.New(tb, ringtest.Options{Pool: pool})
	db, ring := re.Store, re.Ring
	if _, err := ring.CreateTenant(ctx, "default", []string{host, aliasHost}, "", "test"); err != nil {
		tb.Fatal(err)
	}
	e := &env{tb: tb, store: db, sealer: re.Sealer, ring: ring, mux: http.NewServeMux()}
	e.h = oauth.New(oauth.Config{Ring: ring, Store: db})
	e.h.Register(e.mux)
	e.serve = e.checked(e.mux)

	e.clientID, e.secret = e.addClient(secret.ClientID(), "", []string{"client_credentials"})
	e.nograntID, e.nograntSecret = e.addClient(secret.ClientID(), "", []string{"client_credentials"})
	e.noccID, e.noccSecret = e.addClient(secret.ClientID(), "", []string{"authorization_code"})

	if err := db.CreateResourceServer(ctx, signet.ResourceServer{
		Tenant: "default", ID: secret.ID(24), Name: "Things", Identifier: apiAud,
		Scopes:     []signet.Scope{{Value: "read:things"}, {Value: "write:things"}},
		SigningAlg: "RS256", TokenLifetime: 3600,
	}); err != nil {
		tb.Fatal(err)
	}
	var all []string
	for _, s := range keyring.ManagementScopes {
		all = append(all, s.Value)
	}
	e.grant(e.clientID, mgmtAud, all)
	e.grant(e.clientID, apiAud, []string{"read:things", "write:things"})
	e.grant(e.noccID, apiAud, []string{"read:things"})
	return e
}

// addClient stores a client with id and secret sec ("" = a fresh one).
func (e *env) addClient(id, sec string, grantTypes []string) (string, string) {
	e.tb.Helper()
	if sec == "" {
		sec, _ = secret.New()
	}
	if err := e.store.CreateClient(context.Background(), signet.Client{
		Tenant: "default", ClientID: id, Name: "client " + id, AppType: "non_interactive",
		SecretHash: secret.Digest(sec), GrantTypes: grantTypes,
	}); err != nil {
		e.tb.Fatal(err)
	}
	return id, sec
}

func (e *env) grant(clientID, aud string, scope []string) {
	e.tb.Helper()
	if err := e.store.CreateClientGrant(context.Background(), signet.ClientGrant{
		Tenant: "default", ID: secret.GrantID(), ClientID: clientID, Audience: aud, Scope: scope,
	}); err != nil {
		e.tb.Fatal(err)
	}
}

func (e *env) view() *keyring.View {
	v, ok := e.ring.View("default")
	if !ok {
		e.tb.Fatal("no view")
	}
	return v
}

// withTenant does what the server's tenant middleware does.
func (e *env) withTenant(r *http.Request) *http.Request {
	if r.Host == "example.com" || r.Host == "" {
		r.Host = host
	}
	v, ok := e.ring.ViewByHost(r.Host)
	if !ok {
		return r
	}
	return r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: v, Issuer: "http://" + r.Host + "/"}))
}

func (e *env) do(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.serve.ServeHTTP(rec, e.withTenant(r))
	return rec
}

// contract is the OpenAPI document's validator, loaded once.
var contract = sync.OnceValues(openapitest.Load)

// checked returns h behind a check of every answer against the OpenAPI
// document; a mismatch fails the test.
func (e *env) checked(h http.Handler) http.Handler {
	v, err := contract()
	if err != nil {
		e.tb.Fatal(err)
	}
	return v.Handler(e.tb, h)
}
