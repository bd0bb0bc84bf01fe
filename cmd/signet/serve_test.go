package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
	"github.com/signet-auth/signet/internal/ringtest"
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

// tcpProxy forwards connections from a loopback port to target, as the
// network path to a database server.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

// startProxy listens on addr ("127.0.0.1:0" for any port) and forwards to
// target until stop or the end of the test.
func startProxy(t *testing.T, addr, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// stop closes the port and every connection through it: the database is
// unreachable.
func (p *tcpProxy) stop() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReadyzFollowsDatabase serves on PostgreSQL reached through a proxy:
// /readyz is 200, 503 while the proxy is down (the database unreachable),
// and 200 again once it is back.
func TestReadyzFollowsDatabase(t *testing.T) {
	u, err := url.Parse(pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "127.0.0.1:0", u.Host)
	u.Host = p.ln.Addr().String()
	in := start(t, t.TempDir(), "--database", u.String())
	readyz := func() int {
		status, _, _ := in.call("GET", "/readyz", "", nil)
		return status
	}
	if got := readyz(); got != 200 {
		t.Fatalf("GET /readyz = %d, want 200", got)
	}
	p.stop()
	if got := readyz(); got != 503 {
		t.Errorf("GET /readyz with the database unreachable = %d, want 503", got)
	}
	startProxy(t, u.Host, p.target)
	deadline := time.Now().Add(10 * time.Second)
	for readyz() != 200 {
		if time.Now().After(deadline) {
			t.Fatal("GET /readyz is not 200 again 10 s after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
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
