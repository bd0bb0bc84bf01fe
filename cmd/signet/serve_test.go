package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/server"
	"github.com/signet-auth/signet/internal/sqlite"
)

// withDB runs fn on the SQLite store of a stopped instance's data dir.
func withDB(t *testing.T, dir string, fn func(context.Context, *sqlite.DB)) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fn(ctx, db)
}

// managementAPI returns tenant's built-in Management API.
func managementAPI(t *testing.T, ctx context.Context, db *sqlite.DB, tenant string) signet.ResourceServer {
	t.Helper()
	rss, err := db.ResourceServers(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss {
		if rs.System {
			return rs
		}
	}
	t.Fatalf("tenant %s has no Management API", tenant)
	return signet.ResourceServer{}
}

// TestRestartUpgradesManagementAPI starts on a data dir whose tenants were
// created before Signet defined the users scopes: every tenant's Management
// API gains them, and so does the bootstrap admin client's grant, so that
// its credentials file can manage users; another client granted every old
// scope keeps its grant as it was.
func TestRestartUpgradesManagementAPI(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	creds := in.credentials()
	port := in.addr[strings.LastIndex(in.addr, ":")+1:]
	if _, err := in.run("tenants", "create", "acme", "--host", "acme.localhost:"+port); err != nil {
		t.Fatal(err)
	}
	in.stop()

	var old []string // the scopes before the users scopes
	for _, s := range keyring.ManagementScopes {
		if !strings.HasSuffix(s.Value, ":users") {
			old = append(old, s.Value)
		}
	}
	var otherGrant string
	withDB(t, dir, func(ctx context.Context, db *sqlite.DB) {
		for _, tenant := range []string{"default", "acme"} {
			rs := managementAPI(t, ctx, db, tenant)
			if _, err := db.UpdateResourceServer(ctx, tenant, rs.ID, func(rs *signet.ResourceServer) error {
				rs.Scopes = slices.DeleteFunc(rs.Scopes, func(s signet.Scope) bool { return !slices.Contains(old, s.Value) })
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		aud := managementAPI(t, ctx, db, "default").Identifier
		gs, err := db.ClientGrants(ctx, "default", signet.GrantFilter{ClientID: creds.ClientID, Audience: aud})
		if err != nil || len(gs) != 1 {
			t.Fatalf("bootstrap grant: %v %v", gs, err)
		}
		if _, err := db.UpdateClientGrant(ctx, "default", gs[0].ID, func(g *signet.ClientGrant) error {
			g.Scope = old
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		other := signet.Client{Tenant: "default", ClientID: secret.ClientID(), Name: "CI", AppType: "non_interactive", GrantTypes: []string{"client_credentials"}}
		if err := db.CreateClient(ctx, other); err != nil {
			t.Fatal(err)
		}
		otherGrant = secret.GrantID()
		if err := db.CreateClientGrant(ctx, signet.ClientGrant{Tenant: "default", ID: otherGrant, ClientID: other.ClientID, Audience: aud, Scope: old}); err != nil {
			t.Fatal(err)
		}
	})

	in = start(t, dir, "--addr", in.addr)
	tok := in.token(creds)
	if status, body, _ := in.call("GET", "/api/v2/users", tok, nil); status != 200 {
		t.Errorf("GET /api/v2/users with the bootstrap credentials after the upgrade = %d %s", status, body)
	}
	if !strings.Contains(in.logs.String(), "management api scopes added") {
		t.Errorf("the upgrade is not logged:\n%s", in.logs.String())
	}
	in.stop()

	withDB(t, dir, func(ctx context.Context, db *sqlite.DB) {
		all := make([]string, len(keyring.ManagementScopes))
		for i, s := range keyring.ManagementScopes {
			all[i] = s.Value
		}
		for _, tenant := range []string{"default", "acme"} {
			var got []string
			for _, s := range managementAPI(t, ctx, db, tenant).Scopes {
				got = append(got, s.Value)
			}
			if !slices.Equal(got, all) {
				t.Errorf("tenant %s: Management API scopes = %v\nwant %v", tenant, got, all)
			}
		}
		g, err := db.ClientGrant(ctx, "default", otherGrant)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(g.Scope, old) {
			t.Errorf("another client's grant changed: %v", g.Scope)
		}
	})
}

// TestReady checks the /readyz check on SQLite: a store that answers is
// ready whether or not tenant "default" exists; a closed one is not.
func TestReady(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ready(ctx, db); err != nil {
		t.Errorf("empty store: %v, want ready", err)
	}
	db.Close()
	if err := ready(ctx, db); err == nil {
		t.Error("closed store is ready")
	}
}

// TestReadyzFollowsDatabase serves on PostgreSQL reached through a proxy:
// /readyz is 200, 503 while the database refuses connections, and 200
// again once it accepts them.
func TestReadyzFollowsDatabase(t *testing.T) {
	proxy, dsn := pgtest.NewProxy(t, pgtest.Database(t))
	in := start(t, t.TempDir(), "--database", dsn)
	readyz := func() int {
		status, _, _ := in.call("GET", "/readyz", "", nil)
		return status
	}
	if got := readyz(); got != 200 {
		t.Fatalf("GET /readyz = %d, want 200", got)
	}
	proxy.Set(pgtest.Refuse)
	if got := readyz(); got != 503 {
		t.Errorf("GET /readyz with the database unreachable = %d, want 503", got)
	}
	proxy.Set(pgtest.Pass)
	waitUntil(t, "GET /readyz is 200 again", 10*time.Second, func() bool { return readyz() == 200 })
	in.stop() // before the proxy closes
}

// waitUntil polls cond every 50 ms until it holds, failing the test after
// limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// timed makes a request with a client that gives up after limit, and
// returns the status (0 if it gave up or the connection failed), the body
// and how long it took.
func timed(t *testing.T, limit time.Duration, method, url, bearer, contentType string, body string) (int, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: limit}).Do(req)
	if err != nil {
		t.Logf("%s %s: %v", method, url, err)
		return 0, "", time.Since(start)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// keyStates lists the tenant's keys as kid:state.
func keyStates(ks []signingKey) string {
	var out []string
	for _, k := range ks {
		out = append(out, *k.KID+":"+state(k))
	}
	return strings.Join(out, " ")
}

// TestDatabaseBlackholed serves on PostgreSQL through a proxy that
// black-holes traffic: /readyz answers 503 within its 2 s budget, a token
// request and a rotation answer within the database timeouts with a JSON
// error (not a hang, not EOF); once the network is back the rotation that
// was reported failed is not in the keyset and the service recovers by
// itself.
func TestDatabaseBlackholed(t *testing.T) {
	proxy, dsn := pgtest.NewProxy(t, pgtest.Database(t))
	in := start(t, t.TempDir(), "--database", dsn,
		"--db-connect-timeout", "1s", "--db-statement-timeout", "1s", "--db-tx-timeout", "2s")
	creds := in.credentials()
	tok := in.token(creds)
	before := keyStates(in.keys(tok))
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {creds.ClientID},
		"client_secret": {creds.ClientSecret}, "audience": {creds.Audience}}.Encode()

	proxy.Set(pgtest.Blackhole)
	const limit = 6 * time.Second // the longest timeout, 2 s, and slack for a busy machine
	if status, body, took := timed(t, limit, "GET", in.base+"/readyz", "", "", ""); status != 503 || took > server.DefaultReadyTimeout+time.Second {
		t.Errorf("GET /readyz with the database black-holed = %d %q after %s, want 503 within %s", status, body, took, server.DefaultReadyTimeout)
	}
	// A token request needs the client from the database.
	status, body, took := timed(t, limit, "POST", creds.TokenURL, "", "application/x-www-form-urlencoded", form)
	if status != 503 || !json.Valid([]byte(body)) {
		t.Errorf("POST /oauth/token with the database black-holed = %d %q after %s, want a 503 JSON error within %s", status, body, took, limit)
	}
	status, body, took = timed(t, limit, "POST", in.base+"/api/v2/keys/signing/rotate", tok, "", "")
	if status != 503 || !strings.Contains(body, `"statusCode"`) {
		t.Errorf("POST /api/v2/keys/signing/rotate with the database black-holed = %d %q after %s, want a 503 Auth0 error within %s", status, body, took, limit)
	}

	proxy.Set(pgtest.Pass)
	waitUntil(t, "GET /readyz is 200 again", 15*time.Second, func() bool {
		status, _, _ := in.call("GET", "/readyz", "", nil)
		return status == 200
	})
	if after := keyStates(in.keys(tok)); after != before {
		t.Errorf("keys after the failed rotation:\n%s\nwant them unchanged:\n%s", after, before)
	}
	if status, body, _ := timed(t, limit, "POST", creds.TokenURL, "", "application/x-www-form-urlencoded", form); status != 200 {
		t.Errorf("POST /oauth/token after the network came back = %d %s", status, body)
	}
	if status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", tok, nil); status != 201 && status != 200 {
		t.Errorf("rotation after the network came back = %d %s", status, body)
	}
	in.stop() // before the proxy closes
}

// BenchmarkReady measures the /readyz check against listing every tenant
// (what it did before) on SQLite with 1 and 10,000 tenants, "default" among
// them. Run:
//
//	go test -run '^$' -bench Ready ./cmd/signet/
func BenchmarkReady(b *testing.B) {
	for _, n := range []int{1, 10000} {
		env := ringtest.New(b, ringtest.Options{PoolSize: 8})
		for i := range n {
			name := fmt.Sprintf("t%05d", i)
			if i == 0 {
				name = "default"
			}
			if _, err := env.Ring.CreateTenant(b.Context(), name, []string{name + ".localhost"}, "ES256", "test"); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("tenants=%d/ready", n), func(b *testing.B) {
			for b.Loop() {
				if err := ready(b.Context(), env.Store); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("tenants=%d/Tenants", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := env.Store.Tenants(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
