package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/postgres"
)

// feedDeadline is what the issue demands: a change reaches every replica
// within a second.
const feedDeadline = time.Second

// watcher runs db.Watch in the background and collects the names it reports.
type watcher struct {
	names chan string
	done  chan error
}

func watch(t *testing.T, db *postgres.DB) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w := &watcher{names: make(chan string, 1000), done: make(chan error, 1)}
	go func() { w.done <- db.Watch(ctx, func(name string) { w.names <- name }, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	})
	return w
}

// wait returns once the watcher reported want, failing after timeout.
// Other names are skipped.
func (w *watcher) wait(t *testing.T, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(timeout)
	for {
		select {
		case name := <-w.names:
			if name == want {
				return time.Since(start)
			}
		case err := <-w.done:
			t.Fatalf("Watch returned early: %v", err)
		case <-deadline:
			t.Fatalf("Watch did not report %s within %v", want, timeout)
		}
	}
}

// ready makes sure w listens: it creates probe tenants through db until w
// reports one (Watch connects asynchronously).
func (w *watcher) ready(t *testing.T, db *postgres.DB) {
	t.Helper()
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("probe-%d", i)
		createTenant(t, db, name)
		select {
		case got := <-w.names:
			if got != name {
				t.Fatalf("Watch reported %q, want %q", got, name)
			}
			return
		case err := <-w.done:
			t.Fatalf("Watch returned early: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("Watch never started listening")
}

// drain discards what w has reported so far.
func (w *watcher) drain() {
	for {
		select {
		case <-w.names:
		default:
			return
		}
	}
}

var clock = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)

func createTenant(t *testing.T, db *postgres.DB, name string) signet.Keyset {
	t.Helper()
	current := signet.Key{KID: name + "-1", Algorithm: "RS256", Certificate: []byte("c1"), SealedPrivateKey: []byte("\x00sealed-1\xff"), CreatedAt: clock}
	next := signet.Key{KID: name + "-2", Algorithm: "RS256", Certificate: []byte("c2"), SealedPrivateKey: []byte("\x00sealed-2\xff")}
	ks, err := signet.NewKeyset(name, clock, current, next)
	if err != nil {
		t.Fatal(err)
	}
	tn := signet.Tenant{Name: name, Hosts: []string{name + ".example.com"}, Algorithm: "RS256", CreatedAt: clock}
	if err := db.CreateTenant(t.Context(), tn, ks); err != nil {
		t.Fatalf("CreateTenant(%s): %v", name, err)
	}
	return ks
}

var fresh int

func rotate(t *testing.T, db *postgres.DB, tenant string) {
	t.Helper()
	fresh++
	k := signet.Key{KID: fmt.Sprintf("fresh-%d", fresh), Algorithm: "RS256", Certificate: []byte("c"), SealedPrivateKey: []byte("s")}
	if _, err := db.UpdateKeyset(t.Context(), tenant, func(ks *signet.Keyset) error {
		_, err := ks.Rotate(time.Now(), k)
		return err
	}); err != nil {
		t.Fatalf("rotate %s: %v", tenant, err)
	}
}

// TestWatchAcrossProcesses checks that a change committed through one DB
// (one replica's pool) reaches the Watch of another within a second.
func TestWatchAcrossProcesses(t *testing.T) {
	dsn := freshDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	createTenant(t, a, "acme")
	w := watch(t, b)
	w.ready(t, a)

	var worst time.Duration
	for i := range 20 {
		start := time.Now()
		rotate(t, a, "acme")
		w.wait(t, "acme", feedDeadline)
		worst = max(worst, time.Since(start))
		if i%5 == 0 {
			if _, err := a.UpdateTenant(t.Context(), "acme", "test", func(tn *signet.Tenant) error {
				tn.Policy.RotationPeriod = time.Duration(i+1) * time.Hour
				return nil
			}); err != nil {
				t.Fatalf("UpdateTenant: %v", err)
			}
			w.wait(t, "acme", feedDeadline)
		}
	}
	createTenant(t, a, "newcomer")
	w.wait(t, "newcomer", feedDeadline)
	t.Logf("slowest rotation seen by the other DB: %v after UpdateKeyset began", worst)

	// Changes that fail are not announced; a rolled-back transaction sends
	// nothing.
	if _, err := a.UpdateKeyset(t.Context(), "acme", func(*signet.Keyset) error { return errors.New("boom") }); err == nil {
		t.Fatal("UpdateKeyset with a failing fn: got no error")
	}
	rotate(t, a, "newcomer")
	if got := <-w.names; got != "newcomer" {
		t.Errorf("after a failed change of acme and a rotation of newcomer: Watch reported %q first", got)
	}
}

// TestWatchSchemasAreSeparate checks that deployments in two schemas of one
// database do not see each other's changes.
func TestWatchSchemasAreSeparate(t *testing.T) {
	a, b := open(t, freshDSN(t)), open(t, freshDSN(t))
	wa, wb := watch(t, a), watch(t, b)
	wa.ready(t, a)
	wb.ready(t, b)
	createTenant(t, a, "only-a")
	createTenant(t, b, "only-b")
	wa.wait(t, "only-a", feedDeadline)
	wb.wait(t, "only-b", feedDeadline)
	time.Sleep(100 * time.Millisecond)
	for _, w := range []*watcher{wa, wb} {
		select {
		case name := <-w.names:
			t.Errorf("a watcher reported %q from the other schema", name)
		default:
		}
	}
}

// TestWatchReconnects kills the Watch connection's backend and checks that
// Watch reconnects, reports every tenant (a change made while it was away
// is not lost) and then reports later changes again.
func TestWatchReconnects(t *testing.T) {
	dsn := freshDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	b.MinBackoff, b.MaxBackoff = 100*time.Millisecond, 400*time.Millisecond
	createTenant(t, a, "acme")
	createTenant(t, a, "beta")
	w := watch(t, b)
	w.ready(t, a)

	for round := range 3 {
		w.drain()
		killListener(t, dsn)
		// beta changes while the watcher is away (it waits MinBackoff before
		// reconnecting): its notification is lost, the resync reports it.
		rotate(t, a, "beta")
		got := map[string]bool{}
		deadline := time.After(10 * time.Second)
		for !got["acme"] || !got["beta"] {
			select {
			case name := <-w.names:
				got[name] = true
			case err := <-w.done:
				t.Fatalf("Watch returned: %v", err)
			case <-deadline:
				t.Fatalf("round %d: after the connection was killed Watch reported %v, want every tenant (a resync)", round, got)
			}
		}
		// Once back, changes arrive as notifications again.
		w.drain()
		rotate(t, a, "acme")
		w.wait(t, "acme", feedDeadline)
	}
}

// killListener terminates the backend of the Watch connections of the run's
// database (the tests run one at a time), as a lost connection would end.
func killListener(t *testing.T, dsn string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, postgres.WatchApplicationName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no Watch connection to kill")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseEndsWatch(t *testing.T) {
	db, err := postgres.Open(t.Context(), freshDSN(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- db.Watch(context.Background(), func(string) {}, nil) }()
	time.Sleep(50 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Watch on a closed DB returned %v, want an error saying it is closed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after Close")
	}
	if err := db.Watch(context.Background(), func(string) {}, nil); err == nil {
		t.Error("Watch after Close: got no error")
	}
}

// TestChannelName checks that long schema names still give a valid channel.
func TestChannelName(t *testing.T) {
	for _, schema := range []string{"public", "s1", strings.Repeat("x", 63)} {
		c := postgres.ChannelName(schema)
		if len(c) > 63 || !strings.HasPrefix(c, "signet_") {
			t.Errorf("channel for schema %q: %q", schema, c)
		}
	}
	if postgres.ChannelName(strings.Repeat("x", 63)) == postgres.ChannelName(strings.Repeat("x", 62)+"y") {
		t.Error("two long schemas share a channel")
	}
	if c := postgres.ChannelName("public"); c != "signet_public" {
		t.Errorf("channel for schema public: %q, want signet_public", c)
	}
}
