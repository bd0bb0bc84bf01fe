package keyring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/secret"
)

// ManagementAPIName is the name of every tenant's built-in Management API resource server.
const ManagementAPIName = "Auth0 Management API"

// ManagementScopes are the scopes of the built-in Management API.
var ManagementScopes = []signet.Scope{
	{Value: "read:signing_keys", Description: "Read signing keys"},
	{Value: "create:signing_keys", Description: "Create signing keys"},
	{Value: "update:signing_keys", Description: "Update signing keys"},
	{Value: "read:clients", Description: "Read clients"},
	{Value: "create:clients", Description: "Create clients"},
	{Value: "update:clients", Description: "Update clients"},
	{Value: "delete:clients", Description: "Delete clients"},
	{Value: "read:client_keys", Description: "Read client secrets"},
	{Value: "update:client_keys", Description: "Rotate client secrets"},
	{Value: "read:resource_servers", Description: "Read resource servers"},
	{Value: "create:resource_servers", Description: "Create resource servers"},
	{Value: "update:resource_servers", Description: "Update resource servers"},
	{Value: "delete:resource_servers", Description: "Delete resource servers"},
	{Value: "read:client_grants", Description: "Read client grants"},
	{Value: "create:client_grants", Description: "Create client grants"},
	{Value: "update:client_grants", Description: "Update client grants"},
	{Value: "delete:client_grants", Description: "Delete client grants"},
	{Value: "read:users", Description: "Read users"},
	{Value: "create:users", Description: "Create users"},
	{Value: "update:users", Description: "Update users"},
	{Value: "delete:users", Description: "Delete users"},
}

// Store is the part of signet.Store a Ring uses: tenants and their keysets,
// the change feed, the replicas' heartbeats, and the resource servers an
// audience names (CreateTenant creates the Management API's). See
// signet.Store for each method's contract.
type Store interface {
	Tenants(ctx context.Context) ([]signet.Tenant, error)
	Tenant(ctx context.Context, name string) (signet.Tenant, error)
	CreateTenant(ctx context.Context, t signet.Tenant, ks signet.Keyset) error
	UpdateTenant(ctx context.Context, name, actor string, fn func(*signet.Tenant) error) (signet.Tenant, error)
	Keyset(ctx context.Context, tenant string) (signet.Keyset, error)
	UpdateKeyset(ctx context.Context, tenant string, fn func(*signet.Keyset) error) (signet.Keyset, error)
	Events(ctx context.Context, tenant string, f signet.EventFilter) ([]signet.Event, error)
	Watch(ctx context.Context, fn func(tenant string), live func(t time.Time)) error
	ResourceServerByIdentifier(ctx context.Context, tenant, identifier string) (signet.ResourceServer, error)
	CreateResourceServer(ctx context.Context, rs signet.ResourceServer) error
	Heartbeat(ctx context.Context, replica string, positions map[string]int64) error
	Replicas(ctx context.Context, maxAge time.Duration) ([]signet.Replica, error)
	RemoveReplica(ctx context.Context, replica string) error
}

var _ Store = signet.Store(nil)

// Config configures a Ring.
type Config struct {
	Store  Store
	Sealer *seal.Sealer
	// Pool supplies pre-generated keys; rotations take from it.
	Pool *keygen.Pool
	// Scheme is "http" or "https": the scheme of every issuer URL.
	Scheme string
	// Resync is how often every view is reloaded from the store as a safety
	// net behind the change feed; 0 means one minute.
	Resync time.Duration
	// JWKSMaxAge is how long clients may cache the JWKS. A scheduled rotation
	// never promotes a next key published for less than this (nor less than
	// the tenant's MinNextAge); a manual one does, with a warning.
	JWKSMaxAge time.Duration
	// PolicyInterval is how often tenants' rotation policies are enforced;
	// 0 means 30 seconds.
	PolicyInterval time.Duration
	// PublishDelay is how long a key must have been published (since its
	// creation as the next key) before this replica signs with it: the bound
	// on how long a committed change takes to reach every replica sharing the
	// store, clock skew included. Until the current key is that old, the view
	// signs with the key that was current before it, which every replica
	// already publishes (see View.Signing). 0 disables the delay: right for
	// a single process.
	PublishDelay time.Duration
	// MaxStaleness, if positive, is how old a view may be before the
	// replica stops signing with it: a view is as old as the last instant up
	// to which the replica knows it has seen every change of the tenant (see
	// Run). A stale view's Signer and Key refuse with ErrStale and Ready
	// fails, until the change feed and the refreshes catch up. It is
	// measured on the wall clock (time.Now), not Now. 0 disables it: right
	// for a process that does not Run (the CLI).
	MaxStaleness time.Duration
	// Acks, with MaxStaleness > 0, replaces the PublishDelay assumption by
	// knowledge, for replicas sharing a store: the Ring records the change
	// position of each of its views in the store (Store.Heartbeat), every
	// min(1s, MaxStaleness/5) and after each refresh, and a view signs with
	// a newly current key only once every replica whose heartbeat is at
	// most MaxStaleness old serves a position that publishes it (see
	// ack.go). A replica whose heartbeat cannot be recorded for
	// MaxStaleness stops signing. A rotate-and-revoke answers once the
	// acknowledgements are in, or after 2×MaxStaleness with a warning.
	// PublishDelay is then not used. Needs Start or Run.
	Acks bool
	// ReplicaName, with Acks, prefixes this replica's random id in the
	// store (e.g. its host and port), to tell replicas apart in warnings.
	ReplicaName string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// OnChange, if not nil, is called once per committed signing-key change:
	// change is ChangeRotate, ChangeRotateAndRevoke or ChangeRevoke (once
	// per key a policy revokes), and actorKind is ActorKindCLI,
	// ActorKindPolicy, ActorKindDashboard or ActorKindAPI (anyone else:
	// Management API clients). A replayed idempotent
	// rotation and a refused change are not changes. It must not block.
	OnChange func(change, actorKind string)
}

// The changes and actor kinds Config.OnChange reports.
const (
	ChangeRotate          = "rotate"
	ChangeRotateAndRevoke = "rotate_and_revoke"
	ChangeRevoke          = "revoke"

	ActorKindAPI       = "api"
	ActorKindCLI       = "cli"
	ActorKindPolicy    = "policy"
	ActorKindDashboard = "dashboard"
)

// The actors of changes no Management API client or administrator asked
// for; ActorPolicy is the third.
const (
	// ActorCLI is the actor of the signet operator commands.
	ActorCLI = "cli"
	// ActorSystem is the actor of changes signet serve makes by itself,
	// such as creating tenant default on the first start.
	ActorSystem = "system"
)

// ActorKind returns the kind of actor: ActorKindCLI, ActorKindPolicy,
// ActorKindDashboard for an administrator ("admin:<email>", see
// signet.Admin.Actor), else ActorKindAPI.
func ActorKind(actor string) string {
	switch {
	case actor == ActorCLI:
		return ActorKindCLI
	case actor == ActorPolicy:
		return ActorKindPolicy
	case strings.HasPrefix(actor, "admin:"):
		return ActorKindDashboard
	}
	return ActorKindAPI
}

// changed reports a committed change by actor to Config.OnChange.
func (r *Ring) changed(change, actor string) {
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(change, ActorKind(actor))
	}
}

// Ring holds the views of all tenants and performs key changes.
type Ring struct {
	cfg Config

	mu    sync.RWMutex
	views map[string]*View // by tenant name
	hosts map[string]*View // by host (lower case, with port if any)

	refreshMu sync.Mutex // serialises view rebuilds so a stale one never wins

	runCtx atomic.Pointer[context.Context] // Run's context, for the signing-switch timers

	feed *feed // the change feed and how current each view is
	ack  *acks // the other replicas' acknowledgements; nil without Config.Acks
}

// New returns a Ring with no views loaded; call Load, then Run.
func New(cfg Config) *Ring {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Resync == 0 {
		cfg.Resync = time.Minute
	}
	if cfg.PolicyInterval == 0 {
		cfg.PolicyInterval = 30 * time.Second
	}
	if cfg.Scheme == "" {
		cfg.Scheme = "http"
	}
	r := &Ring{cfg: cfg, views: map[string]*View{}, hosts: map[string]*View{}, feed: newFeed()}
	if cfg.Acks && cfg.MaxStaleness > 0 {
		r.ack = newAcks(cfg.ReplicaName)
	}
	return r
}

// Scheme returns the scheme of issuer URLs.
func (r *Ring) Scheme() string { return r.cfg.Scheme }

// Load builds the views of every stored tenant. A tenant whose signing key
// cannot be opened (seal.ErrOpen: a damaged sealed key) is logged at ERROR
// with the key's kid and left without a view (see Unavailable, Broken);
// the other tenants load. Returns an error if the tenants cannot be listed,
// and the other failures, joined.
func (r *Ring) Load(ctx context.Context) error {
	ts, err := r.cfg.Store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("load tenants: %w", err)
	}
	var errs []error
	for _, t := range ts {
		err := r.Refresh(ctx, t.Name)
		switch {
		case err == nil:
		case errors.Is(err, seal.ErrOpen):
			r.cfg.Logger.Error("tenant cannot be served: a signing key cannot be opened", "tenant", t.Name, "err", err)
			r.markBroken(ctx, t.Name, err)
		default:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run keeps the views current until ctx is done: it refreshes a tenant's view
// on every change the store reports (retrying a failed refresh with backoff,
// from 50 ms to 1 s, until it succeeds), reloads all views every Resync, and
// enforces the tenants' rotation policies every PolicyInterval. Start it
// with Start, or after Load (the feed's first confirmation then reloads
// every view, which covers the changes committed in between).
func (r *Ring) Run(ctx context.Context) error {
	r.startFeed(ctx)
	resync := time.NewTicker(r.cfg.Resync)
	defer resync.Stop()
	policy := time.NewTicker(r.cfg.PolicyInterval)
	defer policy.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-resync.C:
			if err := r.Load(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("resync views", "err", err)
			}
		case <-policy.C:
			r.EnforcePolicies(ctx)
		}
	}
}

// Refresh reloads one tenant from the store and installs its new view.
// Returns ErrTenantNotFound for an unknown tenant.
func (r *Ring) Refresh(ctx context.Context, tenant string) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	gen, start := r.beginRefresh(tenant)
	t, err := r.cfg.Store.Tenant(ctx, tenant)
	if err != nil {
		return fmt.Errorf("refresh tenant %s: %w", tenant, err)
	}
	ks, err := r.cfg.Store.Keyset(ctx, tenant)
	if err != nil {
		return fmt.Errorf("refresh tenant %s: %w", tenant, err)
	}
	now := r.cfg.Now()
	old, _ := r.View(tenant)
	sel := r.selectSigning(tenant, ks, now)
	if old != nil && old.version == version(t, ks) && old.Signing.KID == sel.key.KID && old.waitPos == sel.waitPos && old.gate == sel.gate {
		r.refreshed(tenant, gen, start)
		return nil
	}
	v, err := newView(t, ks, r.cfg.Sealer, old, sel, r.freshness(tenant))
	if err != nil {
		return fmt.Errorf("refresh tenant %s: %w", tenant, err)
	}
	defer r.refreshed(tenant, gen, start)
	if r.ack != nil {
		if old == nil || old.Keyset.Position != ks.Position {
			signal(r.ack.beat) // tell the others what this replica now serves
		}
		if v.waitPos > 0 {
			signal(r.ack.poll)
		}
	}
	if !v.switchAt.IsZero() {
		r.refreshAt(tenant, v.switchAt.Sub(now))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.views[tenant]; old != nil {
		for _, h := range old.Tenant.Hosts {
			delete(r.hosts, h)
		}
	}
	r.views[tenant] = v
	for _, h := range t.Hosts {
		r.hosts[h] = v
	}
	return nil
}

// selectSigning chooses the key tenant's view at ks signs with at now:
// with Config.Acks by the acknowledgements (ackedSigningKey), otherwise by
// PublishDelay (signingKey).
func (r *Ring) selectSigning(tenant string, ks signet.Keyset, now time.Time) selection {
	if r.ack == nil {
		k, at := signingKey(ks, now, r.cfg.PublishDelay)
		return selection{key: k, switchAt: at}
	}
	k, waitPos, gated := ackedSigningKey(ks, func(pos int64) bool { return r.ack.acked(tenant, pos) })
	sel := selection{key: k, waitPos: waitPos}
	if gated {
		sel.gate, sel.wait = r.ack.gate(tenant, waitPos), 2*r.cfg.MaxStaleness
	}
	return sel
}

// refreshAt refreshes tenant's view after d, when its current key has been
// published for PublishDelay, so that the view starts signing with it.
// Without Run (tests that only Load), the next Refresh does it instead.
func (r *Ring) refreshAt(tenant string, d time.Duration) {
	ctxp := r.runCtx.Load()
	if ctxp == nil {
		return
	}
	ctx := *ctxp
	time.AfterFunc(d, func() {
		if ctx.Err() != nil {
			return
		}
		if err := r.Refresh(ctx, tenant); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Error("refresh view", "tenant", tenant, "err", err)
			r.markDirty(tenant) // the retry loop takes over
		}
	})
}

// View returns the current view of a tenant.
func (r *Ring) View(tenant string) (*View, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.views[tenant]
	return v, ok
}

// ViewByHost returns the view of the tenant that owns host (a Host header:
// host or host:port, any case). A host that no tenant owns is not found: it
// never falls back to a default tenant.
func (r *Ring) ViewByHost(host string) (*View, bool) {
	host = strings.ToLower(host)
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.hosts[host]
	return v, ok
}

// Len returns the number of tenants with a view.
func (r *Ring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.views)
}

// Views returns every tenant's view.
func (r *Ring) Views() []*View {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*View, 0, len(r.views))
	for _, v := range r.views {
		out = append(out, v)
	}
	return out
}

// CreateTenant creates a tenant owning hosts, with a current and a next key
// of algorithm alg ("" means RS256) and the built-in Management API resource
// server, and installs its view. Its EventKeysetCreated event names actor.
// Returns EINVALID for a bad name, host or algorithm, and ErrConflict if the
// name or a host is taken.
func (r *Ring) CreateTenant(ctx context.Context, name string, hosts []string, alg, actor string) (signet.Tenant, error) {
	if err := signet.ValidateTenantName(name); err != nil {
		return signet.Tenant{}, err
	}
	if alg == "" {
		alg = signet.DefaultAlgorithm
	}
	hosts, err := normalizeHosts(hosts)
	if err != nil {
		return signet.Tenant{}, err
	}
	now := r.cfg.Now().UTC()
	t := signet.Tenant{Name: name, Hosts: hosts, Algorithm: alg, CreatedAt: now}
	current, err := r.freshKey(ctx, t, now)
	if err != nil {
		return signet.Tenant{}, err
	}
	next, err := r.freshKey(ctx, t, now)
	if err != nil {
		return signet.Tenant{}, err
	}
	ks, err := signet.NewKeyset(name, now, current, next)
	if err != nil {
		return signet.Tenant{}, err
	}
	for i := range ks.Events {
		ks.Events[i].Actor = actor
	}
	if err := r.cfg.Store.CreateTenant(ctx, t, ks); err != nil {
		return signet.Tenant{}, fmt.Errorf("create tenant %s: %w", name, err)
	}
	rs := signet.ResourceServer{
		Tenant:        name,
		ID:            secret.ResourceServerID(),
		Name:          ManagementAPIName,
		Identifier:    ManagementAudienceOf(r.Issuer(hosts[0])),
		Scopes:        ManagementScopes,
		SigningAlg:    alg,
		TokenLifetime: signet.DefaultTokenLifetime,
		System:        true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := r.cfg.Store.CreateResourceServer(ctx, rs); err != nil {
		return signet.Tenant{}, fmt.Errorf("create tenant %s: management api: %w", name, err)
	}
	if err := r.Refresh(ctx, name); err != nil {
		return signet.Tenant{}, err
	}
	r.cfg.Logger.Info("tenant created", "tenant", name, "actor", actor, "hosts", hosts, "alg", alg)
	return t, nil
}

// normalizeHosts lower-cases and checks a tenant's hosts.
// Returns EINVALID for none, an invalid one or a repeated one.
func normalizeHosts(hosts []string) ([]string, error) {
	if len(hosts) == 0 {
		return nil, signet.Errorf(signet.EINVALID, "A tenant needs at least one host.")
	}
	out := make([]string, len(hosts))
	for i, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, "/ ?#@\\") || slices.Contains(out[:i], h) {
			return nil, signet.Errorf(signet.EINVALID, "Invalid or repeated host %q.", hosts[i])
		}
		out[i] = h
	}
	return out, nil
}

// Issuer returns the issuer URL of a tenant host: scheme://host/.
func (r *Ring) Issuer(host string) string { return r.cfg.Scheme + "://" + host + "/" }

// freshKey takes a pre-generated key from the pool and wraps it as a sealed
// key of tenant t.
func (r *Ring) freshKey(ctx context.Context, t signet.Tenant, now time.Time) (signet.Key, error) {
	signer, err := r.cfg.Pool.Get(ctx, t.Algorithm)
	if err != nil {
		return signet.Key{}, fmt.Errorf("new key for tenant %s: %w", t.Name, err)
	}
	k, err := keygen.NewKey(signer, t.Algorithm, hostname(t.Hosts[0]), t.Name, now, r.cfg.Sealer)
	if err != nil {
		return signet.Key{}, fmt.Errorf("new key for tenant %s: %w", t.Name, err)
	}
	return k, nil
}

// hostname strips a port from host.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// RotateOptions qualify a rotation.
type RotateOptions struct {
	// RevokeCurrent revokes the key that was current in the same transaction.
	RevokeCurrent bool
	// Actor is who asks: a client_id, "admin:<email>", ActorCLI or ActorSystem.
	Actor string
	// IdempotencyKey, if set, makes a retried rotation return the first
	// rotation's result instead of rotating again. Keys belong to Actor:
	// another actor's equal key is another key. They are remembered as long
	// as the tenant's audit events (for ever).
	IdempotencyKey string
	// Fingerprint identifies the request that carries IdempotencyKey (the
	// Management API hashes its method, path, query and body). A retry with
	// the same key but another Fingerprint or RevokeCurrent fails with
	// ErrIdempotencyKeyReused.
	Fingerprint string
}

// Rotation is the result of Ring.Rotate.
type Rotation struct {
	signet.Rotation
	// Replayed is true when the result is that of an earlier request with the
	// same idempotency key; nothing was rotated now.
	Replayed bool
	// Warning is set when the promoted next key had been published for less
	// than the tenant's minimum next-key age (clients may not have cached it).
	Warning string
}

// Rotate promotes the tenant's next key, moves the current key to previous
// (revoked too with RevokeCurrent) and publishes a fresh next key, in one
// transaction. The fresh key is generated before the transaction.
// With an IdempotencyKey, a retry (even a concurrent one) answers the first
// rotation again with Replayed set.
// Returns ErrTenantNotFound for an unknown tenant, and
// ErrIdempotencyKeyReused if opt.Actor used the key for another request.
func (r *Ring) Rotate(ctx context.Context, tenant string, opt RotateOptions) (Rotation, error) {
	if opt.IdempotencyKey != "" {
		if rot, ok, err := r.replay(ctx, tenant, opt); err != nil || ok {
			return rot, err
		}
	}
	t, err := r.cfg.Store.Tenant(ctx, tenant)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate tenant %s: %w", tenant, err)
	}
	fresh, err := r.freshKey(ctx, t, r.cfg.Now().UTC())
	if err != nil {
		return Rotation{}, err
	}
	var out Rotation
	_, err = r.cfg.Store.UpdateKeyset(ctx, tenant, func(ks *signet.Keyset) error {
		now := r.cfg.Now().UTC()
		var rot signet.Rotation
		var err error
		if opt.RevokeCurrent {
			rot, err = ks.RotateAndRevoke(now, fresh)
		} else {
			rot, err = ks.Rotate(now, fresh)
		}
		if err != nil {
			return err
		}
		out = Rotation{Rotation: rot}
		if min := max(t.Policy.MinNextAge, r.cfg.JWKSMaxAge); rot.NextAge < min {
			out.Warning = fmt.Sprintf("The promoted key had been published for %s, less than the minimum next-key age %s: clients that cache the JWKS may not know it yet.", rot.NextAge.Round(time.Second), min)
		}
		for i := range ks.Events {
			e := &ks.Events[i]
			e.Actor = opt.Actor
			if e.Type == signet.EventKeyRotated {
				if opt.IdempotencyKey != "" {
					e.IdempotencyKey = scopedIdempotencyKey(opt.Actor, opt.IdempotencyKey)
					if opt.Fingerprint != "" {
						e.Data[fingerprintData] = opt.Fingerprint
					}
				}
				if out.Warning != "" {
					e.Data["warning"] = out.Warning
				}
				if opt.RevokeCurrent {
					e.Data["revoked_kid"] = rot.Previous.KID
				}
			}
		}
		return nil
	})
	if opt.IdempotencyKey != "" && errors.Is(err, signet.ErrConflict) {
		// A concurrent request with the same key won; answer with its
		// result, or refuse if it was another request.
		if rot, ok, rerr := r.replay(ctx, tenant, opt); rerr != nil || ok {
			return rot, rerr
		}
	}
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate tenant %s: %w", tenant, err)
	}
	if opt.RevokeCurrent {
		r.changed(ChangeRotateAndRevoke, opt.Actor)
	} else {
		r.changed(ChangeRotate, opt.Actor)
	}
	if err := r.Refresh(ctx, tenant); err != nil {
		return Rotation{}, err
	}
	if opt.RevokeCurrent {
		// No earlier key may sign in place of the new current one: answer
		// once every replica publishes it (at once in the common case: it
		// was published as next at the previous rotation).
		if w := r.awaitRotation(ctx, tenant, out.Current); w != "" {
			out.Warning = strings.TrimSpace(out.Warning + " " + w)
			r.cfg.Logger.Warn("rotate-and-revoke not acknowledged by every replica", "tenant", tenant, "warning", w)
		}
	}
	r.cfg.Logger.Info("signing key rotated", "tenant", tenant, "actor", opt.Actor,
		"current", out.Current, "next", out.Next, "revoked_previous", opt.RevokeCurrent)
	return out, nil
}

// replay looks up an earlier rotation made by opt.Actor with
// opt.IdempotencyKey and returns its result, or false if there is none.
// Returns ErrIdempotencyKeyReused if that rotation answered another request.
func (r *Ring) replay(ctx context.Context, tenant string, opt RotateOptions) (Rotation, bool, error) {
	key := scopedIdempotencyKey(opt.Actor, opt.IdempotencyKey)
	evs, err := r.cfg.Store.Events(ctx, tenant, signet.EventFilter{IdempotencyKey: key, Limit: 1})
	if err != nil {
		return Rotation{}, false, fmt.Errorf("rotate tenant %s: %w", tenant, err)
	}
	if len(evs) == 0 {
		return Rotation{}, false, nil
	}
	if !sameRequest(evs[0], opt) {
		return Rotation{}, false, fmt.Errorf("rotate tenant %s: %w", tenant, ErrIdempotencyKeyReused)
	}
	ks, err := r.cfg.Store.Keyset(ctx, tenant)
	if err != nil {
		return Rotation{}, false, fmt.Errorf("rotate tenant %s: %w", tenant, err)
	}
	e := evs[0]
	var rot Rotation
	rot.Replayed = true
	rot.Warning = e.Data["warning"]
	if rot.Current, err = ks.Key(e.KID); err != nil {
		return Rotation{}, false, fmt.Errorf("rotate tenant %s: replay: %w", tenant, err)
	}
	rot.Previous, _ = ks.Key(e.Data["previous_kid"])
	rot.Next, _ = ks.Key(e.Data["next_kid"])
	return rot, true, nil
}

// Revoke revokes a previous key of the tenant.
// Returns ErrTenantNotFound, ErrKeyNotFound, ErrRevokeCurrent, ErrRevokeNext
// or ErrAlreadyRevoked.
func (r *Ring) Revoke(ctx context.Context, tenant, kid, actor string) (signet.Key, error) {
	var out signet.Key
	_, err := r.cfg.Store.UpdateKeyset(ctx, tenant, func(ks *signet.Keyset) error {
		k, err := ks.Revoke(r.cfg.Now().UTC(), kid)
		if err != nil {
			return err
		}
		out = k
		for i := range ks.Events {
			ks.Events[i].Actor = actor
		}
		return nil
	})
	if err != nil {
		return signet.Key{}, fmt.Errorf("revoke key %s of tenant %s: %w", kid, tenant, err)
	}
	r.changed(ChangeRevoke, actor)
	if err := r.Refresh(ctx, tenant); err != nil {
		return signet.Key{}, err
	}
	r.cfg.Logger.Info("signing key revoked", "tenant", tenant, "actor", actor, "key", out)
	return out, nil
}
