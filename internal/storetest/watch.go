package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// watchTimeout is how long the suite waits for a notification.
const watchTimeout = 10 * time.Second

// watcher is one running Watch call.
type watcher struct {
	names    chan string
	done     chan error // Watch's result
	returned atomic.Bool
}

func startWatch(t *testing.T, ctx context.Context, s signet.Store) *watcher {
	w := &watcher{names: make(chan string, 1000), done: make(chan error, 1)}
	go func() {
		err := s.Watch(ctx, func(tenant string) {
			if w.returned.Load() {
				t.Errorf("Watch called fn with %q after it returned", tenant)
			}
			w.names <- tenant
		}, nil)
		w.returned.Store(true)
		w.done <- err
	}()
	return w
}

// next returns the next tenant name fn was called with, skipping probes.
func (w *watcher) next(t *testing.T) string {
	t.Helper()
	timeout := time.After(watchTimeout)
	for {
		select {
		case name := <-w.names:
			if !strings.HasPrefix(name, "probe-") {
				return name
			}
		case err := <-w.done:
			t.Fatalf("Watch returned early: %v", err)
		case <-timeout:
			t.Fatalf("Watch did not call fn within %v", watchTimeout)
		}
	}
}

// syncWatchers waits until every watcher receives notifications: Watch subscribes
// asynchronously, so the suite creates probe tenants until each has seen one.
func syncWatchers(t *testing.T, s signet.Store, ws ...*watcher) {
	t.Helper()
	deadline := time.Now().Add(watchTimeout)
	for j, w := range ws {
		for i := 0; ; i++ {
			if time.Now().After(deadline) {
				t.Fatalf("Watch did not report any change within %v", watchTimeout)
			}
			createTenant(t, s, fmt.Sprintf("probe-%d-%d", j, i))
			select {
			case name := <-w.names:
				if !strings.HasPrefix(name, "probe-") {
					t.Fatalf("Watch reported %q before any change to it", name)
				}
			case err := <-w.done:
				t.Fatalf("Watch returned early: %v", err)
			case <-time.After(50 * time.Millisecond):
				continue
			}
			break
		}
	}
}

func testWatch(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	createTenant(t, s, "acme")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w1, w2 := startWatch(t, ctx, s), startWatch(t, ctx, s)
	syncWatchers(t, s, w1, w2)

	// A committed keyset change reaches every watcher.
	if _, err := s.UpdateKeyset(t.Context(), "acme", rotate(at(time.Hour), newKey("fresh-1", base))); err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	for i, w := range []*watcher{w1, w2} {
		if got := w.next(t); got != "acme" {
			t.Errorf("watcher %d after UpdateKeyset(acme): got %q", i+1, got)
		}
	}

	// So does a new tenant.
	createTenant(t, s, "newcomer")
	for i, w := range []*watcher{w1, w2} {
		if got := w.next(t); got != "newcomer" {
			t.Errorf("watcher %d after CreateTenant(newcomer): got %q", i+1, got)
		}
	}

	// So does a tenant update, once it has committed.
	if _, err := s.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
		tn.Hosts = append(tn.Hosts, "login.acme.test")
		tn.Policy.RotationPeriod = 30 * 24 * time.Hour
		return nil
	}); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	for i, w := range []*watcher{w1, w2} {
		if got := w.next(t); got != "acme" {
			t.Errorf("watcher %d after UpdateTenant(acme): got %q", i+1, got)
		}
	}

	// Failed changes are not reported: the next name is the next success.
	_, err := s.UpdateKeyset(t.Context(), "acme", func(*signet.Keyset) error { return errors.New("boom") })
	if err == nil {
		t.Fatal("UpdateKeyset with a failing fn: got no error")
	}
	_, err = s.UpdateTenant(t.Context(), "acme", "test", func(*signet.Tenant) error { return errors.New("boom") })
	if err == nil {
		t.Fatal("UpdateTenant with a failing fn: got no error")
	}
	_, err = s.UpdateTenant(t.Context(), "newcomer", "test", func(tn *signet.Tenant) error {
		tn.Hosts = append(tn.Hosts, "login.acme.test")
		return nil
	})

	if err == nil {
		t.Fatal("UpdateTenant with a host of another tenant: got no error")
	}
	tn, ks := newTenant(t, "copycat", "newcomer.example.com")
	if err := s.CreateTenant(t.Context(), tn, ks); err == nil {
		t.Fatal("CreateTenant with a taken host: got no error")
	}
	if _, err := s.UpdateKeyset(t.Context(), "newcomer", rotate(at(time.Hour), newKey("fresh-2", base))); err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	for i, w := range []*watcher{w1, w2} {
		if got := w.next(t); got != "newcomer" {
			t.Errorf("watcher %d after failed changes and UpdateKeyset(newcomer): got %q", i+1, got)
		}
	}

	// Watch returns once its context is done, and calls fn no more.
	cancel()
	for i, w := range []*watcher{w1, w2} {
		select {
		case err := <-w.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("watcher %d: Watch returned %v, want nil or context.Canceled", i+1, err)
			}
		case <-time.After(watchTimeout):
			t.Fatalf("watcher %d: Watch did not return within %v of its context ending", i+1, watchTimeout)
		}
	}
	if _, err := s.UpdateKeyset(t.Context(), "acme", rotate(at(2*time.Hour), newKey("fresh-3", base))); err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // a late call of fn would fail the test
}

// testWatchLive checks Watch's live callback: it is called once Watch
// listens, and again, within watchTimeout, with an instant after a commit,
// by which time fn has reported the commit's tenant.
func testWatchLive(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	createTenant(t, s, "acme")
	type confirmation struct {
		at   time.Time
		seen []string // what fn reported before this call of live
	}
	lives := make(chan confirmation, 1000)
	var seen []string // only Watch's goroutine touches it
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(t.Context(), func(tenant string) { seen = append(seen, tenant) },
			func(at time.Time) { lives <- confirmation{at, append([]string(nil), seen...)} })
	}()
	timeout := time.After(watchTimeout)
	select {
	case <-lives:
	case err := <-done:
		t.Fatalf("Watch returned early: %v", err)
	case <-timeout:
		t.Fatalf("live was not called within %v of Watch starting", watchTimeout)
	}
	if _, err := s.UpdateKeyset(t.Context(), "acme", rotate(at(time.Hour), newKey("fresh-1", base))); err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	committed := time.Now()
	for {
		select {
		case c := <-lives:
			if !c.at.After(committed) {
				continue
			}
			if !slices.Contains(c.seen, "acme") {
				t.Fatalf("live(%v) after a commit at %v, but fn reported only %v", c.at, committed, c.seen)
			}
			return
		case err := <-done:
			t.Fatalf("Watch returned early: %v", err)
		case <-timeout:
			t.Fatalf("live was not called with an instant after a commit within %v", watchTimeout)
		}
	}
}
