package throttle

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits are a Guard's bucket sizes and refill periods. A zero or negative
// field takes DefaultLimits' value.
type Limits struct {
	// AccountBurst failures are allowed per account before it is slowed
	// to one attempt every AccountEvery.
	AccountBurst int
	AccountEvery time.Duration
	// IPBurst failures are allowed per client IP before it is slowed to
	// one attempt every IPEvery.
	IPBurst int
	IPEvery time.Duration
}

// DefaultLimits allow 10 failed sign-ins per account, then one a minute,
// and 50 per IP, then one every 10 seconds.
var DefaultLimits = Limits{AccountBurst: 10, AccountEvery: time.Minute, IPBurst: 50, IPEvery: 10 * time.Second}

const (
	// maxBuckets bounds each set's memory. When it is full, the fullest
	// buckets go first: an attacker who floods it with fresh keys only
	// makes it forget buckets that have nearly refilled anyway.
	maxBuckets = 100_000
	// pruneEvery is how often a set forgets the buckets that have refilled.
	pruneEvery = 10 * time.Minute
)

// Guard throttles failed sign-ins per account and per client IP. Create it
// with New; it is safe for concurrent use.
type Guard struct {
	account, ip limiter
	now         func() time.Time
}

// New returns a Guard with limits l (zero fields take DefaultLimits') on the
// clock now (nil means time.Now).
func New(l Limits, now func() time.Time) *Guard {
	d := DefaultLimits
	if l.AccountBurst <= 0 {
		l.AccountBurst = d.AccountBurst
	}
	if l.AccountEvery <= 0 {
		l.AccountEvery = d.AccountEvery
	}
	if l.IPBurst <= 0 {
		l.IPBurst = d.IPBurst
	}
	if l.IPEvery <= 0 {
		l.IPEvery = d.IPEvery
	}
	if now == nil {
		now = time.Now
	}
	return &Guard{
		account: newLimiter(l.AccountBurst, l.AccountEvery),
		ip:      newLimiter(l.IPBurst, l.IPEvery),
		now:     now,
	}
}

// Wait returns how long until account may try again from ip: the longer of
// the two buckets' waits; 0 means now.
func (g *Guard) Wait(account, ip string) time.Duration {
	now := g.now()
	return max(g.account.wait(account, now), g.ip.wait(ip, now))
}

// Fail records a failed sign-in for account from ip.
func (g *Guard) Fail(account, ip string) {
	now := g.now()
	g.account.spend(account, now)
	g.ip.spend(ip, now)
}

// Succeed records a successful sign-in: account's bucket is full again.
func (g *Guard) Succeed(account string) { g.account.reset(account) }

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
