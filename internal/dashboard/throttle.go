package dashboard

import (
	"sync"
	"time"
)

// Sign-in throttling: each failed sign-in spends one attempt from the
// e-mail address's bucket, which refills by one every throttleEvery up to
// throttleBurst; while it is empty, sign-ins for that address are refused
// without checking the password. A successful sign-in refills it. Unknown
// addresses are throttled alike, so the answer tells nothing about which
// exist. The buckets live in each replica's memory: N replicas allow at most
// N times the attempts. (Argon2id's cost and maxConcurrentHashes bound the
// rate across addresses.)
const (
	throttleBurst = 10
	throttleEvery = time.Minute
	// throttleMax bounds the memory: past it, buckets that have refilled go.
	throttleMax = 100_000
)

type throttle struct {
	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// level returns b's tokens at now.
func (b bucket) level(now time.Time) float64 {
	return min(throttleBurst, b.tokens+float64(now.Sub(b.at))/float64(throttleEvery))
}

// wait returns how long until key may try again; 0 means now.
func (t *throttle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.buckets[key]
	if !ok {
		return 0
	}
	if l := b.level(now); l < 1 {
		return time.Duration((1 - l) * float64(throttleEvery))
	}
	return 0
}

// fail spends one attempt of key.
func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.buckets == nil {
		t.buckets = map[string]bucket{}
	}
	b, ok := t.buckets[key]
	level := float64(throttleBurst)
	if ok {
		level = b.level(now)
	}
	if !ok && len(t.buckets) >= throttleMax {
		for k, b := range t.buckets {
			if b.level(now) >= throttleBurst {
				delete(t.buckets, k)
			}
		}
		if len(t.buckets) >= throttleMax {
			return // every bucket is in use: do not grow, do not throttle the newcomer
		}
	}
	t.buckets[key] = bucket{tokens: level - 1, at: now}
}

// reset forgets key's failures.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.buckets, key)
}
