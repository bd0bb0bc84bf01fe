package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/postgres"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
)

// faultTimeouts are short, so that the fault tests run in seconds.
var faultTimeouts = postgres.Timeouts{Connect: time.Second, Statement: time.Second, Tx: 2 * time.Second}

// slack is what a bounded call may take beyond its timeout on a busy machine.
const slack = 2 * time.Second

// openTimeouts opens dsn with to and closes the store when the test ends.
func openTimeouts(t *testing.T, dsn string, to postgres.Timeouts) *postgres.DB {
	t.Helper()
	db, err := postgres.OpenTimeouts(t.Context(), dsn, to)
	if err != nil {
		t.Fatalf("OpenTimeouts: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// bounded runs fn in a goroutine and returns how long it took and its
// error; it fails the test if fn has not returned within limit, calling
// unblock to let it finish.
func bounded(t *testing.T, what string, limit time.Duration, unblock func(), fn func() error) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(limit):
		t.Errorf("%s: no answer within %s", what, limit)
		unblock()
		err := <-done
		return time.Since(start), err
	}
}

// waitFor polls cond every 20 ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rotation rotates in a fresh key named kid.
func rotation(kid string) func(*signet.Keyset) error {
	return func(ks *signet.Keyset) error {
		_, err := ks.Rotate(time.Now(), signet.Key{KID: kid, Algorithm: "RS256", Certificate: []byte("c"), SealedPrivateKey: []byte("s")})
		return err
	}
}

// kids lists a keyset's kids.
func kids(ks signet.Keyset) string {
	var s []string
	for _, k := range ks.Keys {
		s = append(s, k.KID+":"+string(k.State))
	}
	return strings.Join(s, " ")
}

// TestBlackholedDatabase reaches PostgreSQL through a proxy that stops
// forwarding: a read and a write fail within their timeouts instead of
// hanging; a rotation whose COMMIT is held by the network is reported
// failed and is not committed when the network comes back (the held COMMIT
// was sent on a connection the store reset); and the store recovers by
// itself.
func TestBlackholedDatabase(t *testing.T) {
	direct := freshDSN(t)
	proxy, dsn := pgtest.NewProxy(t, direct)
	db := openTimeouts(t, dsn, faultTimeouts)
	before := createTenant(t, db, "acme")
	ctx := context.Background() // no deadline: the store's own bounds apply
	pass := func() { proxy.Set(pgtest.Pass) }

	t.Run("read", func(t *testing.T) {
		proxy.Set(pgtest.Blackhole)
		defer pass()
		took, err := bounded(t, "Keyset", faultTimeouts.Statement+slack, pass, func() error {
			_, err := db.Keyset(ctx, "acme")
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Keyset with the database black-holed after %s: %v, want a deadline error", took, err)
		}
	})

	t.Run("write", func(t *testing.T) {
		proxy.Set(pgtest.Blackhole)
		defer pass()
		took, err := bounded(t, "UpdateKeyset", faultTimeouts.Tx+slack, pass, func() error {
			_, err := db.UpdateKeyset(ctx, "acme", rotation("blackholed"))
			return err
		})
		if err == nil {
			t.Errorf("UpdateKeyset with the database black-holed succeeded after %s", took)
		}
	})

	t.Run("commit", func(t *testing.T) {
		// The network fails just as COMMIT is sent (pgx sends it as the
		// simple query "commit": a Query message, length 11).
		proxy.BlackholeWhen(func(b []byte) bool { return bytes.Contains(b, []byte("Q\x00\x00\x00\x0bcommit\x00")) })
		defer pass()
		took, err := bounded(t, "UpdateKeyset", faultTimeouts.Tx+slack, pass, func() error {
			_, err := db.UpdateKeyset(ctx, "acme", rotation("lost"))
			return err
		})
		if proxy.Mode() != pgtest.Blackhole {
			t.Fatalf("the proxy never saw the COMMIT (err %v)", err)
		}
		if err == nil || !strings.Contains(err.Error(), "may or may not") {
			t.Errorf("UpdateKeyset whose COMMIT got no answer, after %s: %v, want outcome unknown", took, err)
		}
		pass()
		// The server ends the transaction (its client is gone) within
		// idle_in_transaction_session_timeout; then its outcome is final.
		conn, err := pgx.Connect(t.Context(), direct)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		waitFor(t, "the abandoned transaction ends", faultTimeouts.Tx+5*time.Second, func() bool {
			var n int
			err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&n)
			return err == nil && n == 0
		})
		var committed bool
		if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM `+schemaOf(t, direct)+`.signing_keys WHERE kid = 'lost')`).Scan(&committed); err != nil {
			t.Fatal(err)
		}
		if committed {
			t.Error("the rotation reported failed was committed once the network came back")
		}
	})

	// Recovery: the store answers again without a restart, and a rotation
	// goes through.
	waitFor(t, "Keyset answers again", 10*time.Second, func() bool {
		_, err := db.Keyset(ctx, "acme")
		return err == nil
	})
	after, err := db.Keyset(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if kids(after) != kids(before) {
		t.Errorf("keyset after the failed rotations:\n%s\nwant it unchanged:\n%s", kids(after), kids(before))
	}
	if _, err := db.UpdateKeyset(ctx, "acme", rotation("after")); err != nil {
		t.Errorf("UpdateKeyset after the network came back: %v", err)
	}
}

// schemaOf returns the search_path of dsn (freshDSN's schema).
func schemaOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return pgx.Identifier{u.Query().Get("search_path")}.Sanitize()
}

// TestRefusedDatabase: with the server refusing connections, calls fail
// fast, and work again once it accepts them.
func TestRefusedDatabase(t *testing.T) {
	proxy, dsn := pgtest.NewProxy(t, freshDSN(t))
	db := openTimeouts(t, dsn, faultTimeouts)
	createTenant(t, db, "acme")
	proxy.Set(pgtest.Refuse)
	took, err := bounded(t, "Keyset", faultTimeouts.Statement+slack, func() { proxy.Set(pgtest.Pass) }, func() error {
		_, err := db.Keyset(context.Background(), "acme")
		return err
	})
	if err == nil {
		t.Errorf("Keyset with the database refusing connections succeeded after %s", took)
	}
	proxy.Set(pgtest.Pass)
	waitFor(t, "Keyset answers again", 10*time.Second, func() bool {
		_, err := db.Keyset(context.Background(), "acme")
		return err == nil
	})
}

// terminateAll ends every backend whose application_name is app, as an
// operator's pg_terminate_backend or a failover does, and waits until they
// are gone.
func terminateAll(t *testing.T, conn *pgx.Conn, app string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()) AS t`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "terminated backends exit", 5*time.Second, func() bool {
		var left int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&left)
		return err == nil && left == 0
	})
	return n
}

// TestTerminatedConnections kills every connection of the store's pool
// between requests; a burst of reads and writes right after all succeed:
// each call that got a dead connection runs once more on a new one.
func TestTerminatedConnections(t *testing.T) {
	const app = "signet-terminate-test"
	db := open(t, pgtest.WithApp(t, freshDSN(t), app))
	createTenant(t, db, "acme")
	admin, err := pgx.Connect(t.Context(), testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	ctx := context.Background()

	const burst = 8
	for round := range 3 {
		// Fill the pool with idle connections, then kill them all.
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				if _, err := db.Keyset(ctx, "acme"); err != nil {
					t.Errorf("warm-up: %v", err)
				}
			})
		}
		wg.Wait()
		if n := terminateAll(t, admin, app); n == 0 {
			t.Fatal("no backend to terminate")
		}
		errs := make(chan error, 4*burst+1)
		for i := range burst {
			wg.Go(func() {
				_, err := db.Keyset(ctx, "acme")
				errs <- err
			})
			wg.Go(func() {
				_, err := db.Tenant(ctx, "acme")
				errs <- err
			})
			wg.Go(func() {
				errs <- db.CreateClient(ctx, signet.Client{Tenant: "acme", ClientID: fmt.Sprintf("c%d-%d", round, i), Name: "c"})
			})
			wg.Go(func() {
				_, err := db.Clients(ctx, "acme")
				errs <- err
			})
		}
		wg.Wait()
		// One rotation (they serialise on the tenant's row) after another kill.
		terminateAll(t, admin, app)
		_, err := db.UpdateKeyset(ctx, "acme", rotation(fmt.Sprintf("r%d", round)))
		errs <- err
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: a call after its connection was terminated: %v", round, err)
			}
		}
	}
}

// TestLockOutlastsStatementTimeout holds the bootstrap lock for longer than
// the statement timeout: a second process waiting for it must get it once it
// is released, not fail with "canceling statement due to statement timeout"
// (as replicas bootstrapping one database together did on a busy machine).
func TestLockOutlastsStatementTimeout(t *testing.T) {
	dsn := freshDSN(t)
	to := postgres.Timeouts{Connect: time.Second, Statement: 200 * time.Millisecond, Tx: time.Second}
	a, b := openTimeouts(t, dsn, to), openTimeouts(t, dsn, to)
	unlock, err := a.Lock(t.Context(), "bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock) // before the stores close, if the test fails early
	time.AfterFunc(4*to.Statement, unlock)
	start := time.Now()
	unlockB, err := b.Lock(t.Context(), "bootstrap")
	if err != nil {
		t.Fatalf("waiting for a lock held %v (statement timeout %v): %v", 4*to.Statement, to.Statement, err)
	}
	unlockB()
	if waited := time.Since(start); waited < 4*to.Statement {
		t.Errorf("got the lock after %v, while it was held for %v", waited, 4*to.Statement)
	}
}
