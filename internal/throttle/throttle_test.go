package throttle_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/throttle"
)

// clock is a fake clock that tests move by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time      { return c.now }
func (c *clock) Add(d time.Duration) { c.now = c.now.Add(d) }
func newClock() *clock               { return &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }
func (c *clock) String() string      { return c.now.Format(time.TimeOnly) }
func repeat(n int, s ...step) (o []step) {
	for range n {
		o = append(o, s...)
	}
	return o
}

// step is one event of a Guard's life: after advancing the clock, a failed
// or successful sign-in, or a check of the wait.
type step struct {
	advance     time.Duration
	op          string // "fail", "succeed" or "wait"
	account, ip string
	want        time.Duration // for "wait"
}

func fail(account, ip string) step { return step{op: "fail", account: account, ip: ip} }
func wait(account, ip string, want time.Duration) step {
	return step{op: "wait", account: account, ip: ip, want: want}
}

func TestGuard(t *testing.T) {
	small := throttle.Limits{AccountBurst: 3, AccountEvery: time.Minute, AccountCeiling: 5, AccountCeilingEvery: 30 * time.Second,
		IPBurst: 5, IPEvery: 10 * time.Second}
	succeed := func(account, ip string) step { return step{op: "succeed", account: account, ip: ip} }
	var spread []step // 100 failures on "a", 10 from each of 10 IPs
	for i := range 10 {
		spread = append(spread, repeat(10, fail("a", "ip"+strconv.Itoa(i)))...)
	}
	for _, tc := range []struct {
		name   string
		limits throttle.Limits
		steps  []step
	}{
		{"nothing recorded waits nothing", small, []step{wait("a", "ip1", 0)}},
		{"burst then one attempt per period", small, append(repeat(3, fail("a", "ip1")),
			wait("a", "ip1", time.Minute),
			step{advance: 59 * time.Second, op: "wait", account: "a", ip: "ip1", want: time.Second},
			step{advance: time.Second, op: "wait", account: "a", ip: "ip1", want: 0},
			fail("a", "ip1"),
			wait("a", "ip1", time.Minute),
		)},
		{"an account is limited per IP; the IP is shared", small, append(repeat(3, fail("a", "ip1")),
			wait("b", "ip1", 0),
			wait("a", "ip2", 0),
		)},
		{"failures across accounts exhaust the IP", small, append(repeat(1, fail("a", "ip1"), fail("b", "ip1"), fail("c", "ip1"), fail("d", "ip1"), fail("e", "ip1")),
			wait("f", "ip1", 10*time.Second),
			wait("f", "ip2", 0),
			step{advance: 10 * time.Second, op: "wait", account: "f", ip: "ip1", want: 0},
		)},
		{"the wait is the longest", throttle.Limits{AccountBurst: 1, AccountEvery: time.Minute, IPBurst: 1, IPEvery: time.Hour}, []step{
			fail("a", "ip1"),
			wait("a", "ip1", time.Hour),
			wait("a", "ip2", 0),
			wait("b", "ip1", time.Hour),
		}},
		{"the ceiling holds back every IP once failures spread over IPs spend it", small, append(repeat(3, fail("a", "ip1")),
			fail("a", "ip2"), fail("a", "ip2"),
			wait("a", "ip3", 30*time.Second),
			wait("a", "ip2", 30*time.Second),
			wait("b", "ip3", 0),
			step{advance: 30 * time.Second, op: "wait", account: "a", ip: "ip3", want: 0},
		)},
		{"an IP the account signed in from passes the ceiling", small, append([]step{succeed("a", "home")},
			append(repeat(3, fail("a", "ip1")), fail("a", "ip2"), fail("a", "ip2"),
				wait("a", "home", 0),
				wait("a", "ip3", 30*time.Second),
				// Its own failures still count against it.
				fail("a", "home"), fail("a", "home"), fail("a", "home"),
				wait("a", "home", time.Minute))...,
		)},
		{"an IP signed in from passes the ceiling for 30 days", small, append([]step{succeed("a", "home")},
			step{advance: 30*24*time.Hour - time.Second, op: "fail", account: "a", ip: "ip1"},
			fail("a", "ip2"), fail("a", "ip3"), fail("a", "ip4"), fail("a", "ip5"),
			wait("a", "home", 0),
			step{advance: time.Second, op: "wait", account: "a", ip: "home", want: 29 * time.Second},
		)},
		{"success refills the pair, not the ceiling or the IP", small, append(repeat(3, fail("a", "ip1")),
			succeed("a", "ip1"),
			wait("a", "ip1", 0),
			fail("a", "ip2"), fail("a", "ip2"),
			wait("a", "ip3", 30*time.Second),
			fail("b", "ip1"), fail("b", "ip1"),
			wait("c", "ip1", 10*time.Second),
		)},
		{"a long pause refills only up to the burst", small, append(repeat(3, fail("a", "ip1")),
			step{advance: time.Hour, op: "fail", account: "a", ip: "ip1"},
			fail("a", "ip1"), fail("a", "ip1"),
			wait("a", "ip1", time.Minute),
		)},
		{"refills are fractional", small, append(repeat(3, fail("a", "ip1")),
			step{advance: 30 * time.Second, op: "wait", account: "a", ip: "ip1", want: 30 * time.Second},
			step{advance: 30 * time.Second, op: "fail", account: "a", ip: "ip1"},
			wait("a", "ip1", time.Minute),
		)},
		{"zero limits take the defaults", throttle.Limits{}, append(repeat(10, fail("a", "ip1")),
			wait("a", "ip1", time.Minute),
			wait("a", "ip2", 0),
			wait("b", "ip1", 0),
		)},
		{"default ceiling is 100 per account, then one a minute", throttle.Limits{}, append([]step{succeed("a", "home")},
			append(spread,
				wait("a", "ip10", time.Minute),
				wait("a", "home", 0),
				step{advance: time.Minute, op: "wait", account: "a", ip: "ip10", want: 0})...,
		)},
		{"default IP limit is 50 then one per 10 s", throttle.Limits{}, append(repeat(50, fail("", "ip1")),
			wait("other", "ip1", 10*time.Second),
		)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			g := throttle.New(tc.limits, c.Now)
			for i, s := range tc.steps {
				c.Add(s.advance)
				switch s.op {
				case "fail":
					g.Fail(s.account, s.ip)
				case "succeed":
					g.Succeed(s.account, s.ip)
				case "wait":
					if got := g.Wait(s.account, s.ip); got != s.want {
						t.Errorf("step %d at %s: Wait(%q, %q) = %v, want %v", i, c, s.account, s.ip, got, s.want)
					}
				default:
					t.Fatalf("step %d: unknown op %q", i, s.op)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 1},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + time.Millisecond, 2},
		{10 * time.Second, 10},
		{time.Minute, 60},
	} {
		if got := throttle.RetryAfter(tc.d); got != tc.want {
			t.Errorf("RetryAfter(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestIP(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:1234", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:80", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:80", "2001:db8:1:3::/64"},
		{"[::1]:80", "::/64"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		r := &http.Request{RemoteAddr: tc.remote}
		if got := throttle.IP(r); got != tc.want {
			t.Errorf("IP(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
	// X-Forwarded-For is not trusted.
	r := &http.Request{RemoteAddr: "192.0.2.1:1", Header: http.Header{"X-Forwarded-For": {"198.51.100.7"}}}
	if got := throttle.IP(r); got != "192.0.2.1" {
		t.Errorf("IP with X-Forwarded-For = %q", got)
	}
}

func TestGate(t *testing.T) {
	g := throttle.NewGate(2)
	ctx := t.Context()
	for i := range 2 {
		if err := g.Enter(ctx); err != nil {
			t.Fatalf("Enter %d: %v", i, err)
		}
	}
	// A third waits until its context ends, and then holds no slot.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := g.Enter(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter on a full gate = %v, want DeadlineExceeded", err)
	}
	g.Leave()
	if err := g.Enter(ctx); err != nil {
		t.Fatalf("Enter after Leave: %v", err)
	}
	g.Leave()
	g.Leave()

	// Under load, never more than n at once.
	var in, most atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if err := g.Enter(ctx); err != nil {
				t.Error(err)
				return
			}
			defer g.Leave()
			n := in.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			in.Add(-1)
		})
	}
	wg.Wait()
	if m := most.Load(); m > 2 || m < 1 {
		t.Errorf("at most %d checks at once, want 1..2", m)
	}
	if d := throttle.NewGate(0); d == nil {
		t.Fatal("NewGate(0) = nil")
	}
}
