package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Change is one rotation the run made and how it reached every replica.
type Change struct {
	Seq  int    `json:"seq"`
	Kind string `json:"kind"` // "rotate" or "rotate_and_revoke"
	Via  string `json:"via"`
	// At is when the request was sent: propagation delays count from it.
	At        time.Time `json:"at"`
	LatencyMS float64   `json:"latency_ms"`
	// Current is the key that became current, Next the fresh next key,
	// Revoked the key revoked (rotate_and_revoke only).
	Current string `json:"current"`
	Next    string `json:"next"`
	Revoked string `json:"revoked,omitempty"`
	// PropagationMS is, per replica in URL order, how long after At a read
	// of its JWKS first showed the change (the fresh next key published, the
	// revoked key gone), measured when that read's answer arrived; -1 if it
	// did not within PropagationTimeout.
	PropagationMS []float64 `json:"propagation_ms"`
}

// rotate makes a change every RotateEvery until runCtx ends, and tracks each
// change's propagation (under ctx) in a goroutine counted by trackers.
func (r *runner) rotate(runCtx, ctx context.Context, trackers *sync.WaitGroup) {
	tick := time.NewTicker(r.cfg.RotateEvery)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-runCtx.Done():
			return
		case <-tick.C:
		}
		revoke := r.cfg.RevokeEvery > 0 && n%r.cfg.RevokeEvery == 0
		ch, err := r.change(ctx, n, revoke)
		if err != nil {
			r.mu.Lock()
			r.changeErrors = append(r.changeErrors, fmt.Sprintf("change %d: %v", n, err))
			r.mu.Unlock()
			r.cfg.Logger.Error("change failed", "seq", n, "err", err)
			continue
		}
		r.cfg.Logger.Info("change", "seq", n, "kind", ch.Kind, "current", ch.Current, "next", ch.Next, "revoked", ch.Revoked)
		r.mu.Lock()
		r.changes = append(r.changes, ch)
		r.mu.Unlock()
		trackers.Go(func() { r.track(ctx, ch) })
	}
}

// keyObject is the part of a Management API signing key the run reads.
type keyObject struct {
	KID     string `json:"kid"`
	Current bool   `json:"current"`
	Next    bool   `json:"next"`
	Revoked bool   `json:"revoked"`
}

// change rotates (and revokes, if revoke) through the chosen replica with a
// fresh Management API token, and reads the keys before and after to learn
// the fresh next key and the revoked one.
func (r *runner) change(ctx context.Context, seq int, revoke bool) (*Change, error) {
	via := r.cfg.RotateVia
	before, err := r.keys(ctx, via)
	if err != nil {
		return nil, err
	}
	tok, err := r.token(ctx, via, r.cfg.Admin)
	if err != nil {
		return nil, fmt.Errorf("management token: %w", err)
	}
	path, kind := "/api/v2/keys/signing/rotate", "rotate"
	if revoke {
		path, kind = path+"?revoke_current=true", "rotate_and_revoke"
	}
	ch := &Change{Seq: seq, Kind: kind, Via: r.urls[via], At: time.Now()}
	if revoke {
		// Tokens of the current key may fail from now on: record it before
		// the request, so no such failure is taken for a bug.
		r.mu.Lock()
		r.revokedAt[before.current] = ch.At
		r.mu.Unlock()
	}
	status, body, err := r.do(ctx, via, http.MethodPost, path, tok, nil)
	ch.LatencyMS = ms(time.Since(ch.At))
	if err == nil && status != http.StatusCreated {
		err = &statusError{status, truncate(body)}
	}
	if err != nil {
		if revoke {
			r.unrevoked(ctx, via, before.current)
		}
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	var rotated struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(body, &rotated); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	ch.Current = rotated.KID
	after, err := r.keys(ctx, via)
	if err != nil {
		return nil, err
	}
	ch.Next = after.next
	if revoke {
		if !slices.Contains(after.revoked, before.current) {
			return nil, fmt.Errorf("rotate-and-revoke left %s unrevoked", before.current)
		}
		ch.Revoked = before.current
	}
	if ch.Current != before.next || after.current != ch.Current {
		return nil, fmt.Errorf("rotation promoted %s, current is %s, the next key was %s: another change interleaved",
			ch.Current, after.current, before.next)
	}
	return ch, nil
}

// unrevoked forgets that kid was revoked unless replica i lists it as
// revoked (a failed request may still have committed), so that failures of
// its tokens are not excused.
func (r *runner) unrevoked(ctx context.Context, i int, kid string) {
	if ks, err := r.keys(ctx, i); err == nil && slices.Contains(ks.revoked, kid) {
		return
	}
	r.mu.Lock()
	delete(r.revokedAt, kid)
	r.mu.Unlock()
}

// keyStates is a replica's answer to GET /api/v2/keys/signing.
type keyStates struct {
	current, next string
	revoked       []string
}

// keys lists replica i's signing keys with a fresh Management API token
// (the last one's key may have been revoked since).
func (r *runner) keys(ctx context.Context, i int) (keyStates, error) {
	tok, err := r.token(ctx, i, r.cfg.Admin)
	if err != nil {
		return keyStates{}, fmt.Errorf("management token: %w", err)
	}
	status, body, err := r.do(ctx, i, http.MethodGet, "/api/v2/keys/signing", tok, nil)
	if err == nil && status != http.StatusOK {
		err = &statusError{status, truncate(body)}
	}
	var ks []keyObject
	if err == nil {
		err = json.Unmarshal(body, &ks)
	}
	if err != nil {
		return keyStates{}, fmt.Errorf("GET /api/v2/keys/signing: %w", err)
	}
	var out keyStates
	for _, k := range ks {
		switch {
		case k.Current:
			out.current = k.KID
		case k.Next:
			out.next = k.KID
		case k.Revoked:
			out.revoked = append(out.revoked, k.KID)
		}
	}
	if out.current == "" || out.next == "" {
		return keyStates{}, fmt.Errorf("GET /api/v2/keys/signing: no current or no next key: %s", truncate(body))
	}
	return out, nil
}

// track reads every replica's JWKS every PollInterval until it shows ch.
func (r *runner) track(ctx context.Context, ch *Change) {
	delays := make([]float64, len(r.urls))
	var wg sync.WaitGroup
	for i := range r.urls {
		wg.Go(func() {
			delays[i] = -1
			deadline := ch.At.Add(r.cfg.PropagationTimeout)
			for ctx.Err() == nil {
				kids, err := r.publishedKIDs(ctx, i)
				now := time.Now()
				if err == nil && slices.Contains(kids, ch.Next) && (ch.Revoked == "" || !slices.Contains(kids, ch.Revoked)) {
					delays[i] = ms(now.Sub(ch.At))
					return
				}
				if now.After(deadline) {
					return
				}
				time.Sleep(r.cfg.PollInterval)
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	ch.PropagationMS = delays
	r.mu.Unlock()
}

// publishedKIDs reads replica i's JWKS afresh and returns its kids.
func (r *runner) publishedKIDs(ctx context.Context, i int) ([]string, error) {
	status, body, err := r.do(ctx, i, http.MethodGet, "/.well-known/jwks.json", "", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &statusError{status, truncate(body)}
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.KID
	}
	return kids, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
