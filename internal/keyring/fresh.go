package keyring

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/seal"
)

// ErrStale is matched by the error a view's Signer and Key return while the
// replica cannot confirm that its view of the tenant is current: its change
// feed or its refreshes have failed for longer than Config.MaxStaleness, so a
// key may have been revoked or rotated without it knowing.
var ErrStale = errors.New("this replica cannot confirm that its signing keys are current; it does not sign until it catches up")

// ErrUnavailable is matched by the error Unavailable returns for a host
// whose tenant has no view because its signing key cannot be opened.
var ErrUnavailable = errors.New("the tenant's signing key cannot be opened")

// Retries of a failed refresh wait refreshMinBackoff, then twice as long
// after each failure up to refreshMaxBackoff; each attempt may take up to
// refreshTimeout. The maximum is well below any sensible MaxStaleness.
const (
	refreshMinBackoff = 50 * time.Millisecond
	refreshMaxBackoff = time.Second
	refreshTimeout    = 5 * time.Second
)

// feed is what a Ring knows of the store's change feed and of how current
// each tenant's view is.
//
// A view is confirmed up to an instant c when the replica knows it reflects
// every change committed before c. A refresh that began reading at s
// confirms its view up to s. The feed's live callback at t confirms, for
// every tenant with no reported change still waiting for a refresh, every
// change before t (the feed has reported them, and each report was
// followed by a successful refresh). So a tenant's view is confirmed up to
// loadedAt if it is dirty, and max(loadedAt, liveAt) if not; its age is
// the time since then.
type feed struct {
	mu      sync.Mutex
	liveAt  time.Time // the last instant the feed confirmed
	tenants map[string]*tenantFeed
	broken  map[string]brokenTenant // tenants left without a view, by name
	wake    chan struct{}           // capacity 1: a tenant became dirty
	started chan struct{}           // closed at the feed's first confirmation
	stopped chan struct{}           // closed when Watch returns
	err     error                   // Watch's error, once stopped is closed
	once    sync.Once               // starts the feed
}

// tenantFeed is the refresh state of one tenant.
type tenantFeed struct {
	gen, done uint64    // changes reported; those covered by the last successful refresh
	loadedAt  time.Time // when the last successful refresh began reading
	failures  int       // consecutive failed retries
	retryAt   time.Time // when the next retry is due
}

// brokenTenant is a tenant whose view cannot be built.
type brokenTenant struct {
	hosts []string
	err   error
}

func newFeed() *feed {
	return &feed{tenants: map[string]*tenantFeed{}, broken: map[string]brokenTenant{},
		wake: make(chan struct{}, 1), started: make(chan struct{}), stopped: make(chan struct{})}
}

// tenant returns tenant's state, creating it. f.mu must be held.
func (f *feed) tenant(name string) *tenantFeed {
	tf := f.tenants[name]
	if tf == nil {
		tf = &tenantFeed{}
		f.tenants[name] = tf
	}
	return tf
}

// markDirty records a reported change of tenant and wakes the retry loop.
func (r *Ring) markDirty(tenant string) {
	r.feed.mu.Lock()
	r.feed.tenant(tenant).gen++
	r.feed.mu.Unlock()
	select {
	case r.feed.wake <- struct{}{}:
	default:
	}
}

// live records the feed's confirmation at t. The first one also marks every
// tenant loaded before the feed listened as dirty: a change committed
// between that load and t was not reported.
func (r *Ring) live(t time.Time) {
	r.feed.mu.Lock()
	first := r.feed.liveAt.IsZero()
	r.feed.liveAt = t
	r.feed.mu.Unlock()
	if first {
		for _, v := range r.Views() {
			r.markDirty(v.Tenant.Name)
		}
		close(r.feed.started)
	}
}

// beginRefresh returns the tenant's change count and the instant a refresh
// begins reading, for refreshed.
func (r *Ring) beginRefresh(tenant string) (uint64, time.Time) {
	r.feed.mu.Lock()
	defer r.feed.mu.Unlock()
	return r.feed.tenant(tenant).gen, time.Now()
}

// refreshed records a successful refresh that began at start, after gen
// reported changes.
func (r *Ring) refreshed(tenant string, gen uint64, start time.Time) {
	r.feed.mu.Lock()
	defer r.feed.mu.Unlock()
	tf := r.feed.tenant(tenant)
	tf.done = max(tf.done, gen)
	if start.After(tf.loadedAt) {
		tf.loadedAt = start
	}
	tf.failures = 0
	delete(r.feed.broken, tenant)
}

// freshness returns the function a tenant's views call before signing.
func (r *Ring) freshness(tenant string) func() error {
	if r.cfg.MaxStaleness <= 0 {
		return nil
	}
	return func() error {
		now := time.Now()
		if err := r.staleness(tenant, now); err != nil {
			return err
		}
		if r.ack != nil {
			return r.ack.stale(now, r.cfg.MaxStaleness)
		}
		return nil
	}
}

// staleness returns nil if tenant's view is confirmed up to less than
// MaxStaleness before now, and otherwise an error matching ErrStale.
func (r *Ring) staleness(tenant string, now time.Time) error {
	r.feed.mu.Lock()
	tf := r.feed.tenants[tenant]
	var c time.Time
	if tf != nil {
		c = tf.loadedAt
		if tf.done >= tf.gen && r.feed.liveAt.After(c) {
			c = r.feed.liveAt
		}
	}
	r.feed.mu.Unlock()
	if age := now.Sub(c); age > r.cfg.MaxStaleness {
		if c.IsZero() {
			return fmt.Errorf("tenant %s: never loaded: %w", tenant, ErrStale)
		}
		return fmt.Errorf("tenant %s: view last confirmed %v ago, more than %v: %w", tenant, age.Round(time.Millisecond), r.cfg.MaxStaleness, ErrStale)
	}
	return nil
}

// Ready returns nil if the change feed listens, every tenant's view is
// confirmed current within Config.MaxStaleness (always nil if that is 0)
// and, with Config.Acks, this replica's heartbeat was recorded within
// MaxStaleness. Otherwise it returns an error naming the stale tenants,
// matching ErrStale. Tenants without a view (see Unavailable) do not count.
func (r *Ring) Ready() error {
	if err := r.feedReady(); err != nil {
		return err
	}
	if r.ack != nil && r.cfg.MaxStaleness > 0 {
		return r.ack.stale(time.Now(), r.cfg.MaxStaleness)
	}
	return nil
}

// feedReady is Ready without the heartbeat.
func (r *Ring) feedReady() error {
	if r.cfg.MaxStaleness <= 0 {
		return nil
	}
	now := time.Now()
	r.feed.mu.Lock()
	liveAt := r.feed.liveAt
	r.feed.mu.Unlock()
	if age := now.Sub(liveAt); liveAt.IsZero() || age > r.cfg.MaxStaleness {
		return fmt.Errorf("change feed not confirmed for more than %v: %w", r.cfg.MaxStaleness, ErrStale)
	}
	var errs []error
	for _, v := range r.Views() {
		if err := r.staleness(v.Tenant.Name, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Unavailable returns an error matching ErrUnavailable, naming the key, if
// host belongs to a tenant that has no view because its signing key cannot
// be opened, and nil otherwise.
func (r *Ring) Unavailable(host string) error {
	r.feed.mu.Lock()
	defer r.feed.mu.Unlock()
	for _, b := range r.feed.broken {
		if slices.Contains(b.hosts, host) {
			return b.err
		}
	}
	return nil
}

// Broken returns the tenants left without a view because their signing
// key cannot be opened, with the reason.
func (r *Ring) Broken() map[string]error {
	r.feed.mu.Lock()
	defer r.feed.mu.Unlock()
	out := make(map[string]error, len(r.feed.broken))
	for name, b := range r.feed.broken {
		out[name] = b.err
	}
	return out
}

// markBroken drops tenant's view (its hosts then get ErrUnavailable) because
// err, matching seal.ErrOpen, keeps it from being built; the tenant is no
// longer dirty, since retrying cannot help (the resync tries again).
func (r *Ring) markBroken(ctx context.Context, tenant string, err error) {
	t, terr := r.cfg.Store.Tenant(ctx, tenant)
	r.mu.Lock()
	if old := r.views[tenant]; old != nil {
		for _, h := range old.Tenant.Hosts {
			delete(r.hosts, h)
		}
		if terr != nil {
			t = old.Tenant
		}
		delete(r.views, tenant)
	}
	r.mu.Unlock()
	r.feed.mu.Lock()
	defer r.feed.mu.Unlock()
	tf := r.feed.tenant(tenant)
	tf.done = tf.gen
	r.feed.broken[tenant] = brokenTenant{hosts: t.Hosts, err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
}

// startFeed starts, once, following the store's change feed and retrying
// failed refreshes until ctx is done, and arms the signing-switch timers of
// views loaded before.
func (r *Ring) startFeed(ctx context.Context) {
	r.feed.once.Do(func() {
		r.runCtx.Store(&ctx)
		now := r.cfg.Now()
		for _, v := range r.Views() {
			if !v.switchAt.IsZero() {
				r.refreshAt(v.Tenant.Name, v.switchAt.Sub(now))
			}
		}
		go func() {
			err := r.cfg.Store.Watch(ctx, r.markDirty, r.live)
			if err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("watch store", "err", err)
			}
			r.feed.err = err
			close(r.feed.stopped)
		}()
		go r.retry(ctx)
		if r.ack != nil {
			r.runAcks(ctx)
		}
	})
}

// Start starts following the store's change feed (until ctx is done), waits
// until the feed listens and then loads every tenant (see Load): a change
// committed while it loads is reported by the feed. Call Run next.
// Returns ctx's error, the feed's error if it stops before listening, and
// Load's error.
func (r *Ring) Start(ctx context.Context) error {
	r.startFeed(ctx)
	select {
	case <-r.feed.started:
	case <-r.feed.stopped:
		return fmt.Errorf("watch store: %w", r.feed.err)
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.ack == nil {
		return r.Load(ctx)
	}
	// Know the others' positions before choosing signing keys, and be
	// counted by them (and sign) before serving.
	r.loadAcks(ctx)
	err := r.Load(ctx)
	r.heartbeat(ctx)
	return err
}

// retry refreshes every dirty tenant until ctx is done, retrying a failed
// refresh with backoff, without holding up the feed.
func (r *Ring) retry(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		due, next := r.dueTenants(now)
		for _, tenant := range due {
			rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
			err := r.Refresh(rctx, tenant)
			cancel()
			if ctx.Err() != nil {
				return
			}
			r.retried(ctx, tenant, err)
		}
		if len(due) > 0 {
			continue // look again: more may be due or dirty
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(now), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.feed.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// dueTenants returns the dirty tenants whose retry is due at now, and the
// earliest retry of the others (zero if none).
func (r *Ring) dueTenants(now time.Time) ([]string, time.Time) {
	r.feed.mu.Lock()
	defer r.feed.mu.Unlock()
	var due []string
	var next time.Time
	for _, name := range slices.Sorted(maps.Keys(r.feed.tenants)) {
		tf := r.feed.tenants[name]
		switch {
		case tf.done >= tf.gen:
		case !tf.retryAt.After(now):
			due = append(due, name)
		case next.IsZero() || tf.retryAt.Before(next):
			next = tf.retryAt
		}
	}
	return due, next
}

// retried records the outcome of a refresh the retry loop made.
func (r *Ring) retried(ctx context.Context, tenant string, err error) {
	switch {
	case err == nil:
		return
	case errors.Is(err, signet.ErrTenantNotFound):
		r.feed.mu.Lock()
		tf := r.feed.tenant(tenant)
		tf.done = tf.gen
		r.feed.mu.Unlock()
		return
	case errors.Is(err, seal.ErrOpen):
		r.cfg.Logger.Error("tenant cannot be served: a signing key cannot be opened", "tenant", tenant, "err", err)
		r.markBroken(ctx, tenant, err)
		return
	}
	r.feed.mu.Lock()
	tf := r.feed.tenant(tenant)
	tf.failures++
	n := tf.failures
	backoff := min(refreshMinBackoff<<min(n-1, 10), refreshMaxBackoff)
	tf.retryAt = time.Now().Add(backoff)
	r.feed.mu.Unlock()
	if n == 1 || n%30 == 0 {
		r.cfg.Logger.Error("refresh view", "tenant", tenant, "err", err, "failures", n, "retry_in", backoff)
	}
}
