package signet

import (
	"context"
	"time"
)

// Store persists tenants, keysets, clients, resource servers, client grants
// and audit events. Every backend passes the conformance suite in
// internal/storetest.
//
// Lookups return an error matching ErrNotFound when the thing is missing;
// creations return ErrConflict when it already exists (or, for resource
// servers, when the identifier is taken; for client grants, when the pair
// client/audience is taken).
type Store interface {
	// CreateTenant stores a new tenant with its first keyset (and the keyset's events),
	// at change position 1 (see Keyset.Position and Key.Position).
	// Returns ErrConflict if the name or one of its hosts is taken.
	CreateTenant(ctx context.Context, t Tenant, ks Keyset) error
	// Tenant returns one tenant. Returns ErrTenantNotFound if there is none.
	Tenant(ctx context.Context, name string) (Tenant, error)
	// Tenants returns all tenants ordered by name.
	Tenants(ctx context.Context) ([]Tenant, error)
	// UpdateTenant applies fn to a tenant in one transaction and stores its
	// hosts, algorithm and policy (fn cannot rename it) with an
	// EventTenantUpdated event by actor, then tells every Watch.
	// Returns fn's error as it is (nothing changes), ErrTenantNotFound, and
	// ErrConflict if a new host belongs to another tenant.
	UpdateTenant(ctx context.Context, name, actor string, fn func(*Tenant) error) (Tenant, error)

	// Keyset returns a tenant's keys. Returns ErrTenantNotFound for an unknown tenant.
	Keyset(ctx context.Context, tenant string) (Keyset, error)
	// UpdateKeyset loads the tenant's keyset, calls fn with it inside one
	// transaction, checks the result with Keyset.Validate, and stores the keys
	// and ks.Events at the tenant's next change position (one more than the
	// loaded keyset's; the keys it adds get it as their Position). If fn or the check fails nothing changes and that error is
	// returned. Concurrent updates of one tenant are serialised. Returns the
	// stored keyset, ErrTenantNotFound for an unknown tenant, and ErrConflict if
	// an event's IdempotencyKey was already used by the tenant.
	UpdateKeyset(ctx context.Context, tenant string, fn func(*Keyset) error) (Keyset, error)
	// Events returns a tenant's audit events, newest first, filtered by f.
	Events(ctx context.Context, tenant string, f EventFilter) ([]Event, error)
	// Watch calls fn with the tenant's name after each committed keyset or
	// tenant change (CreateTenant, UpdateTenant, UpdateKeyset), until ctx is done. Changes made by other
	// processes sharing the store are included where the backend can see them.
	// fn may also be called for tenants that did not change: a backend whose
	// feed was interrupted calls it once for every tenant when the feed is
	// back (a full resync), so that no change is missed.
	//
	// live, if not nil, is called with an instant t (on the wall clock) once
	// the backend knows that every change committed since the feed started
	// listening and before t has been passed to fn: when it starts listening
	// (t is then the instant from which changes are reported: a caller loads
	// what it needs after this first call), after a reconnection's resync,
	// and then at least every second or so while the feed is up. A feed that
	// is down calls nothing, so the last t ages: that is how a caller learns
	// that it may be missing changes.
	Watch(ctx context.Context, fn func(tenant string), live func(t time.Time)) error

	// CreateClient stores a new client. Returns ErrConflict if the id is taken.
	CreateClient(ctx context.Context, c Client) error
	// Client returns one client. Returns ErrNotFound if there is none.
	Client(ctx context.Context, tenant, clientID string) (Client, error)
	// Clients returns a tenant's clients ordered by creation.
	Clients(ctx context.Context, tenant string) ([]Client, error)
	// UpdateClient applies fn to a client in one transaction. Returns ErrNotFound.
	UpdateClient(ctx context.Context, tenant, clientID string, fn func(*Client) error) (Client, error)
	// DeleteClient deletes a client and its grants. Returns ErrNotFound.
	DeleteClient(ctx context.Context, tenant, clientID string) error

	// CreateResourceServer stores a new resource server. Returns ErrConflict if
	// the id or identifier is taken.
	CreateResourceServer(ctx context.Context, rs ResourceServer) error
	// ResourceServer returns one resource server by id. Returns ErrNotFound.
	ResourceServer(ctx context.Context, tenant, id string) (ResourceServer, error)
	// ResourceServerByIdentifier returns one resource server by its audience. Returns ErrNotFound.
	ResourceServerByIdentifier(ctx context.Context, tenant, identifier string) (ResourceServer, error)
	// ResourceServers returns a tenant's resource servers ordered by creation.
	ResourceServers(ctx context.Context, tenant string) ([]ResourceServer, error)
	// UpdateResourceServer applies fn in one transaction. Returns ErrNotFound, or
	// ErrConflict if the new identifier is taken.
	UpdateResourceServer(ctx context.Context, tenant, id string, fn func(*ResourceServer) error) (ResourceServer, error)
	// DeleteResourceServer deletes a resource server and the grants for its
	// audience. Returns ErrNotFound.
	DeleteResourceServer(ctx context.Context, tenant, id string) error

	// CreateClientGrant stores a new grant. Returns ErrConflict if the id or the
	// client/audience pair is taken.
	CreateClientGrant(ctx context.Context, g ClientGrant) error
	// ClientGrant returns one grant by id. Returns ErrNotFound.
	ClientGrant(ctx context.Context, tenant, id string) (ClientGrant, error)
	// ClientGrants returns a tenant's grants ordered by creation, filtered by f.
	ClientGrants(ctx context.Context, tenant string, f GrantFilter) ([]ClientGrant, error)
	// UpdateClientGrant applies fn in one transaction. Returns ErrNotFound.
	UpdateClientGrant(ctx context.Context, tenant, id string, fn func(*ClientGrant) error) (ClientGrant, error)
	// DeleteClientGrant deletes a grant. Returns ErrNotFound.
	DeleteClientGrant(ctx context.Context, tenant, id string) error

	// UserStore holds users, login sessions, authorization codes and refresh tokens.
	UserStore
	// AdminStore holds dashboard administrators, their grants and sessions.
	AdminStore
	// MetaStore holds the deployment's own settings and a lock.
	MetaStore
	// ReplicaStore holds the replicas' heartbeats and change positions.
	ReplicaStore

	// Close releases the store's resources.
	Close() error
}

// EventFilter narrows Store.Events. Zero fields match everything.
type EventFilter struct {
	IdempotencyKey string
	Type           string
	// Limit caps the number of events; 0 means 100.
	Limit int
}

// GrantFilter narrows Store.ClientGrants. Zero fields match everything.
type GrantFilter struct {
	ClientID string
	Audience string
}

// MetaStore holds a few named values about the deployment itself (the master
// key's check value, whether the first start finished) and a lock shared by
// every process using the store. Every backend passes storetest.RunMeta.
type MetaStore interface {
	// Meta returns the value stored under name. Returns ErrNotFound if there is none.
	Meta(ctx context.Context, name string) (string, error)
	// InitMeta stores value under name unless a value is already there, and
	// returns the value now stored: value, or the one that was there. Of
	// concurrent calls (from any process) for one name exactly one stores its value
	// and all return that value. A stored value never changes.
	InitMeta(ctx context.Context, name, value string) (string, error)
	// Lock takes the lock called name, shared by every process using the
	// store, waiting until it is free or ctx is done, and returns the function
	// that releases it (safe to call more than once). A process that dies
	// holding the lock releases it. Returns ctx's error if ctx ends first.
	Lock(ctx context.Context, name string) (unlock func(), err error)
}
