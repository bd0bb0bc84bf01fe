package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

func newClient(tenant, id string) signet.Client {
	return signet.Client{
		Tenant:                  tenant,
		ClientID:                id,
		Name:                    "App " + id,
		Description:             "Does things, \"quoted\" and ünicode.",
		AppType:                 "non_interactive",
		SecretHash:              []byte{0x00, 0x9f, 0xff, 0x10},
		GrantTypes:              []string{"client_credentials", "refresh_token"},
		Callbacks:               []string{"https://app.example/callback", "http://127.0.0.1:3000/cb?x=1"},
		AllowedLogoutURLs:       []string{"https://app.example/"},
		TokenEndpointAuthMethod: "client_secret_basic",
		IDTokenLifetime:         600,
		RefreshTokenLifetime:    86400,
		Addons: signet.ClientAddons{SAMLP: &signet.SAMLAddon{
			Audience: "urn:sp:" + id, Recipient: "https://sp.example/acs"}},
		CreatedAt: base,
		UpdatedAt: at(time.Minute),
	}
}

func newResourceServer(tenant, id, identifier string) signet.ResourceServer {
	return signet.ResourceServer{
		Tenant:     tenant,
		ID:         id,
		Name:       "API " + id,
		Identifier: identifier,
		Scopes: []signet.Scope{
			{Value: "read:things", Description: "Read things"},
			{Value: "write:things"},
		},
		SigningAlg:    signet.DefaultAlgorithm,
		TokenLifetime: 86400,
		CreatedAt:     base,
		UpdatedAt:     at(time.Minute),
	}
}

func newGrant(tenant, id, clientID, audience string) signet.ClientGrant {
	return signet.ClientGrant{
		Tenant:    tenant,
		ID:        id,
		ClientID:  clientID,
		Audience:  audience,
		Scope:     []string{"read:things", "write:things"},
		CreatedAt: base,
		UpdatedAt: at(time.Minute),
	}
}

func testClients(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	clientIDs := func(tenant string) []string {
		t.Helper()
		cs, err := s.Clients(ctx, tenant)
		if err != nil {
			t.Fatalf("Clients(%s): %v", tenant, err)
		}
		return ids(cs, func(c signet.Client) string { return c.ClientID })
	}

	c1 := newClient("acme", "client-1")
	if err := s.CreateClient(ctx, c1); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}

	t.Run("RoundTrip", func(t *testing.T) {
		got, err := s.Client(ctx, "acme", "client-1")
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		diffClient(c1, got).check(t, "Client")
		bare := signet.Client{Tenant: "acme", ClientID: "bare"}
		if err := s.CreateClient(ctx, bare); err != nil {
			t.Fatalf("CreateClient(bare): %v", err)
		}
		got, err = s.Client(ctx, "acme", "bare")
		if err != nil {
			t.Fatalf("Client(bare): %v", err)
		}
		diffClient(bare, got).check(t, "Client with zero fields")
		if err := s.DeleteClient(ctx, "acme", "bare"); err != nil {
			t.Fatalf("DeleteClient(bare): %v", err)
		}
	})

	t.Run("OrderedByCreation", func(t *testing.T) {
		for _, id := range []string{"client-z", "client-0", "client-m"} {
			if err := s.CreateClient(ctx, newClient("acme", id)); err != nil {
				t.Fatalf("CreateClient(%s): %v", id, err)
			}
		}
		want := []string{"client-1", "client-z", "client-0", "client-m"}
		if got := clientIDs("acme"); !slices.Equal(got, want) {
			t.Errorf("Clients: got %q, want %q", got, want)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		dup := newClient("acme", "client-1")
		dup.Name = "Impostor"
		wantErr(t, "CreateClient with a taken id", s.CreateClient(ctx, dup), signet.ErrConflict)
		got, err := s.Client(ctx, "acme", "client-1")
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		diffClient(c1, got).check(t, "Client after the refused creation")
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		err := s.CreateClient(ctx, newClient("nobody", "client-1"))
		wantErr(t, "CreateClient in an unknown tenant", err, signet.ErrTenantNotFound)
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		_, err := s.Client(ctx, "rival", "client-1")
		wantErr(t, "Client of another tenant", err, signet.ErrNotFound)
		_, err = s.UpdateClient(ctx, "rival", "client-1", func(c *signet.Client) error { c.Name = "x"; return nil })
		wantErr(t, "UpdateClient of another tenant", err, signet.ErrNotFound)
		wantErr(t, "DeleteClient of another tenant", s.DeleteClient(ctx, "rival", "client-1"), signet.ErrNotFound)
		if got := clientIDs("rival"); len(got) != 0 {
			t.Errorf("Clients(rival): got %q, want none", got)
		}

		// The same id in another tenant is another client.
		theirs := newClient("rival", "client-1")
		theirs.Name = "Rival's"
		if err := s.CreateClient(ctx, theirs); err != nil {
			t.Fatalf("CreateClient with an id used by another tenant: %v", err)
		}
		got, err := s.Client(ctx, "rival", "client-1")
		if err != nil {
			t.Fatalf("Client(rival): %v", err)
		}
		diffClient(theirs, got).check(t, "rival's client")
		got, err = s.Client(ctx, "acme", "client-1")
		if err != nil {
			t.Fatalf("Client(acme): %v", err)
		}
		diffClient(c1, got).check(t, "acme's client")
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Client(ctx, "acme", "ghost")
		wantErr(t, "Client", err, signet.ErrNotFound)
		called := false
		_, err = s.UpdateClient(ctx, "acme", "ghost", func(*signet.Client) error { called = true; return nil })
		wantErr(t, "UpdateClient", err, signet.ErrNotFound)
		if called {
			t.Error("UpdateClient called fn for a missing client")
		}
		wantErr(t, "DeleteClient", s.DeleteClient(ctx, "acme", "ghost"), signet.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		want := c1
		want.Name, want.Description, want.AppType = "Renamed", "", "regular_web"
		want.SecretHash = []byte{0xab, 0x00}
		want.GrantTypes = []string{"authorization_code"}
		want.Callbacks, want.AllowedLogoutURLs = nil, []string{"https://a.example/", "https://b.example/"}
		want.TokenEndpointAuthMethod, want.IDTokenLifetime, want.RefreshTokenLifetime = "none", 0, 60
		want.Addons = signet.ClientAddons{WSFed: &signet.WSFedAddon{}}
		want.UpdatedAt = at(time.Hour)
		var seen signet.Client
		got, err := s.UpdateClient(ctx, "acme", "client-1", func(c *signet.Client) error {
			seen = *c
			*c = want
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateClient: %v", err)
		}
		diffClient(c1, seen).check(t, "the client fn got")
		diffClient(want, got).check(t, "UpdateClient's result")
		stored, err := s.Client(ctx, "acme", "client-1")
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		diffClient(want, stored).check(t, "Client after UpdateClient")

		errBoom := errors.New("boom")
		_, err = s.UpdateClient(ctx, "acme", "client-1", func(c *signet.Client) error {
			c.Name = "Never"
			return errBoom
		})
		wantErr(t, "UpdateClient with a failing fn", err, errBoom)
		stored, err = s.Client(ctx, "acme", "client-1")
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		diffClient(want, stored).check(t, "Client after the failed UpdateClient")
	})

	t.Run("DeleteTakesGrants", func(t *testing.T) {
		for _, rs := range []signet.ResourceServer{
			newResourceServer("acme", "rs-1", "https://api-1/"),
			newResourceServer("acme", "rs-2", "https://api-2/"),
		} {
			if err := s.CreateResourceServer(ctx, rs); err != nil {
				t.Fatalf("CreateResourceServer: %v", err)
			}
		}
		if err := s.CreateResourceServer(ctx, newResourceServer("rival", "rs-1", "https://api-1/")); err != nil {
			t.Fatalf("CreateResourceServer(rival): %v", err)
		}
		if err := s.CreateClient(ctx, newClient("rival", "client-z")); err != nil {
			t.Fatalf("CreateClient(rival): %v", err)
		}
		for _, g := range []signet.ClientGrant{
			newGrant("acme", "g-1", "client-z", "https://api-1/"),
			newGrant("acme", "g-2", "client-z", "https://api-2/"),
			newGrant("acme", "g-3", "client-0", "https://api-1/"),
			newGrant("rival", "g-1", "client-z", "https://api-1/"),
		} {
			if err := s.CreateClientGrant(ctx, g); err != nil {
				t.Fatalf("CreateClientGrant(%s): %v", g.ID, err)
			}
		}
		if err := s.DeleteClient(ctx, "acme", "client-z"); err != nil {
			t.Fatalf("DeleteClient: %v", err)
		}
		_, err := s.Client(ctx, "acme", "client-z")
		wantErr(t, "Client after DeleteClient", err, signet.ErrNotFound)
		wantErr(t, "DeleteClient twice", s.DeleteClient(ctx, "acme", "client-z"), signet.ErrNotFound)
		if got, want := clientIDs("acme"), []string{"client-1", "client-0", "client-m"}; !slices.Equal(got, want) {
			t.Errorf("Clients after DeleteClient: got %q, want %q", got, want)
		}
		checkGrantIDs(t, s, "acme", signet.GrantFilter{}, "g-3")
		checkGrantIDs(t, s, "rival", signet.GrantFilter{}, "g-1")
	})
}

// checkGrantIDs requires ClientGrants(tenant, f) to return the grants with
// ids want, in order.
func checkGrantIDs(t *testing.T, s signet.Store, tenant string, f signet.GrantFilter, want ...string) {
	t.Helper()
	gs, err := s.ClientGrants(t.Context(), tenant, f)
	if err != nil {
		t.Fatalf("ClientGrants(%s, %+v): %v", tenant, f, err)
	}
	if got := ids(gs, func(g signet.ClientGrant) string { return g.ID }); !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
		t.Errorf("ClientGrants(%s, %+v): got %q, want %q", tenant, f, got, want)
	}
}

func testResourceServers(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	rsIDs := func(tenant string) []string {
		t.Helper()
		rss, err := s.ResourceServers(ctx, tenant)
		if err != nil {
			t.Fatalf("ResourceServers(%s): %v", tenant, err)
		}
		return ids(rss, func(rs signet.ResourceServer) string { return rs.ID })
	}
	get := func(tenant, id string) signet.ResourceServer {
		t.Helper()
		rs, err := s.ResourceServer(ctx, tenant, id)
		if err != nil {
			t.Fatalf("ResourceServer(%s, %s): %v", tenant, id, err)
		}
		return rs
	}

	mgmt := newResourceServer("acme", "rs-mgmt", "https://acme.example.com/api/v2/")
	mgmt.System = true
	mgmt.TokenLifetime = 3600
	if err := s.CreateResourceServer(ctx, mgmt); err != nil {
		t.Fatalf("CreateResourceServer: %v", err)
	}

	t.Run("RoundTrip", func(t *testing.T) {
		diffResourceServer(mgmt, get("acme", "rs-mgmt")).check(t, "ResourceServer")
		got, err := s.ResourceServerByIdentifier(ctx, "acme", mgmt.Identifier)
		if err != nil {
			t.Fatalf("ResourceServerByIdentifier: %v", err)
		}
		diffResourceServer(mgmt, got).check(t, "ResourceServerByIdentifier")
		bare := signet.ResourceServer{Tenant: "acme", ID: "bare", Identifier: "urn:bare"}
		if err := s.CreateResourceServer(ctx, bare); err != nil {
			t.Fatalf("CreateResourceServer(bare): %v", err)
		}
		diffResourceServer(bare, get("acme", "bare")).check(t, "ResourceServer with zero fields")
		if err := s.DeleteResourceServer(ctx, "acme", "bare"); err != nil {
			t.Fatalf("DeleteResourceServer(bare): %v", err)
		}
	})

	t.Run("OrderedByCreation", func(t *testing.T) {
		for _, id := range []string{"rs-z", "rs-0", "rs-m"} {
			if err := s.CreateResourceServer(ctx, newResourceServer("acme", id, "https://"+id+"/")); err != nil {
				t.Fatalf("CreateResourceServer(%s): %v", id, err)
			}
		}
		if got, want := rsIDs("acme"), []string{"rs-mgmt", "rs-z", "rs-0", "rs-m"}; !slices.Equal(got, want) {
			t.Errorf("ResourceServers: got %q, want %q", got, want)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		sameID := newResourceServer("acme", "rs-mgmt", "https://elsewhere/")
		wantErr(t, "CreateResourceServer with a taken id", s.CreateResourceServer(ctx, sameID), signet.ErrConflict)
		sameIdentifier := newResourceServer("acme", "rs-new", mgmt.Identifier)
		wantErr(t, "CreateResourceServer with a taken identifier", s.CreateResourceServer(ctx, sameIdentifier), signet.ErrConflict)
		diffResourceServer(mgmt, get("acme", "rs-mgmt")).check(t, "ResourceServer after the refused creations")
		_, err := s.ResourceServer(ctx, "acme", "rs-new")
		wantErr(t, "ResourceServer refused", err, signet.ErrNotFound)
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		err := s.CreateResourceServer(ctx, newResourceServer("nobody", "rs-1", "https://api/"))
		wantErr(t, "CreateResourceServer in an unknown tenant", err, signet.ErrTenantNotFound)
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		_, err := s.ResourceServer(ctx, "rival", "rs-mgmt")
		wantErr(t, "ResourceServer of another tenant", err, signet.ErrNotFound)
		_, err = s.ResourceServerByIdentifier(ctx, "rival", mgmt.Identifier)
		wantErr(t, "ResourceServerByIdentifier of another tenant", err, signet.ErrNotFound)
		_, err = s.UpdateResourceServer(ctx, "rival", "rs-mgmt", func(rs *signet.ResourceServer) error { return nil })
		wantErr(t, "UpdateResourceServer of another tenant", err, signet.ErrNotFound)
		wantErr(t, "DeleteResourceServer of another tenant", s.DeleteResourceServer(ctx, "rival", "rs-mgmt"), signet.ErrNotFound)
		if got := rsIDs("rival"); len(got) != 0 {
			t.Errorf("ResourceServers(rival): got %q, want none", got)
		}

		// The same id and identifier in another tenant are fine.
		theirs := newResourceServer("rival", "rs-mgmt", mgmt.Identifier)
		if err := s.CreateResourceServer(ctx, theirs); err != nil {
			t.Fatalf("CreateResourceServer with an id and identifier used by another tenant: %v", err)
		}
		diffResourceServer(theirs, get("rival", "rs-mgmt")).check(t, "rival's resource server")
		diffResourceServer(mgmt, get("acme", "rs-mgmt")).check(t, "acme's resource server")
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.ResourceServer(ctx, "acme", "ghost")
		wantErr(t, "ResourceServer", err, signet.ErrNotFound)
		_, err = s.ResourceServerByIdentifier(ctx, "acme", "https://ghost/")
		wantErr(t, "ResourceServerByIdentifier", err, signet.ErrNotFound)
		_, err = s.UpdateResourceServer(ctx, "acme", "ghost", func(*signet.ResourceServer) error { return nil })
		wantErr(t, "UpdateResourceServer", err, signet.ErrNotFound)
		wantErr(t, "DeleteResourceServer", s.DeleteResourceServer(ctx, "acme", "ghost"), signet.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		before := get("acme", "rs-z")
		want := before
		want.Name = "Renamed"
		want.Scopes = []signet.Scope{{Value: "admin"}}
		want.SigningAlg, want.TokenLifetime, want.System = "PS256", 60, true
		want.UpdatedAt = at(time.Hour)
		got, err := s.UpdateResourceServer(ctx, "acme", "rs-z", func(rs *signet.ResourceServer) error {
			diffResourceServer(before, *rs).check(t, "the resource server fn got")
			*rs = want
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateResourceServer: %v", err)
		}
		diffResourceServer(want, got).check(t, "UpdateResourceServer's result")
		diffResourceServer(want, get("acme", "rs-z")).check(t, "ResourceServer after UpdateResourceServer")

		errBoom := errors.New("boom")
		_, err = s.UpdateResourceServer(ctx, "acme", "rs-z", func(rs *signet.ResourceServer) error {
			rs.Name = "Never"
			return errBoom
		})
		wantErr(t, "UpdateResourceServer with a failing fn", err, errBoom)
		_, err = s.UpdateResourceServer(ctx, "acme", "rs-z", func(rs *signet.ResourceServer) error {
			rs.Name = "Never"
			rs.Identifier = mgmt.Identifier
			return nil
		})
		wantErr(t, "UpdateResourceServer to a taken identifier", err, signet.ErrConflict)
		diffResourceServer(want, get("acme", "rs-z")).check(t, "ResourceServer after the failed updates")
	})

	t.Run("NewIdentifierTakesGrants", func(t *testing.T) {
		if err := s.CreateClient(ctx, newClient("acme", "client-1")); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		if err := s.CreateClientGrant(ctx, newGrant("acme", "g-0", "client-1", "https://rs-0/")); err != nil {
			t.Fatalf("CreateClientGrant: %v", err)
		}
		_, err := s.UpdateResourceServer(ctx, "acme", "rs-0", func(rs *signet.ResourceServer) error {
			rs.Identifier = "https://rs-0.example.com/"
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateResourceServer: %v", err)
		}
		_, err = s.ResourceServerByIdentifier(ctx, "acme", "https://rs-0/")
		wantErr(t, "ResourceServerByIdentifier of the old identifier", err, signet.ErrNotFound)
		if got := get("acme", "rs-0"); got.Identifier != "https://rs-0.example.com/" {
			t.Errorf("Identifier after the update: %q", got.Identifier)
		}
		checkGrantIDs(t, s, "acme", signet.GrantFilter{Audience: "https://rs-0.example.com/"}, "g-0")
		checkGrantIDs(t, s, "acme", signet.GrantFilter{Audience: "https://rs-0/"})
	})

	t.Run("DeleteTakesGrants", func(t *testing.T) {
		if err := s.CreateClient(ctx, newClient("acme", "client-2")); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		if err := s.CreateClient(ctx, newClient("rival", "client-1")); err != nil {
			t.Fatalf("CreateClient(rival): %v", err)
		}
		if err := s.CreateResourceServer(ctx, newResourceServer("rival", "rs-m", "https://rs-m/")); err != nil {
			t.Fatalf("CreateResourceServer(rival): %v", err)
		}
		for _, g := range []signet.ClientGrant{
			newGrant("acme", "g-1", "client-1", "https://rs-m/"),
			newGrant("acme", "g-2", "client-2", "https://rs-m/"),
			newGrant("acme", "g-3", "client-1", mgmt.Identifier),
			newGrant("rival", "g-1", "client-1", "https://rs-m/"),
		} {
			if err := s.CreateClientGrant(ctx, g); err != nil {
				t.Fatalf("CreateClientGrant(%s): %v", g.ID, err)
			}
		}
		if err := s.DeleteResourceServer(ctx, "acme", "rs-m"); err != nil {
			t.Fatalf("DeleteResourceServer: %v", err)
		}
		_, err := s.ResourceServer(ctx, "acme", "rs-m")
		wantErr(t, "ResourceServer after DeleteResourceServer", err, signet.ErrNotFound)
		_, err = s.ResourceServerByIdentifier(ctx, "acme", "https://rs-m/")
		wantErr(t, "ResourceServerByIdentifier after DeleteResourceServer", err, signet.ErrNotFound)
		wantErr(t, "DeleteResourceServer twice", s.DeleteResourceServer(ctx, "acme", "rs-m"), signet.ErrNotFound)
		if got, want := rsIDs("acme"), []string{"rs-mgmt", "rs-z", "rs-0"}; !slices.Equal(got, want) {
			t.Errorf("ResourceServers after DeleteResourceServer: got %q, want %q", got, want)
		}
		checkGrantIDs(t, s, "acme", signet.GrantFilter{}, "g-0", "g-3")
		checkGrantIDs(t, s, "rival", signet.GrantFilter{}, "g-1")

		// The identifier is free again.
		if err := s.CreateResourceServer(ctx, newResourceServer("acme", "rs-m2", "https://rs-m/")); err != nil {
			t.Errorf("CreateResourceServer with a deleted identifier: %v", err)
		}
	})
}

func testClientGrants(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	for _, c := range []signet.Client{newClient("acme", "c-1"), newClient("acme", "c-2"), newClient("rival", "c-1")} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
	}
	for _, rs := range []signet.ResourceServer{
		newResourceServer("acme", "rs-1", "https://a/"),
		newResourceServer("acme", "rs-2", "https://b/"),
		newResourceServer("acme", "rs-3", "https://c/"),
		newResourceServer("rival", "rs-1", "https://a/"),
	} {
		if err := s.CreateResourceServer(ctx, rs); err != nil {
			t.Fatalf("CreateResourceServer: %v", err)
		}
	}
	get := func(tenant, id string) signet.ClientGrant {
		t.Helper()
		g, err := s.ClientGrant(ctx, tenant, id)
		if err != nil {
			t.Fatalf("ClientGrant(%s, %s): %v", tenant, id, err)
		}
		return g
	}
	g1 := newGrant("acme", "g-1", "c-2", "https://b/")
	for _, g := range []signet.ClientGrant{
		g1,
		newGrant("acme", "g-2", "c-1", "https://b/"),
		newGrant("acme", "g-3", "c-2", "https://a/"),
		newGrant("acme", "g-4", "c-1", "https://a/"),
	} {
		if err := s.CreateClientGrant(ctx, g); err != nil {
			t.Fatalf("CreateClientGrant(%s): %v", g.ID, err)
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		diffClientGrant(g1, get("acme", "g-1")).check(t, "ClientGrant")
		gs, err := s.ClientGrants(ctx, "acme", signet.GrantFilter{ClientID: "c-2", Audience: "https://b/"})
		if err != nil {
			t.Fatalf("ClientGrants: %v", err)
		}
		if len(gs) != 1 {
			t.Fatalf("ClientGrants(c-2, https://b/): got %d grants, want 1", len(gs))
		}
		diffClientGrant(g1, gs[0]).check(t, "ClientGrants()[0]")
	})

	filters := []struct {
		name string
		f    signet.GrantFilter
		want []string
	}{
		{"None", signet.GrantFilter{}, []string{"g-1", "g-2", "g-3", "g-4"}},
		{"Client", signet.GrantFilter{ClientID: "c-1"}, []string{"g-2", "g-4"}},
		{"Audience", signet.GrantFilter{Audience: "https://a/"}, []string{"g-3", "g-4"}},
		{"Both", signet.GrantFilter{ClientID: "c-1", Audience: "https://a/"}, []string{"g-4"}},
		{"NoMatch", signet.GrantFilter{ClientID: "c-3"}, nil},
	}
	for _, tc := range filters {
		t.Run("Filter"+tc.name, func(t *testing.T) {
			checkGrantIDs(t, s, "acme", tc.f, tc.want...)
		})
	}

	t.Run("Conflict", func(t *testing.T) {
		sameID := newGrant("acme", "g-1", "c-1", "https://c/")
		wantErr(t, "CreateClientGrant with a taken id", s.CreateClientGrant(ctx, sameID), signet.ErrConflict)
		samePair := newGrant("acme", "g-5", "c-2", "https://b/")
		wantErr(t, "CreateClientGrant with a taken client/audience pair", s.CreateClientGrant(ctx, samePair), signet.ErrConflict)
		checkGrantIDs(t, s, "acme", signet.GrantFilter{}, "g-1", "g-2", "g-3", "g-4")
		diffClientGrant(g1, get("acme", "g-1")).check(t, "ClientGrant after the refused creations")
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		err := s.CreateClientGrant(ctx, newGrant("nobody", "g-1", "c-1", "https://a/"))
		wantErr(t, "CreateClientGrant in an unknown tenant", err, signet.ErrTenantNotFound)
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		_, err := s.ClientGrant(ctx, "rival", "g-1")
		wantErr(t, "ClientGrant of another tenant", err, signet.ErrNotFound)
		_, err = s.UpdateClientGrant(ctx, "rival", "g-1", func(*signet.ClientGrant) error { return nil })
		wantErr(t, "UpdateClientGrant of another tenant", err, signet.ErrNotFound)
		wantErr(t, "DeleteClientGrant of another tenant", s.DeleteClientGrant(ctx, "rival", "g-1"), signet.ErrNotFound)
		checkGrantIDs(t, s, "rival", signet.GrantFilter{})

		// The same id and pair in another tenant are fine.
		theirs := newGrant("rival", "g-1", "c-1", "https://a/")
		if err := s.CreateClientGrant(ctx, theirs); err != nil {
			t.Fatalf("CreateClientGrant with an id and pair used by another tenant: %v", err)
		}
		diffClientGrant(theirs, get("rival", "g-1")).check(t, "rival's grant")
		checkGrantIDs(t, s, "rival", signet.GrantFilter{}, "g-1")
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.ClientGrant(ctx, "acme", "ghost")
		wantErr(t, "ClientGrant", err, signet.ErrNotFound)
		_, err = s.UpdateClientGrant(ctx, "acme", "ghost", func(*signet.ClientGrant) error { return nil })
		wantErr(t, "UpdateClientGrant", err, signet.ErrNotFound)
		wantErr(t, "DeleteClientGrant", s.DeleteClientGrant(ctx, "acme", "ghost"), signet.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		want := g1
		want.Scope = []string{"read:things"}
		want.UpdatedAt = at(time.Hour)
		got, err := s.UpdateClientGrant(ctx, "acme", "g-1", func(g *signet.ClientGrant) error {
			diffClientGrant(g1, *g).check(t, "the grant fn got")
			*g = want
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateClientGrant: %v", err)
		}
		diffClientGrant(want, got).check(t, "UpdateClientGrant's result")
		diffClientGrant(want, get("acme", "g-1")).check(t, "ClientGrant after UpdateClientGrant")

		errBoom := errors.New("boom")
		_, err = s.UpdateClientGrant(ctx, "acme", "g-1", func(g *signet.ClientGrant) error {
			g.Scope = nil
			return errBoom
		})
		wantErr(t, "UpdateClientGrant with a failing fn", err, errBoom)
		_, err = s.UpdateClientGrant(ctx, "acme", "g-1", func(g *signet.ClientGrant) error {
			g.Scope = nil
			g.ClientID, g.Audience = "c-1", "https://b/" // g-2's pair
			return nil
		})
		wantErr(t, "UpdateClientGrant to a taken client/audience pair", err, signet.ErrConflict)
		diffClientGrant(want, get("acme", "g-1")).check(t, "ClientGrant after the failed updates")
	})

	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteClientGrant(ctx, "acme", "g-3"); err != nil {
			t.Fatalf("DeleteClientGrant: %v", err)
		}
		_, err := s.ClientGrant(ctx, "acme", "g-3")
		wantErr(t, "ClientGrant after DeleteClientGrant", err, signet.ErrNotFound)
		wantErr(t, "DeleteClientGrant twice", s.DeleteClientGrant(ctx, "acme", "g-3"), signet.ErrNotFound)
		checkGrantIDs(t, s, "acme", signet.GrantFilter{}, "g-1", "g-2", "g-4")
		// The pair is free again.
		if err := s.CreateClientGrant(ctx, newGrant("acme", "g-5", "c-2", "https://a/")); err != nil {
			t.Errorf("CreateClientGrant with a deleted pair: %v", err)
		}
		checkGrantIDs(t, s, "acme", signet.GrantFilter{}, "g-1", "g-2", "g-4", "g-5")
	})
}
