package throttle

import (
	"strconv"
	"testing"
	"time"
)

// TestMemoryBound checks that a flood of fresh keys neither grows a set
// past maxBuckets nor frees the keys an attacker has emptied, and that
// refilled buckets are forgotten.
func TestMemoryBound(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(10, 2*time.Minute)
	for range 10 {
		l.spend("victim", now)
	}
	for i := range maxBuckets + 1000 {
		l.spend("flood"+strconv.Itoa(i), now)
		if len(l.buckets) > maxBuckets {
			t.Fatalf("%d buckets after %d keys, want at most %d", len(l.buckets), i+1, maxBuckets)
		}
	}
	if l.wait("victim", now) == 0 {
		t.Error("the emptied bucket was evicted by a flood of fresh keys")
	}
	// Ten minutes on, the flood's buckets (9 of 10 left) have refilled and
	// the victim's has not (5 of 10); the next spend forgets the flood's.
	now = now.Add(pruneEvery)
	l.spend("next", now)
	if _, ok := l.buckets["victim"]; !ok || len(l.buckets) != 2 {
		t.Errorf("after pruning: %d buckets (victim kept: %v), want victim and next", len(l.buckets), ok)
	}
}

// TestKnownBound checks that the IPs accounts signed in from stay bounded:
// at most maxKnown per account (the newest) and maxBuckets accounts.
func TestKnownBound(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	g := New(Limits{}, func() time.Time { return now })
	for i := range maxKnown + 3 {
		g.Succeed("a", "ip"+strconv.Itoa(i))
	}
	if n := len(g.known["a"]); n != maxKnown || !g.isKnown("a", "ip"+strconv.Itoa(maxKnown+2), now) || g.isKnown("a", "ip0", now) {
		t.Errorf("account keeps %d IPs (newest kept: %v), want the newest %d", n, g.isKnown("a", "ip"+strconv.Itoa(maxKnown+2), now), maxKnown)
	}
	for i := range maxBuckets + 10 {
		g.Succeed("acct"+strconv.Itoa(i), "ip")
	}
	if n := len(g.known); n > maxBuckets {
		t.Errorf("%d accounts remembered, want at most %d", n, maxBuckets)
	}
}
