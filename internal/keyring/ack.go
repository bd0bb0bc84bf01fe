package keyring

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/secret"
)

// Acknowledgements (Config.Acks).
//
// Every keyset change advances the tenant's change position
// (signet.Keyset.Position), and every key carries the position of the
// change that stored it, the first whose keyset publishes it. Each replica
// records in the store, with a heartbeat, the position each of its views
// serves (Store.Heartbeat). A replica whose heartbeat is at most
// MaxStaleness old is live; a replica whose heartbeat could not be recorded
// for MaxStaleness stops signing itself (its views' Signer refuses with
// ErrStale), and one whose change feed is stale records none.
//
// A key at position p is acknowledged for a tenant when every live replica
// that serves the tenant serves a position >= p: its JWKS publishes the key
// (keys stay published until revoked). A view signs with its current key
// once the key is acknowledged, and until then with the most recent earlier
// key that is (never past a revoked one). If there is none, because the key
// before was revoked, it signs with the current key but each signature
// first waits, up to 2×MaxStaleness, for the acknowledgement: the wait ends
// as soon as the lagging replicas acknowledge or their heartbeats expire.
// The acknowledgements are loaded in the background (every heartbeat
// interval, and every ackPoll while something waits for them), so signing
// and the JWKS never read the store.

// ackPoll is how often the acknowledgements are reloaded while a view or a
// rotation waits for them.
const ackPoll = 20 * time.Millisecond

// acks is what a Ring knows of the other replicas' acknowledgements.
type acks struct {
	id string // this replica's id in the store

	mu       sync.Mutex
	loaded   bool             // others has been loaded once
	others   []signet.Replica // the live replicas other than this one
	beatSent time.Time        // when the last recorded heartbeat was sent
	gates    map[gateKey]*gate
	failures int // consecutive failed heartbeats or loads, for logging

	beat chan struct{} // capacity 1: record a heartbeat now
	poll chan struct{} // capacity 1: reload the acknowledgements now
}

type gateKey struct {
	tenant string
	pos    int64
}

// gate is closed once a tenant's position is acknowledged, or when a wait
// for it gives up.
type gate struct {
	done chan struct{}
	once sync.Once
}

func (g *gate) open() { g.once.Do(func() { close(g.done) }) }

// wait waits until g is done or for at most d; after a wait that gives up,
// g is done (later signatures do not wait again). It reports whether the
// acknowledgement came. A nil gate is done.
func (g *gate) wait(ctx context.Context, d time.Duration) bool {
	if g == nil {
		return true
	}
	select {
	case <-g.done:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-g.done:
		return true
	case <-t.C:
		g.open()
		return false
	case <-ctx.Done():
		return false
	}
}

func newAcks(name string) *acks {
	id := secret.ID(12)
	if name != "" {
		id = name + "/" + id
	}
	return &acks{id: id, gates: map[gateKey]*gate{}, beat: make(chan struct{}, 1), poll: make(chan struct{}, 1)}
}

// signal wakes a loop waiting on c.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// ackedLocked reports whether every live replica serving tenant serves a
// position >= pos. a.mu must be held.
func (a *acks) ackedLocked(tenant string, pos int64) bool {
	if !a.loaded {
		return false
	}
	for _, r := range a.others {
		if p, ok := r.Positions[tenant]; ok && p < pos {
			return false
		}
	}
	return true
}

// acked reports whether every live replica serving tenant serves a
// position >= pos, as last loaded.
func (a *acks) acked(tenant string, pos int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ackedLocked(tenant, pos)
}

// gate returns the gate of tenant's position pos: done if pos is acknowledged.
func (a *acks) gate(tenant string, pos int64) *gate {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := gateKey{tenant, pos}
	g := a.gates[k]
	if g == nil {
		g = &gate{done: make(chan struct{})}
		if a.ackedLocked(tenant, pos) {
			g.open()
		} else {
			a.gates[k] = g
			signal(a.poll)
		}
	}
	return g
}

// lagging describes the live replicas that serve tenant at a position
// below pos.
func (a *acks) lagging(tenant string, pos int64) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.others {
		if p, ok := r.Positions[tenant]; ok && p < pos {
			out = append(out, fmt.Sprintf("%s (at position %d, heartbeat %v ago)", r.ID, p, r.Age.Round(time.Millisecond)))
		}
	}
	return out
}

// stale returns an error matching ErrStale if no heartbeat sent in the last
// maxAge was recorded.
func (a *acks) stale(now time.Time, maxAge time.Duration) error {
	a.mu.Lock()
	sent := a.beatSent
	a.mu.Unlock()
	if age := now.Sub(sent); age > maxAge {
		if sent.IsZero() {
			return fmt.Errorf("this replica's heartbeat was never recorded: %w", ErrStale)
		}
		return fmt.Errorf("this replica's heartbeat was last recorded %v ago, more than %v: %w", age.Round(time.Millisecond), maxAge, ErrStale)
	}
	return nil
}

// failed counts a failed heartbeat or load and reports whether to log it.
func (a *acks) failed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures++
	return a.failures == 1 || a.failures%30 == 0
}

// beatInterval is how often a replica records its heartbeat and reloads the
// acknowledgements when nothing waits for them.
func (r *Ring) beatInterval() time.Duration {
	return min(time.Second, r.cfg.MaxStaleness/5)
}

// heartbeat records the position of every view in the store, unless the
// change feed cannot confirm the views (then the heartbeat expires and the
// other replicas stop counting this one, which stops signing).
func (r *Ring) heartbeat(ctx context.Context) {
	if r.feedReady() != nil {
		return
	}
	positions := map[string]int64{}
	for _, v := range r.Views() {
		positions[v.Tenant.Name] = v.Keyset.Position
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.MaxStaleness)
	defer cancel()
	if err := r.cfg.Store.Heartbeat(ctx, r.ack.id, positions); err != nil {
		if ctx.Err() == nil && r.ack.failed() {
			r.cfg.Logger.Error("record heartbeat", "replica", r.ack.id, "err", err)
		}
		return
	}
	r.ack.mu.Lock()
	if sent.After(r.ack.beatSent) {
		r.ack.beatSent = sent
	}
	r.ack.failures = 0
	r.ack.mu.Unlock()
}

// loadAcks loads the live replicas' positions, opens the gates they
// acknowledge and rebuilds the views that can now sign with their current
// key.
func (r *Ring) loadAcks(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, r.cfg.MaxStaleness)
	rs, err := r.cfg.Store.Replicas(lctx, r.cfg.MaxStaleness)
	cancel()
	if err != nil {
		if ctx.Err() == nil && r.ack.failed() {
			r.cfg.Logger.Error("load replica acknowledgements", "err", err)
		}
		return
	}
	rs = slices.DeleteFunc(rs, func(x signet.Replica) bool { return x.ID == r.ack.id })
	a := r.ack
	a.mu.Lock()
	a.others, a.loaded = rs, true
	for k, g := range a.gates {
		select {
		case <-g.done: // a signature gave up waiting
			delete(a.gates, k)
			continue
		default:
		}
		if a.ackedLocked(k.tenant, k.pos) {
			g.open()
			delete(a.gates, k)
		}
	}
	a.mu.Unlock()
	for _, v := range r.Views() {
		if v.waitPos > 0 && a.acked(v.Tenant.Name, v.waitPos) {
			if err := r.Refresh(ctx, v.Tenant.Name); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("refresh view", "tenant", v.Tenant.Name, "err", err)
				r.markDirty(v.Tenant.Name)
			}
		}
	}
}

// waitingForAcks reports whether a view or a rotation waits for an
// acknowledgement.
func (r *Ring) waitingForAcks() bool {
	r.ack.mu.Lock()
	n := len(r.ack.gates)
	r.ack.mu.Unlock()
	if n > 0 {
		return true
	}
	return slices.ContainsFunc(r.Views(), func(v *View) bool { return v.waitPos > 0 })
}

// runAcks records heartbeats and loads acknowledgements until ctx is done,
// then removes this replica's heartbeat from the store.
func (r *Ring) runAcks(ctx context.Context) {
	go func() {
		t := time.NewTicker(r.beatInterval())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				rctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				if err := r.cfg.Store.RemoveReplica(rctx, r.ack.id); err != nil {
					r.cfg.Logger.Warn("remove replica heartbeat", "replica", r.ack.id, "err", err)
				}
				return
			case <-t.C:
			case <-r.ack.beat:
			}
			r.heartbeat(ctx)
		}
	}()
	go func() {
		timer := time.NewTimer(0)
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			case <-r.ack.poll:
			}
			r.loadAcks(ctx)
			wait := r.beatInterval()
			if r.waitingForAcks() {
				wait = ackPoll
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(wait)
		}
	}()
}

// awaitRotation waits, after a rotate-and-revoke, until every live replica
// acknowledges the new current key cur, for at most 2×MaxStaleness. It
// returns a warning naming the replicas that had not, if it gave up.
func (r *Ring) awaitRotation(ctx context.Context, tenant string, cur signet.Key) string {
	if r.ack == nil {
		return ""
	}
	bound := 2 * r.cfg.MaxStaleness
	g := r.ack.gate(tenant, cur.Position)
	select {
	case <-g.done:
		return ""
	default:
	}
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-g.done:
		return ""
	case <-ctx.Done():
	case <-t.C:
	}
	lag := r.ack.lagging(tenant, cur.Position)
	if len(lag) == 0 {
		return ""
	}
	slices.Sort(lag)
	return fmt.Sprintf("Replicas %s had not acknowledged the new current key %s (position %d) after %v: they may not publish it yet, and this replica signs with it anyway.",
		strings.Join(lag, ", "), cur.KID, cur.Position, bound)
}

// ReplicaID returns this replica's id in the store's heartbeats; "" without
// Config.Acks.
func (r *Ring) ReplicaID() string {
	if r.ack == nil {
		return ""
	}
	return r.ack.id
}

// Acknowledgements returns the other live replicas and the positions they
// serve, as last loaded (nil without Config.Acks): for diagnostics.
func (r *Ring) Acknowledgements() []signet.Replica {
	if r.ack == nil {
		return nil
	}
	r.ack.mu.Lock()
	defer r.ack.mu.Unlock()
	out := make([]signet.Replica, len(r.ack.others))
	for i, x := range r.ack.others {
		x.Positions = maps.Clone(x.Positions)
		out[i] = x
	}
	return out
}
