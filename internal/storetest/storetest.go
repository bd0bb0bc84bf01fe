package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// Run runs the conformance suite against the stores open returns. Each call
// of open must return a fresh, empty store; the backend's test cleans it up
// (with t.Cleanup). The suite's subtests are independent of each other.
func Run(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("Tenants", func(t *testing.T) { testTenants(t, open) })
	t.Run("UpdateTenant", func(t *testing.T) { testUpdateTenant(t, open) })
	t.Run("Keyset", func(t *testing.T) { testKeyset(t, open) })
	t.Run("UpdateKeyset", func(t *testing.T) { testUpdateKeyset(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("Watch", func(t *testing.T) { testWatch(t, open) })
	t.Run("WatchLive", func(t *testing.T) { testWatchLive(t, open) })
	t.Run("Clients", func(t *testing.T) { testClients(t, open) })
	t.Run("ResourceServers", func(t *testing.T) { testResourceServers(t, open) })
	t.Run("ClientGrants", func(t *testing.T) { testClientGrants(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("Positions", func(t *testing.T) { testPositions(t, open) })
	t.Run("Replicas", func(t *testing.T) { testReplicas(t, open) })
}

// base is the suite's clock: microsecond precision (what every backend keeps)
// in a zone other than UTC (stores return UTC).
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.FixedZone("UTC+01:30", 90*60))

// at returns base+d.
func at(d time.Duration) time.Time { return base.Add(d) }

// newKey returns a fake signing key: the store never parses certificates or
// sealed keys, so any bytes do (these include NUL and 0xff to catch text
// handling of binary columns).
func newKey(kid string, created time.Time) signet.Key {
	return signet.Key{
		KID:              kid,
		Algorithm:        signet.DefaultAlgorithm,
		Certificate:      []byte("cert\x00\xff" + kid),
		SealedPrivateKey: []byte("sealed\x00\xfe" + kid),
		CreatedAt:        created,
	}
}

// newTenant returns a tenant with the given hosts (name.example.com if none)
// and its first keyset, made of the keys name-k1 (current) and name-k2 (next).
func newTenant(t *testing.T, name string, hosts ...string) (signet.Tenant, signet.Keyset) {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{name + ".example.com"}
	}
	tn := signet.Tenant{
		Name:      name,
		Hosts:     hosts,
		Algorithm: signet.DefaultAlgorithm,
		CreatedAt: base,
	}
	ks, err := signet.NewKeyset(name, base, newKey(name+"-k1", at(-time.Hour)), newKey(name+"-k2", at(-time.Minute)))
	if err != nil {
		t.Fatalf("NewKeyset: %v", err)
	}
	return tn, ks
}

// createTenant stores newTenant(name, hosts...) and returns it.
func createTenant(t *testing.T, s signet.Store, name string, hosts ...string) (signet.Tenant, signet.Keyset) {
	t.Helper()
	tn, ks := newTenant(t, name, hosts...)
	if err := s.CreateTenant(t.Context(), tn, ks); err != nil {
		t.Fatalf("CreateTenant(%s): %v", name, err)
	}
	return tn, ks
}

// keyset returns the stored keyset of tenant, failing the test on error.
func keyset(t *testing.T, s signet.Store, tenant string) signet.Keyset {
	t.Helper()
	ks, err := s.Keyset(t.Context(), tenant)
	if err != nil {
		t.Fatalf("Keyset(%s): %v", tenant, err)
	}
	return ks
}

// events returns the stored events of tenant matching f, failing the test on error.
func events(t *testing.T, s signet.Store, tenant string, f signet.EventFilter) []signet.Event {
	t.Helper()
	evs, err := s.Events(t.Context(), tenant, f)
	if err != nil {
		t.Fatalf("Events(%s, %+v): %v", tenant, f, err)
	}
	return evs
}

// noEvents fails the test unless tenant, which does not exist, has no events:
// Events may return an empty list or ErrTenantNotFound.
func noEvents(t *testing.T, s signet.Store, tenant string) {
	t.Helper()
	evs, err := s.Events(t.Context(), tenant, signet.EventFilter{})
	if err != nil && !errors.Is(err, signet.ErrTenantNotFound) {
		t.Errorf("Events(%s): %v", tenant, err)
	}
	if len(evs) != 0 {
		t.Errorf("Events(%s): got %d events, want none", tenant, len(evs))
	}
}

// rotate returns an UpdateKeyset function that rotates to fresh at now.
func rotate(now time.Time, fresh signet.Key) func(*signet.Keyset) error {
	return func(ks *signet.Keyset) error {
		_, err := ks.Rotate(now, fresh)
		return err
	}
}

// wantErr fails the test unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want %v", what, target)
	} else if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
	}
}

// diff collects field differences between a wanted and a stored value.
type diff []string

func (d *diff) str(field, want, got string) {
	if want != got {
		*d = append(*d, fmt.Sprintf("%s: got %q, want %q", field, got, want))
	}
}

func (d *diff) bytes(field string, want, got []byte) {
	if !bytes.Equal(want, got) {
		*d = append(*d, fmt.Sprintf("%s: got %x, want %x", field, got, want))
	}
}

// time requires got to be the same instant as want and, unless zero, in UTC.
func (d *diff) time(field string, want, got time.Time) {
	switch {
	case want.IsZero() && !got.IsZero():
		*d = append(*d, fmt.Sprintf("%s: got %v, want the zero time", field, got))
	case !got.Equal(want):
		*d = append(*d, fmt.Sprintf("%s: got %v, want %v", field, got, want))
	case !got.IsZero() && got.Location() != time.UTC:
		*d = append(*d, fmt.Sprintf("%s: got %v, want it in UTC", field, got))
	}
}

func (d *diff) other(field string, want, got any, equal bool) {
	if !equal {
		*d = append(*d, fmt.Sprintf("%s: got %v, want %v", field, got, want))
	}
}

// check reports the differences, if any, as one test error.
func (d diff) check(t *testing.T, what string) {
	t.Helper()
	if len(d) > 0 {
		t.Errorf("%s differs from what was stored:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

func diffTenant(want, got signet.Tenant) diff {
	var d diff
	d.str("Name", want.Name, got.Name)
	d.other("Hosts", want.Hosts, got.Hosts, slices.Equal(want.Hosts, got.Hosts))
	d.str("Algorithm", want.Algorithm, got.Algorithm)
	d.other("Policy", want.Policy, got.Policy, want.Policy == got.Policy)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	return d
}

func diffKey(want, got signet.Key) diff {
	var d diff
	d.str("KID", want.KID, got.KID)
	d.str("Algorithm", want.Algorithm, got.Algorithm)
	d.str("State", string(want.State), string(got.State))
	d.bytes("Certificate", want.Certificate, got.Certificate)
	d.bytes("SealedPrivateKey", want.SealedPrivateKey, got.SealedPrivateKey)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("CurrentSince", want.CurrentSince, got.CurrentSince)
	d.time("CurrentUntil", want.CurrentUntil, got.CurrentUntil)
	d.time("RevokedAt", want.RevokedAt, got.RevokedAt)
	return d
}

// checkKeys requires got to hold exactly the keys of want (in any order),
// field by field.
func checkKeys(t *testing.T, what string, want, got []signet.Key) {
	t.Helper()
	byKID := make(map[string]signet.Key, len(got))
	for _, k := range got {
		if _, dup := byKID[k.KID]; dup {
			t.Errorf("%s: kid %s appears twice", what, k.KID)
		}
		byKID[k.KID] = k
	}
	for _, w := range want {
		g, ok := byKID[w.KID]
		if !ok {
			t.Errorf("%s: key %s missing", what, w.KID)
			continue
		}
		delete(byKID, w.KID)
		diffKey(w, g).check(t, fmt.Sprintf("%s: key %s", what, w.KID))
	}
	for kid := range byKID {
		t.Errorf("%s: unexpected key %s", what, kid)
	}
}

// diffEvent compares everything but Seq.
func diffEvent(want, got signet.Event) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.time("Time", want.Time, got.Time)
	d.str("Type", want.Type, got.Type)
	d.str("Actor", want.Actor, got.Actor)
	d.str("KID", want.KID, got.KID)
	d.str("IdempotencyKey", want.IdempotencyKey, got.IdempotencyKey)
	d.other("Data", want.Data, got.Data, maps.Equal(want.Data, got.Data))
	return d
}

func diffClient(want, got signet.Client) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.str("ClientID", want.ClientID, got.ClientID)
	d.str("Name", want.Name, got.Name)
	d.str("Description", want.Description, got.Description)
	d.str("AppType", want.AppType, got.AppType)
	d.bytes("SecretHash", want.SecretHash, got.SecretHash)
	d.other("GrantTypes", want.GrantTypes, got.GrantTypes, slices.Equal(want.GrantTypes, got.GrantTypes))
	d.other("Callbacks", want.Callbacks, got.Callbacks, slices.Equal(want.Callbacks, got.Callbacks))
	d.other("AllowedLogoutURLs", want.AllowedLogoutURLs, got.AllowedLogoutURLs,
		slices.Equal(want.AllowedLogoutURLs, got.AllowedLogoutURLs))
	d.str("TokenEndpointAuthMethod", want.TokenEndpointAuthMethod, got.TokenEndpointAuthMethod)
	d.other("IDTokenLifetime", want.IDTokenLifetime, got.IDTokenLifetime, want.IDTokenLifetime == got.IDTokenLifetime)
	d.other("RefreshTokenLifetime", want.RefreshTokenLifetime, got.RefreshTokenLifetime,
		want.RefreshTokenLifetime == got.RefreshTokenLifetime)
	wa, _ := json.Marshal(want.Addons)
	ga, _ := json.Marshal(got.Addons)
	d.other("Addons", string(wa), string(ga), bytes.Equal(wa, ga))
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	return d
}

func diffResourceServer(want, got signet.ResourceServer) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.str("ID", want.ID, got.ID)
	d.str("Name", want.Name, got.Name)
	d.str("Identifier", want.Identifier, got.Identifier)
	d.other("Scopes", want.Scopes, got.Scopes, slices.Equal(want.Scopes, got.Scopes))
	d.str("SigningAlg", want.SigningAlg, got.SigningAlg)
	d.other("TokenLifetime", want.TokenLifetime, got.TokenLifetime, want.TokenLifetime == got.TokenLifetime)
	d.other("System", want.System, got.System, want.System == got.System)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	return d
}

func diffClientGrant(want, got signet.ClientGrant) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.str("ID", want.ID, got.ID)
	d.str("ClientID", want.ClientID, got.ClientID)
	d.str("Audience", want.Audience, got.Audience)
	d.other("Scope", want.Scope, got.Scope, slices.Equal(want.Scope, got.Scope))
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	return d
}

// ids returns the result of id for each element of s, in order.
func ids[T any](s []T, id func(T) string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = id(v)
	}
	return out
}
