package mgmt_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/sqlite"
)

// fuzzClientID is a client that exists in every fuzz tenant, so that the
// fuzzer can PATCH it and reference it in client grants.
const fuzzClientID = "fuzzclient000000000000000000000a"

// fuzzRS is a resource server, defining scope read:x, that exists in every
// fuzz tenant, with a grant of it to fuzzClientID: creating either again is a
// conflict.
const fuzzRS = "urn:fuzz:existing"

// fuzzMaxKeys is the keyset size at which the fuzz targets start over with a
// fresh database, so that rotations do not make iterations ever slower.
const fuzzMaxKeys = 40

// maxBody is the documented limit on request bodies, in bytes.
const maxBody = 64 << 10

// short abbreviates b for a failure message.
func short(b []byte) string {
	if len(b) > 200 {
		return fmt.Sprintf("%s… (%d bytes)", b[:200], len(b))
	}
	return string(b)
}

// fuzzEnv is one tenant ("default" at host) on real parts: a sqlite store in
// its own directory, a sealer, the shared key pool and a keyring, with the
// oauth and mgmt handlers on one mux. Unlike env it works with any
// testing.TB and can be replaced in the middle of a fuzz run.
type fuzzEnv struct {
	dir   string
	store *sqlite.DB
	ring  *keyring.Ring
	mux   *http.ServeMux
	// token is a Management API token of the tenant with every scope.
	token string
}

// newFuzzEnv builds a fuzzEnv in a new directory under base. The tenant signs
// with ES256, whose keys are cheap to make, so that the fuzzer can rotate
// often; nothing on the body-parsing paths depends on the algorithm.
func newFuzzEnv(base string) (*fuzzEnv, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp(base, "env")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "signet.db"))
	if err != nil {
		return nil, err
	}
	e := &fuzzEnv{dir: dir, store: db, mux: http.NewServeMux()}
	fail := func(err error) (*fuzzEnv, error) { e.close(); return nil, err }
	mk := make([]byte, seal.KeySize)
	rand.Read(mk)
	s, err := seal.New(mk)
	if err != nil {
		return fail(err)
	}
	e.ring = keyring.New(keyring.Config{Store: db, Sealer: s, Pool: pool, Scheme: "http"})
	logger := slog.New(slog.DiscardHandler)
	oauth.New(oauth.Config{Ring: e.ring, Store: db, Logger: logger}).Register(e.mux)
	mgmt.New(mgmt.Config{Ring: e.ring, Store: db, Logger: logger}).Register(e.mux)
	if _, err := e.ring.CreateTenant(ctx, "default", []string{host, aliasHost}, "ES256", "test"); err != nil {
		return fail(err)
	}

	adminID := secret.ClientID()
	sec, digest := secret.New()
	if err := db.CreateClient(ctx, signet.Client{Tenant: "default", ClientID: adminID, Name: "admin",
		AppType: "non_interactive", SecretHash: digest, GrantTypes: []string{"client_credentials"}}); err != nil {
		return fail(err)
	}
	var all []string
	for _, s := range keyring.ManagementScopes {
		all = append(all, s.Value)
	}
	if err := db.CreateClientGrant(ctx, signet.ClientGrant{Tenant: "default", ID: secret.GrantID(),
		ClientID: adminID, Audience: mgmtAud, Scope: all}); err != nil {
		return fail(err)
	}
	_, digest = secret.New()
	if err := db.CreateClient(ctx, signet.Client{Tenant: "default", ClientID: fuzzClientID, Name: "target",
		AppType: "non_interactive", SecretHash: digest, GrantTypes: []string{"client_credentials"}}); err != nil {
		return fail(err)
	}

	if err := db.CreateResourceServer(ctx, signet.ResourceServer{Tenant: "default", ID: secret.ID(24), Name: "existing",
		Identifier: fuzzRS, Scopes: []signet.Scope{{Value: "read:x"}}, SigningAlg: "ES256", TokenLifetime: 60}); err != nil {
		return fail(err)
	}
	if err := db.CreateClientGrant(ctx, signet.ClientGrant{Tenant: "default", ID: secret.GrantID(),
		ClientID: fuzzClientID, Audience: fuzzRS, Scope: []string{"read:x"}}); err != nil {
		return fail(err)
	}

	// The token comes from the real /oauth/token.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {adminID}, "client_secret": {sec}, "audience": {mgmtAud}}
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := e.serve(r)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || out.AccessToken == "" {
		return fail(fmt.Errorf("token: %d %s", rec.Code, rec.Body))
	}
	e.token = out.AccessToken
	return e, nil
}

func (e *fuzzEnv) close() {
	e.store.Close()
	os.RemoveAll(e.dir)
}

// serve runs r through a tenant middleware like internal/server's (and
// env.serve's) and the mux.
func (e *fuzzEnv) serve(r *http.Request) *httptest.ResponseRecorder {
	if r.Host == "example.com" || r.Host == "" {
		r.Host = host
	}
	if v, ok := e.ring.ViewByHost(r.Host); ok {
		r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: v, Issuer: "http://" + r.Host + "/"}))
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, r)
	return rec
}

// checkKeyset fails unless the tenant's stored keyset is valid (exactly one
// current and one next key) and the ring's view signs with its current key.
// It returns how many keys the tenant has.
func (e *fuzzEnv) checkKeyset(t *testing.T) int {
	t.Helper()
	ks, err := e.store.Keyset(context.Background(), "default")
	if err != nil {
		t.Fatalf("keyset: %v", err)
	}
	if err := ks.Validate(); err != nil {
		t.Fatalf("keyset invalid after the request: %v", err)
	}
	v, ok := e.ring.View("default")
	if !ok || v.Current.KID != ks.Current().KID {
		t.Fatalf("view is stale: current %v, stored current %s", v, ks.Current().KID)
	}
	return len(ks.Keys)
}

// fuzzEnvs hands one fuzzEnv to the iterations of a fuzz target (which run
// one at a time in each process), replacing it with a fresh one once its
// keyset has grown to fuzzMaxKeys.
type fuzzEnvs struct {
	base string
	cur  *fuzzEnv
}

func newFuzzEnvs(f *testing.F) *fuzzEnvs {
	fe := &fuzzEnvs{base: f.TempDir()}
	e, err := newFuzzEnv(fe.base)
	if err != nil {
		f.Fatal(err)
	}
	fe.cur = e
	f.Cleanup(func() {
		if fe.cur != nil {
			fe.cur.close()
		}
	})
	return fe
}

func (fe *fuzzEnvs) get(t *testing.T) *fuzzEnv {
	t.Helper()
	if fe.cur == nil {
		e, err := newFuzzEnv(fe.base)
		if err != nil {
			t.Fatal(err)
		}
		fe.cur = e
	}
	return fe.cur
}

// done checks the keyset and retires the env once it is big.
func (fe *fuzzEnvs) done(t *testing.T) {
	t.Helper()
	if n := fe.cur.checkKeyset(t); n >= fuzzMaxKeys {
		fe.cur.close()
		fe.cur = nil
	}
}

// fuzzRoutes are the body-taking endpoints FuzzManagementBody drives, with
// the statuses each may answer.
var fuzzRoutes = []struct {
	method, path string
	allowed      []int
}{
	{"POST", "/api/v2/clients", []int{201, 400, 413}},
	{"PATCH", "/api/v2/clients/" + fuzzClientID, []int{200, 400, 413}},
	{"PATCH", "/api/v2/clients/nosuchclient", []int{400, 404, 413}},
	{"POST", "/api/v2/resource-servers", []int{201, 400, 409, 413}},
	{"POST", "/api/v2/client-grants", []int{201, 400, 404, 409, 413}},
	{"POST", "/api/v2/keys/signing/rotate", []int{201, 400, 413}},
}

// routeIndex returns the index in fuzzRoutes of method and path.
func routeIndex(method, path string) uint8 {
	for i, r := range fuzzRoutes {
		if r.method == method && r.path == path {
			return uint8(i)
		}
	}
	panic("no route " + method + " " + path)
}

// FuzzManagementBody drives the Management API's body-taking endpoints with
// arbitrary bodies and content types. It checks that the API never panics or
// fails internally, that every error is an Auth0 error body, that successes
// are JSON, and that the tenant's keyset stays valid whatever happens.
//
// The target runs on a real database, so the coverage of an input varies a
// little with the database's state, and the fuzzer can spend most of a
// minute failing to minimize one input. -fuzzminimizetime 2s keeps it
// fuzzing.
func FuzzManagementBody(f *testing.F) {
	var (
		clients = routeIndex("POST", "/api/v2/clients")
		patch   = routeIndex("PATCH", "/api/v2/clients/"+fuzzClientID)
		missing = routeIndex("PATCH", "/api/v2/clients/nosuchclient")
		rss     = routeIndex("POST", "/api/v2/resource-servers")
		grants  = routeIndex("POST", "/api/v2/client-grants")
		rotate  = routeIndex("POST", "/api/v2/keys/signing/rotate")
	)
	// Bodies every endpoint gets: empty and hostile ones. (Huge and deeply
	// nested bodies are in TestHostileBodies: as seeds they would make the
	// fuzzer spend its time minimizing them.)
	common := []string{
		"", " ", "null", "{}", " {} ", "[]", `""`, "0", "-1", "1e999", "true", "{", "}", `{"a":`,
		`{"__proto__":{"name":"x"}}`, `{"unknown":1}`, "\xff\xfe{}", "\ufeff{}", "\x00", "\f{}\v",
		`{"name":"x","name":"y"}`, "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]", `{"name":{"name":{"name":{}}}}`,
	}
	for _, route := range []uint8{clients, patch, missing, rss, grants, rotate} {
		for i, b := range common {
			ct := []string{"application/json", "", "text/plain", "application/json; charset=utf-16"}[i%4]
			f.Add(route, ct, []byte(b))
		}
	}
	for _, b := range []string{
		`{"name":"Billing","description":"bills","app_type":"regular_web","grant_types":["client_credentials","authorization_code"]}`,
		`{"name":"x"}`, `{"name":""}`, `{"name":1}`, `{"name":null}`, `{"name":"` + strings.Repeat("é", 129) + `"}`,
		`{"name":"\u0000\ud800"}`, `{"name":"x","app_type":"bogus"}`, `{"name":"x","grant_types":"client_credentials"}`,
		`{"name":"x","grant_types":[1]}`, `{"name":"x","grant_types":["password","password"]}`, `{"name":"x","grant_types":[]}`,
		`{"name":"x","description":` + `"` + strings.Repeat("d", 141) + `"}`,
	} {
		f.Add(clients, "application/json", []byte(b))
		f.Add(patch, "application/json", []byte(b))
	}
	f.Add(missing, "application/json", []byte(`{"name":"x"}`))
	for _, b := range []string{
		`{"name":"Things","identifier":"https://api.example.com/","scopes":[{"value":"read:things","description":"Read"},{"value":"write:things"}]}`,
		`{"identifier":"https://api.example.com/","token_lifetime":600,"signing_alg":"ES256"}`,
		`{"identifier":"urn:x","signing_alg":"RS256"}`, `{"identifier":"urn:y","signing_alg":"none"}`,
		`{"identifier":"` + mgmtAud + `"}`, `{"identifier":"` + fuzzRS + `"}`, `{"identifier":"http://127.0.0.1:8080/api/v2/"}`, `{"identifier":"a b"}`,
		`{"identifier":""}`, `{"name":"no identifier"}`, `{"identifier":"urn:t","token_lifetime":0}`,
		`{"identifier":"urn:t","token_lifetime":1.5}`, `{"identifier":"urn:t","token_lifetime":1e3}`,
		`{"identifier":"urn:t","token_lifetime":99999999999999999999999}`, `{"identifier":"urn:t","token_lifetime":-0}`,
		`{"identifier":"urn:t","token_lifetime":"60"}`, `{"identifier":"urn:s","scopes":[{"value":"a b"}]}`,
		`{"identifier":"urn:s","scopes":[{"value":"a"},{"value":"a"}]}`, `{"identifier":"urn:s","scopes":[{}]}`,
		`{"identifier":"urn:s","scopes":[{"value":"a","extra":1}]}`, `{"identifier":"urn:s","scopes":[null]}`,
		`{"identifier":"urn:s","scopes":{}}`, `{"identifier":"urn:s","scopes":[{"value":"a","description":null}]}`,
	} {
		f.Add(rss, "application/json", []byte(b))
	}
	for _, b := range []string{
		`{"client_id":"` + fuzzClientID + `","audience":"` + mgmtAud + `","scope":["read:clients"]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"http://127.0.0.1:8080/api/v2/","scope":[]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"https://api.example.com/","scope":["read:things"]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"` + mgmtAud + `","scope":["nope"]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"` + mgmtAud + `","scope":"read:clients"}`,
		`{"client_id":"` + fuzzClientID + `","audience":"` + mgmtAud + `"}`,
		`{"client_id":"nosuchclient","audience":"` + mgmtAud + `","scope":[]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"urn:nope","scope":[]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"` + fuzzRS + `","scope":["read:x"]}`,
		`{"client_id":"` + fuzzClientID + `","audience":"` + fuzzRS + `","scope":["read:y"]}`,
		`{"client_id":null,"audience":null,"scope":null}`, `{"client_id":""}`,
	} {
		f.Add(grants, "application/json", []byte(b))
	}
	for _, b := range []string{"{\"\":null}", "null ", "\n{\n}\n", "{} {}", "nul", "{}\x00"} {
		f.Add(rotate, "", []byte(b))
	}
	// Past the end of fuzzRoutes with an empty body: no body at all.
	for route := range fuzzRoutes {
		f.Add(uint8(len(fuzzRoutes)+route), "", []byte{})
	}

	envs := newFuzzEnvs(f)
	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte) {
		e := envs.get(t)
		rec := sendBody(t, e, route, contentType, body)
		e.undoCreate(t, route, rec)
		envs.done(t)
	})
}

// undoCreate deletes what a successful create made, so that the same input
// meets the same state next time (the fuzzer wants repeatable coverage) and
// the database stays small.
func (e *fuzzEnv) undoCreate(t *testing.T, route uint8, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusCreated {
		return
	}
	var created struct {
		ID       string `json:"id"`
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var err error
	switch fuzzRoutes[int(route)%len(fuzzRoutes)].path {
	case "/api/v2/clients":
		err = e.store.DeleteClient(ctx, "default", created.ClientID)
	case "/api/v2/resource-servers":
		err = e.store.DeleteResourceServer(ctx, "default", created.ID)
	case "/api/v2/client-grants":
		err = e.store.DeleteClientGrant(ctx, "default", created.ID)
	}
	if err != nil {
		t.Fatalf("delete what %s made: %v", rec.Body, err)
	}
}

// TestHostileBodies runs the checks of FuzzManagementBody on bodies too big
// to be good fuzz seeds: over the size limit, and nested beyond
// encoding/json's depth limit.
func TestHostileBodies(t *testing.T) {
	envs := &fuzzEnvs{base: t.TempDir()}
	defer func() {
		if envs.cur != nil {
			envs.cur.close()
		}
	}()
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	bodies := map[string]string{
		"over the limit":           `{"name":"` + strings.Repeat("a", maxBody) + `"}`,
		"over the limit, spaces":   strings.Repeat(" ", maxBody) + "{}",
		"at the limit, spaces":     strings.Repeat(" ", maxBody-2) + "{}",
		"deep array":               deep,
		"deep property":            `{"name":` + deep + `}`,
		"deep objects":             strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000),
		"many properties":          "{" + strings.Repeat(`"a":1,`, 10000) + `"b":2}`,
		"long unknown property":    `{"` + strings.Repeat("p", 60000) + `":1}`,
		"many grant types":         `{"name":"x","grant_types":[` + strings.Repeat(`"password",`, 5000) + `"password"]}`,
		"many scopes":              `{"identifier":"urn:many","scopes":[` + strings.Repeat(`{"value":"s"},`, 3000) + `{"value":"t"}]}`,
		"long number":              `{"identifier":"urn:n","token_lifetime":` + strings.Repeat("9", 50000) + `}`,
		"many escapes":             `{"name":"` + strings.Repeat(`\u00e9`, 10000) + `"}`,
		"invalid UTF-8 everywhere": strings.Repeat("\xc3\x28", 20000),
	}
	for name, body := range bodies {
		for route := range fuzzRoutes {
			rt := fuzzRoutes[route]
			t.Run(name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				rec := sendBody(t, envs.get(t), uint8(route), "application/json", []byte(body))
				if len(body) > maxBody && rec.Code != http.StatusBadRequest {
					t.Errorf("status %d for a body over the limit, want 400", rec.Code)
				}
				envs.done(t)
			})
		}
	}
}

// sendBody sends body with contentType to route (an index into fuzzRoutes;
// past the end with an empty body, the body is absent) as e's admin, and
// checks the answer.
func sendBody(t *testing.T, e *fuzzEnv, route uint8, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
	r := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
	if len(body) == 0 && route >= uint8(len(fuzzRoutes)) {
		r.Body, r.ContentLength = nil, 0 // an absent body, not an empty one
	}
	if contentType != "" {
		r.Header["Content-Type"] = []string{contentType}
	}
	r.Header.Set("Authorization", "Bearer "+e.token)
	rec := e.serve(r)
	checkContract(t, r, rec)

	if !slices.Contains(rt.allowed, rec.Code) {
		t.Fatalf("%s %s: status %d, want one of %v; body %s", rt.method, rt.path, rec.Code, rt.allowed, rec.Body)
	}
	checkAnswer(t, rec)
	if trimmed := bytes.Trim(body, " \t\r\n"); len(trimmed) > 0 && !json.Valid(trimmed) && rec.Code != http.StatusBadRequest {
		t.Fatalf("%s %s with a body that is not JSON (%q): status %d, want 400", rt.method, rt.path, short(body), rec.Code)
	}
	if rt.path == "/api/v2/keys/signing/rotate" {
		checkRotateBody(t, body, rec.Code)
	}
	return rec
}

// checkAnswer checks that rec is JSON, and an Auth0 error body for a 4xx.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code == http.StatusNoContent {
		if rec.Body.Len() != 0 {
			t.Fatalf("204 with a body: %q", rec.Body)
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("status %d: Content-Type %q", rec.Code, ct)
	}
	if !json.Valid(rec.Body.Bytes()) || !utf8.Valid(rec.Body.Bytes()) {
		t.Fatalf("status %d: body is not JSON: %q", rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	var body struct {
		StatusCode *int    `json:"statusCode"`
		Error      *string `json:"error"`
		Message    *string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d: error body %q: %v", rec.Code, rec.Body, err)
	}
	if body.StatusCode == nil || *body.StatusCode != rec.Code || body.Error == nil || *body.Error != http.StatusText(rec.Code) ||
		body.Message == nil || *body.Message == "" {
		t.Fatalf("status %d: not an Auth0 error body: %s", rec.Code, rec.Body)
	}
}

// checkRotateBody checks rotate's answer against what the endpoint documents
// as "no body": absent, empty, null or {} (with JSON white space around).
// Anything else that is JSON must be refused.
func checkRotateBody(t *testing.T, body []byte, status int) {
	t.Helper()
	trimmed := bytes.Trim(body, " \t\r\n")
	var o map[string]json.RawMessage
	switch {
	case len(body) > maxBody:
		if status != http.StatusBadRequest {
			t.Fatalf("rotate with a body of %d bytes: status %d, want 400", len(body), status)
		}
	case len(trimmed) == 0, json.Unmarshal(trimmed, &o) == nil && len(o) == 0:
		if status != http.StatusCreated {
			t.Fatalf("rotate with no body %q: status %d, want 201", short(body), status)
		}
	case json.Valid(trimmed):
		if status != http.StatusBadRequest {
			t.Fatalf("rotate with body %q: status %d, want 400", short(body), status)
		}
	}
}

// tokenPlaceholder in a FuzzBearer input stands for the valid token.
const tokenPlaceholder = "{tok}"

// FuzzBearer sends arbitrary Authorization header values (with
// tokenPlaceholder replaced by a valid token) and checks that only a header
// that carries exactly the valid token, as RFC 6750 §2.1 spells it, gets in.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{
		"Bearer {tok}", "bearer {tok}", "BEARER {tok}", "Bearer   {tok}", "Bearer\t{tok}", "Bearer{tok}",
		"Bearer {tok}x", "Bearer x{tok}", "Bearer {tok} {tok}", "Bearer {tok},", "Bearer {tok}.", "Bearer {tok}=",
		"Basic {tok}", "Bearer", "Bearer ", "Bearer  ", "bearer", "", " ", "Bearer \x00", "Bearer {tok}\u00a0",
		"Bearer {tok}\x00", " Bearer {tok}", "Bearer {tok} ", "Bearer {tok}\r\n", "Bearer a.b.c", "Bearer ...",
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer eyJ9.eyJ9.AA", "Bearer \xff\xfe", "Beare {tok}",
		"Bearer: {tok}", "Token {tok}", "Bearer realm={tok}", "Bearer token68==", "Bearer é",
	} {
		f.Add(s)
	}
	envs := newFuzzEnvs(f)
	f.Fuzz(func(t *testing.T, auth string) {
		e := envs.get(t)
		auth = strings.ReplaceAll(auth, tokenPlaceholder, e.token)
		r := httptest.NewRequest("GET", "/api/v2/keys/signing", nil)
		r.Header["Authorization"] = []string{auth}
		rec := e.serve(r)
		checkAnswer(t, rec)
		checkContract(t, r, rec)

		tok, ok := refBearer(auth)
		valid := ok && tok == e.token
		if !wireValue(auth) {
			// No HTTP server hands the handler this value; only ask that
			// it not let anyone in without the token.
			if rec.Code != http.StatusUnauthorized && !strings.Contains(auth, e.token) {
				t.Fatalf("Authorization %q: status %d without the token", auth, rec.Code)
			}
		} else if valid && rec.Code != http.StatusOK {
			t.Fatalf("Authorization %q: status %d, want 200", auth, rec.Code)
		} else if !valid && rec.Code != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: status %d, want 401", auth, rec.Code)
		}
		if rec.Code == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Bearer realm="`) {
			t.Fatalf("401 without a Bearer challenge: %q", rec.Header().Get("WWW-Authenticate"))
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: status %d", auth, rec.Code)
		}
	})
}

// refBearer is an independent reading of RFC 6750 §2.1 (with RFC 9110
// §11.4's case-insensitive scheme): credentials = "Bearer" 1*SP b64token,
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
// It tolerates HTTP white space (SP, HTAB) after the first space and at the
// end, as the API does; nothing else.
func refBearer(v string) (string, bool) {
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok := strings.Trim(rest, " \t")
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return "", false
	}
	for _, c := range []byte(body) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~+/", c) >= 0:
		default:
			return "", false
		}
	}
	return tok, true
}

// wireValue reports whether v can reach a handler as a header value from a
// net/http server: no control characters but HTAB (the server refuses them),
// and no leading or trailing white space (the server trims it).
func wireValue(v string) bool {
	for _, c := range []byte(v) {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return strings.Trim(v, " \t") == v
}
