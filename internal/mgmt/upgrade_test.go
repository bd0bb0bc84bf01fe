package mgmt_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/ringtest"
)

// values returns the values of scopes.
func values(scopes []signet.Scope) []string {
	var out []string
	for _, s := range scopes {
		out = append(out, s.Value)
	}
	return out
}

// TestUpgradeManagementAPI upgrades a tenant created before Signet defined
// the users scopes, on several replicas at once: its Management API gains
// them after its own scopes and keeps everything else, the administrative
// client granted the whole API gains them, a narrowed grant does not, and
// a second run changes nothing.
func TestUpgradeManagementAPI(t *testing.T) {
	ctx := context.Background()
	env := ringtest.New(t, ringtest.Options{PoolSize: 4})
	store := env.Store
	for _, name := range []string{"old", "new"} {
		if _, err := env.Ring.CreateTenant(ctx, name, []string{name + ".test"}, "ES256", "test"); err != nil {
			t.Fatal(err)
		}
	}
	var oldScopes, newScopes []signet.Scope // before and since the users scopes
	for _, s := range keyring.ManagementScopes {
		if strings.HasSuffix(s.Value, ":users") {
			newScopes = append(newScopes, s)
		} else {
			oldScopes = append(oldScopes, s)
		}
	}
	if len(newScopes) != 4 {
		t.Fatalf("users scopes = %v", values(newScopes))
	}
	custom := signet.Scope{Value: "read:custom", Description: "Added by hand"}
	api, err := mgmt.ResourceServer(ctx, store, "old")
	if err != nil {
		t.Fatal(err)
	}
	updated := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	api, err = store.UpdateResourceServer(ctx, "old", api.ID, func(rs *signet.ResourceServer) error {
		rs.Scopes = append(slices.Clone(oldScopes), custom)
		rs.TokenLifetime, rs.UpdatedAt = 600, updated
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	grant := func(scopes []string) (clientID, grantID string) {
		t.Helper()
		id, _ := env.AdminClient(t, "old", api.Identifier)
		gs, err := store.ClientGrants(ctx, "old", signet.GrantFilter{ClientID: id})
		if err != nil || len(gs) != 1 {
			t.Fatalf("grants of %s: %v %v", id, gs, err)
		}
		if _, err := store.UpdateClientGrant(ctx, "old", gs[0].ID, func(g *signet.ClientGrant) error {
			g.Scope = scopes
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return id, gs[0].ID
	}
	admin, adminGrant := grant(values(oldScopes))
	narrow, narrowGrant := grant([]string{"read:signing_keys"})
	newAPI, err := mgmt.ResourceServer(ctx, store, "new")
	if err != nil {
		t.Fatal(err)
	}

	// Four replicas start at once, each as `signet serve` does.
	var wg sync.WaitGroup
	errs := make(chan error, 4*3)
	for i := range 4 {
		r := env.Replica()
		up := mgmt.New(mgmt.Config{Ring: r, Store: store})
		wg.Go(func() {
			if err := r.Load(ctx); err != nil {
				errs <- err
				return
			}
			for _, id := range []string{admin, narrow} {
				if _, err := up.GrantNewScopes(ctx, "old", id); err != nil {
					errs <- fmt.Errorf("replica %d: grant to %s: %w", i, id, err)
				}
			}
			if err := up.UpgradeAll(ctx); err != nil {
				errs <- fmt.Errorf("replica %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	got, err := store.ResourceServer(ctx, "old", api.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(slices.Clone(oldScopes), custom), newScopes...)
	if !slices.Equal(got.Scopes, want) {
		t.Errorf("upgraded scopes = %v\nwant %v", values(got.Scopes), values(want))
	}
	if got.TokenLifetime != 600 || got.Identifier != api.Identifier || got.Name != keyring.ManagementAPIName || !got.System || !got.UpdatedAt.After(updated) {
		t.Errorf("upgraded resource server = %+v", got)
	}
	g, err := store.ClientGrant(ctx, "old", adminGrant)
	if err != nil {
		t.Fatal(err)
	}
	if want := values(keyring.ManagementScopes); !slices.Equal(g.Scope, want) {
		t.Errorf("admin grant = %v\nwant %v", g.Scope, want)
	}
	g, err = store.ClientGrant(ctx, "old", narrowGrant)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Scope, []string{"read:signing_keys"}) {
		t.Errorf("narrowed grant = %v, want it unchanged", g.Scope)
	}
	if rs, err := store.ResourceServer(ctx, "new", newAPI.ID); err != nil || !rs.UpdatedAt.Equal(newAPI.UpdatedAt) {
		t.Errorf("an up-to-date tenant's Management API was written: %+v %v", rs, err)
	}

	// Again: nothing to do.
	up := mgmt.New(mgmt.Config{Ring: env.Ring, Store: store})
	if added, err := up.Upgrade(ctx, "old"); err != nil || added != nil {
		t.Errorf("second upgrade added %v, %v", added, err)
	}
	if added, err := up.GrantNewScopes(ctx, "old", admin); err != nil || added != nil {
		t.Errorf("second grant added %v, %v", added, err)
	}
	if again, err := store.ResourceServer(ctx, "old", api.ID); err != nil || !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("second upgrade wrote the resource server: %+v %v", again, err)
	}
	if _, err := up.Upgrade(ctx, "nobody"); !errors.Is(err, signet.ErrNotFound) {
		t.Errorf("unknown tenant: %v, want ErrNotFound", err)
	}
}

// BenchmarkStart measures what a start costs per tenant on a store of
// 10,000 up-to-date tenants (ES256, to keep setup short): Load builds every
// view; UpgradeAll then reads each tenant's resource servers and
// finds nothing to add. Run:
//
//	go test -run '^$' -bench Start -benchtime 3x ./internal/mgmt/
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	env := ringtest.New(b, ringtest.Options{PoolSize: 8})
	for i := range 10000 {
		if _, err := env.Ring.CreateTenant(ctx, fmt.Sprintf("t%05d", i), []string{fmt.Sprintf("t%05d.localhost", i)}, "ES256", "test"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Load", func(b *testing.B) {
		for b.Loop() {
			if err := env.Replica().Load(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	up := mgmt.New(mgmt.Config{Ring: env.Ring, Store: env.Store})
	b.Run("UpgradeAll", func(b *testing.B) {
		for b.Loop() {
			if err := up.UpgradeAll(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
