package throttle

import (
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Limits are a Guard's bucket sizes and refill periods. A zero or negative
// field takes DefaultLimits' value.
type Limits struct {
	// AccountBurst failures are allowed per account and client IP before
	// that pair is slowed to one attempt every AccountEvery: failures from
	// one address do not hold the account's owner back at another.
	AccountBurst int
	AccountEvery time.Duration
	// AccountCeiling failures are allowed per account across all IPs
	// before it is slowed to one attempt every AccountCeilingEvery, except
	// from an IP the account has signed in from (see Guard).
	AccountCeiling      int
	AccountCeilingEvery time.Duration
	// IPBurst failures are allowed per client IP before it is slowed to
	// one attempt every IPEvery.
	IPBurst int
	IPEvery time.Duration
}

// DefaultLimits allow 10 failed sign-ins per account and IP, then one a
// minute; 100 per account across all IPs, then one a minute; and 50 per
// IP, then one every 10 seconds.
var DefaultLimits = Limits{AccountBurst: 10, AccountEvery: time.Minute,
	AccountCeiling: 100, AccountCeilingEvery: time.Minute,
	IPBurst: 50, IPEvery: 10 * time.Second}

const (
	// maxBuckets bounds each set's memory. When it is full, the fullest
	// buckets go first: an attacker who floods it with fresh keys only
	// makes it forget buckets that have nearly refilled anyway.
	maxBuckets = 100_000
	// pruneEvery is how often a set forgets the buckets that have refilled.
	pruneEvery = 10 * time.Minute
	// knownFor is how long an IP an account signed in from stays exempt
	// from the account's ceiling; maxKnown is how many IPs an account
	// keeps.
	knownFor = 30 * 24 * time.Hour
	maxKnown = 8
)

// Guard throttles failed sign-ins per (account, client IP), per account
// across all IPs (a higher ceiling), and per client IP. An IP the account
// has signed in from in the last 30 days is exempt from the ceiling, so
// that an attacker spread over many addresses slows the account but does
// not lock its owner out. Create it with New; it is safe for concurrent use.
type Guard struct {
	pair, account, ip limiter
	now               func() time.Time

	mu    sync.Mutex
	known map[string][]knownIP // account -> IPs it signed in from, oldest first
}

// knownIP is an IP an account signed in from, and until when it counts.
type knownIP struct {
	ip    string
	until time.Time
}

// New returns a Guard with limits l (zero fields take DefaultLimits') on the
// clock now (nil means time.Now).
func New(l Limits, now func() time.Time) *Guard {
	d := DefaultLimits
	for _, f := range []struct{ n, def *int }{{&l.AccountBurst, &d.AccountBurst},
		{&l.AccountCeiling, &d.AccountCeiling}, {&l.IPBurst, &d.IPBurst}} {
		if *f.n <= 0 {
			*f.n = *f.def
		}
	}
	for _, f := range []struct{ p, def *time.Duration }{{&l.AccountEvery, &d.AccountEvery},
		{&l.AccountCeilingEvery, &d.AccountCeilingEvery}, {&l.IPEvery, &d.IPEvery}} {
		if *f.p <= 0 {
			*f.p = *f.def
		}
	}
	if now == nil {
		now = time.Now
	}
	return &Guard{
		pair:    newLimiter(l.AccountBurst, l.AccountEvery),
		account: newLimiter(l.AccountCeiling, l.AccountCeilingEvery),
		ip:      newLimiter(l.IPBurst, l.IPEvery),
		now:     now,
	}
}

// pairKey is the key of account at ip in the per-pair set.
func pairKey(account, ip string) string { return account + "\x00" + ip }

// Wait returns how long until account may try again from ip: the longest
// of its buckets' waits (the account's ceiling only if ip is not one the
// account signed in from); 0 means now.
func (g *Guard) Wait(account, ip string) time.Duration {
	now := g.now()
	w := max(g.pair.wait(pairKey(account, ip), now), g.ip.wait(ip, now))
	if !g.isKnown(account, ip, now) {
		w = max(w, g.account.wait(account, now))
	}
	return w
}

// Fail records a failed sign-in for account from ip.
func (g *Guard) Fail(account, ip string) {
	now := g.now()
	g.pair.spend(pairKey(account, ip), now)
	g.account.spend(account, now)
	g.ip.spend(ip, now)
}

// Succeed records a successful sign-in for account from ip: the pair's
// bucket is full again, and ip is exempt from the account's ceiling for 30
// days. The ceiling itself is not refilled: the failures it counts may be
// an attacker's, who goes on.
func (g *Guard) Succeed(account, ip string) {
	now := g.now()
	g.pair.reset(pairKey(account, ip))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known == nil {
		g.known = map[string][]knownIP{}
	}
	ks := g.known[account]
	if ks == nil && len(g.known) >= maxBuckets {
		for a, ks := range g.known {
			if !ks[len(ks)-1].until.After(now) {
				delete(g.known, a)
			}
		}
		for a := range g.known { // still full: forget a tenth at random
			if len(g.known) <= maxBuckets*9/10 {
				break
			}
			delete(g.known, a)
		}
	}
	ks = slices.DeleteFunc(ks, func(k knownIP) bool { return k.ip == ip || !k.until.After(now) })
	if len(ks) >= maxKnown {
		ks = ks[len(ks)-maxKnown+1:]
	}
	g.known[account] = append(ks, knownIP{ip: ip, until: now.Add(knownFor)})
}

// isKnown reports whether account signed in from ip within knownFor.
func (g *Guard) isKnown(account, ip string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.ContainsFunc(g.known[account], func(k knownIP) bool { return k.ip == ip && k.until.After(now) })
}

// RetryAfter returns d in whole seconds, rounded up and at least 1: the
// value of a Retry-After header for a Wait of d.
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// IP returns the key of r's client for a Guard: the TCP peer address, with
// an IPv6 address cut to its /64 prefix (which one host usually holds
// whole). X-Forwarded-For is not trusted: behind a proxy every client
// shares the proxy's limit.
func IP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// limiter is a set of token buckets by key. A bucket is kept as the time
// at which it is full again, so all arithmetic is on exact durations: at
// now it holds burst - (full-now)/every attempts (burst once full <= now).
type limiter struct {
	// every is the refill period of one attempt; span = burst*every is
	// the time an empty bucket takes to refill.
	every, span time.Duration

	mu      sync.Mutex
	buckets map[string]time.Time // key -> when its bucket is full again
	pruned  time.Time
}

// newLimiter returns a set of buckets of burst attempts that refill by one
// every every (both positive).
func newLimiter(burst int, every time.Duration) limiter {
	span := time.Duration(math.MaxInt64 / 4)
	if int64(burst) < int64(span/every) {
		span = time.Duration(burst) * every
	}
	return limiter{every: every, span: span}
}

// wait returns how long until key has an attempt left; 0 means now.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	full, ok := l.buckets[key]
	if !ok {
		return 0
	}
	// Fewer than one attempt is left while the bucket is more than
	// span-every short of full; the excess is the wait.
	return max(0, full.Sub(now)-(l.span-l.every))
}

// spend takes one attempt from key's bucket (never below zero).
func (l *limiter) spend(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]time.Time{}
		l.pruned = now
	}
	if now.Sub(l.pruned) >= pruneEvery {
		l.prune(now)
	}
	full, ok := l.buckets[key]
	if !ok && len(l.buckets) >= maxBuckets {
		l.evict(now)
	}
	if full.Before(now) {
		full = now
	}
	l.buckets[key] = minTime(full.Add(l.every), now.Add(l.span))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// reset forgets key: its bucket is full again.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}

// prune forgets the buckets that have refilled. l.mu is held.
func (l *limiter) prune(now time.Time) {
	for k, full := range l.buckets {
		if !full.After(now) {
			delete(l.buckets, k)
		}
	}
	l.pruned = now
}

// evict makes room: it drops refilled buckets, and if none has refilled,
// the fullest, a tenth of span at a time, until a tenth is gone. l.mu is
// held.
func (l *limiter) evict(now time.Time) {
	n := len(l.buckets)
	l.prune(now)
	step := max(l.span/10, 1)
	for cut := now.Add(step); len(l.buckets) > n*9/10; cut = cut.Add(step) {
		for k, full := range l.buckets {
			if !full.After(cut) {
				delete(l.buckets, k)
			}
		}
	}
}
