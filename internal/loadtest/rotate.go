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
	// At is when the request was sent, and LatencyMS how long its answer took.
	At        time.Time `json:"at"`
	LatencyMS float64   `json:"latency_ms"`
	// Current is the key that became current, Next the fresh next key,
	// Revoked the key revoked (rotate_and_revoke only).
	Current string `json:"current"`
	Next    string `json:"next"`
	Revoked string `json:"revoked,omitempty"`
	// PropagationMS is, per replica in URL order, how long after At a read
	// of its JWKS first showed the change (a fresh key published and, for
	// rotate_and_revoke, the revoked key gone), counted when that read's
	// answer arrived: an upper bound of the delay from the commit, which
	// happens during the request. Reads start when the request is sent and
	// repeat every PollInterval. -1: not within PropagationTimeout.
	PropagationMS []float64 `json:"propagation_ms"`
	// AfterAnswerMS is the same counted from the rotate answer (0 if the
	// replica showed the change before the answer arrived): a lower bound.
	AfterAnswerMS []float64 `json:"after_answer_ms"`
}

// Burst is the burst of concurrent rotations a run made (Config.Burst).
type Burst struct {
	At time.Time `json:"at"`
	// Requests were sent at once, spread over the replicas; OK answered 201.
	Requests int `json:"requests"`
	// Revokes of the Requests were rotate-and-revoke.
	Revokes int            `json:"revokes,omitempty"`
	OK      int            `json:"ok"`
	Errors  map[string]int `json:"errors,omitempty"`
	// Took is how long the last answer took.
	Took float64 `json:"took_ms"`
}

// rotate makes a change RotateEvery after the previous one was answered
// (so that slow answers never bring two changes closer together) until
// runCtx ends, and tracks each change's propagation (under ctx) in a
// goroutine counted by trackers.
func (r *runner) rotate(runCtx, ctx context.Context, trackers *sync.WaitGroup) {
	for n := 1; ; n++ {
		select {
		case <-runCtx.Done():
			return
		case <-time.After(r.cfg.RotateEvery):
		}
		revoke := r.cfg.RevokeEvery > 0 && n%r.cfg.RevokeEvery == 0
		ch, wait, err := r.change(ctx, n, revoke)
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
		trackers.Go(wait)
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
// the fresh next key and the revoked one. It starts reading every replica's
// JWKS when it sends the request; wait waits for that and fills in the
// change's propagation delays.
func (r *runner) change(ctx context.Context, seq int, revoke bool) (ch *Change, wait func(), err error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	via := r.cfg.RotateVia
	before, err := r.keys(ctx, via)
	if err != nil {
		return nil, nil, err
	}
	tok, err := r.token(ctx, via, r.cfg.Admin)
	if err != nil {
		return nil, nil, fmt.Errorf("management token: %w", err)
	}
	path, kind := "/api/v2/keys/signing/rotate", "rotate"
	if revoke {
		path, kind = path+"?revoke_current=true", "rotate_and_revoke"
	}
	ch = &Change{Seq: seq, Kind: kind, Via: r.urls[via]}
	if revoke {
		ch.Revoked = before.current
	}
	trackCtx, cancel := context.WithCancel(ctx)
	ch.At = time.Now()
	if revoke {
		// Tokens of the current key may fail from now on: record it before
		// the request, so no such failure is taken for a bug.
		r.mu.Lock()
		r.revokedAt[before.current] = ch.At
		r.mu.Unlock()
	}
	seen := r.track(trackCtx, ch, before.all)
	wait = func() {
		defer cancel()
		at := seen()
		r.mu.Lock()
		defer r.mu.Unlock()
		answered := ch.At.Add(time.Duration(ch.LatencyMS * float64(time.Millisecond)))
		for _, t := range at {
			if t.IsZero() {
				ch.PropagationMS = append(ch.PropagationMS, -1)
				ch.AfterAnswerMS = append(ch.AfterAnswerMS, -1)
				continue
			}
			ch.PropagationMS = append(ch.PropagationMS, ms(t.Sub(ch.At)))
			ch.AfterAnswerMS = append(ch.AfterAnswerMS, ms(max(0, t.Sub(answered))))
		}
	}
	fail := func(err error) (*Change, func(), error) {
		cancel()
		seen()
		return nil, nil, err
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
		return fail(fmt.Errorf("POST %s: %w", path, err))
	}
	var rotated struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(body, &rotated); err != nil {
		return fail(fmt.Errorf("POST %s: %w", path, err))
	}
	ch.Current = rotated.KID
	after, err := r.keys(ctx, via)
	if err != nil {
		return fail(err)
	}
	ch.Next = after.next
	if revoke && !slices.Contains(after.revoked, before.current) {
		return fail(fmt.Errorf("rotate-and-revoke left %s unrevoked", before.current))
	}
	if ch.Current != before.next || after.current != ch.Current {
		return fail(fmt.Errorf("rotation promoted %s, current is %s, the next key was %s: another change interleaved",
			ch.Current, after.current, before.next))
	}
	return ch, wait, nil
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
	all           []string
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
		out.all = append(out.all, k.KID)
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

// track reads every replica's JWKS every PollInterval, from now until it
// shows ch: a kid not among known (the fresh next key) and, if ch revokes,
// not ch.Revoked. seen waits and returns, per replica, when the answer that
// first showed it arrived (zero if none did within PropagationTimeout or
// before ctx ended).
func (r *runner) track(ctx context.Context, ch *Change, known []string) (seen func() []time.Time) {
	at := make([]time.Time, len(r.urls))
	var wg sync.WaitGroup
	for i := range r.urls {
		wg.Go(func() {
			deadline := time.Now().Add(r.cfg.PropagationTimeout)
			for ctx.Err() == nil {
				kids, err := r.publishedKIDs(ctx, i)
				now := time.Now()
				if err == nil && slices.ContainsFunc(kids, func(k string) bool { return !slices.Contains(known, k) }) &&
					(ch.Revoked == "" || !slices.Contains(kids, ch.Revoked)) {
					at[i] = now
					return
				}
				if now.After(deadline) {
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(r.cfg.PollInterval):
				}
			}
		})
	}
	return func() []time.Time { wg.Wait(); return at }
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

// burst sends Config.Burst rotations at once, spread over the replicas,
// half-way through the run (no change runs meanwhile), and records them.
func (r *runner) burst(runCtx, ctx context.Context) {
	select {
	case <-runCtx.Done():
		return
	case <-time.After(r.cfg.Duration / 2):
	}
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	b := &Burst{Requests: r.cfg.Burst, Errors: map[string]int{}}
	tokens := make([]string, len(r.urls))
	for i := range tokens {
		tok, err := r.token(ctx, i, r.cfg.Admin)
		if err != nil {
			b.Errors[fmt.Sprintf("%s: management token: %v", r.urls[i], err)]++
			r.setBurst(b)
			return
		}
		tokens[i] = tok
	}
	before, err := r.keys(ctx, r.cfg.RotateVia)
	if err != nil {
		b.Errors[fmt.Sprintf("%s: %v", r.urls[r.cfg.RotateVia], err)]++
		r.setBurst(b)
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for n := range r.cfg.Burst {
		i := n % len(r.urls)
		path := "/api/v2/keys/signing/rotate"
		if r.cfg.BurstRevokeEvery > 0 && (n+1)%r.cfg.BurstRevokeEvery == 0 {
			path += "?revoke_current=true"
			b.Revokes++
		}
		wg.Go(func() {
			<-start
			status, body, err := r.do(ctx, i, http.MethodPost, path, tokens[i], nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				b.Errors[r.urls[i]+": request failed"]++
			case status != http.StatusCreated:
				b.Errors[fmt.Sprintf("%s: status %d: %s", r.urls[i], status, truncate(body))]++
			default:
				b.OK++
			}
		})
	}
	b.At = time.Now()
	close(start)
	wg.Wait()
	b.Took = ms(time.Since(b.At))
	r.cfg.Logger.Info("burst", "requests", b.Requests, "ok", b.OK)
	r.setBurst(b)
	// The next change reads the keys from one replica's view: let every
	// view reach the burst's last state first, or that read may be a
	// state behind and the change look interleaved.
	r.settle(ctx, 5*time.Second)
	if b.Revokes == 0 {
		return
	}
	// Which keys the burst revoked is known only now: their tokens may
	// fail from the burst's start.
	after, err := r.keys(ctx, r.cfg.RotateVia)
	if err != nil {
		r.mu.Lock()
		r.changeErrors = append(r.changeErrors, fmt.Sprintf("burst: %v", err))
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	for _, kid := range after.revoked {
		if !slices.Contains(before.revoked, kid) {
			r.revokedAt[kid] = b.At
		}
	}
	r.mu.Unlock()
}

// settle waits, at most limit, until every replica lists the same keys in
// the same states.
func (r *runner) settle(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		same := true
		var first keyStates
		for i := range r.urls {
			ks, err := r.keys(ctx, i)
			if err != nil {
				same = false
				break
			}
			if i == 0 {
				first = ks
			} else if ks.current != first.current || ks.next != first.next || !slices.Equal(ks.all, first.all) {
				same = false
				break
			}
		}
		if same {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *runner) setBurst(b *Burst) {
	r.mu.Lock()
	r.bursts = append(r.bursts, b)
	r.mu.Unlock()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
