package oidc

import (
	"math"
	"sync"
	"time"
)

// Limits slow down password guessing on the login form. Each failed sign-in
// spends one attempt from the account's bucket and one from the client IP's;
// a bucket refills by one attempt every Every, up to Burst. While either
// bucket is empty, sign-ins for that account or from that IP are refused
// without checking the password. A successful sign-in refills the account's
// bucket (not the IP's).
//
// A zero field takes DefaultLimits' value. The buckets live in the memory
// of each replica: with N replicas behind a load balancer an attacker gets
// at most N times the attempts.
type Limits struct {
	AccountBurst int
	AccountEvery time.Duration
	IPBurst      int
	IPEvery      time.Duration
}

// DefaultLimits allow 10 failed sign-ins per account, then one a minute,
// and 50 per IP, then one every 10 seconds.
var DefaultLimits = Limits{AccountBurst: 10, AccountEvery: time.Minute, IPBurst: 50, IPEvery: 10 * time.Second}

// maxBuckets bounds each limiter's memory. When it is full, the fullest
// buckets go first; an attacker who floods it with fresh keys only forgets
// buckets that are nearly refilled anyway.
const maxBuckets = 100_000

// guard holds the account and IP limiters.
type guard struct {
	account, ip *limiter
}

func newGuard(l Limits) *guard {
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
	return &guard{
		account: &limiter{burst: float64(max(l.AccountBurst, 1)), every: max(l.AccountEvery, time.Millisecond)},
		ip:      &limiter{burst: float64(max(l.IPBurst, 1)), every: max(l.IPEvery, time.Millisecond)},
	}
}

// wait returns how long until both the account and the IP may try again; 0
// means now.
func (g *guard) wait(account, ip string, now time.Time) time.Duration {
	return max(g.account.wait(account, now), g.ip.wait(ip, now))
}

// fail records a failed sign-in.
func (g *guard) fail(account, ip string, now time.Time) {
	g.account.spend(account, now)
	g.ip.spend(ip, now)
}

// succeed records a successful sign-in.
func (g *guard) succeed(account string) { g.account.reset(account) }

func (g *guard) prune(now time.Time) {
	g.account.prune(now)
	g.ip.prune(now)
}

// limiter is a set of token buckets by key.
type limiter struct {
	burst float64
	every time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// level returns b's tokens at now.
func (l *limiter) level(b *bucket, now time.Time) float64 {
	if d := now.Sub(b.at); d > 0 {
		return math.Min(l.burst, b.tokens+float64(d)/float64(l.every))
	}
	return b.tokens
}

// wait returns how long until key has an attempt left; 0 means now.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	t := l.level(b, now)
	if t >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - t) * float64(l.every)))
}

// spend takes one attempt from key's bucket (never below zero).
func (l *limiter) spend(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Max(0, l.level(b, now)-1)
	b.at = now
}

// reset forgets key: its bucket is full again.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}

// prune forgets the buckets that have refilled.
func (l *limiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// evict drops refilled buckets, and if none has, the fullest tenth.
// l.mu is held.
func (l *limiter) evict(now time.Time) {
	n := len(l.buckets)
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < n {
		return
	}
	threshold := l.burst * 0.9
	for threshold >= 0 && len(l.buckets) > n*9/10 {
		for k, b := range l.buckets {
			if l.level(b, now) >= threshold {
				delete(l.buckets, k)
			}
		}
		threshold -= l.burst / 10
	}
}
