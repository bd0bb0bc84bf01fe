package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/secret"
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
		other := signet.Client{Tenant: "default", ClientID: secret.ID(32), Name: "CI", AppType: "non_interactive", GrantTypes: []string{"client_credentials"}}
		if err := db.CreateClient(ctx, other); err != nil {
			t.Fatal(err)
		}
		otherGrant = "cgr_" + secret.ID(16)
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
