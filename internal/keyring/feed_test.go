package keyring_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/postgres"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/token"
)

// pgReplicas makes rings on one fresh PostgreSQL database, as replicas
// sharing it are: same master key, each its own store (pool and feed).
type pgReplicas struct {
	dsn    string
	sealer *seal.Sealer
	pool   *keygen.Pool
}

func newPGReplicas(t *testing.T) *pgReplicas {
	t.Helper()
	mk := make([]byte, seal.KeySize)
	rand.Read(mk)
	s, err := seal.New(mk)
	if err != nil {
		t.Fatal(err)
	}
	pool := keygen.NewPool(4)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go pool.Run(ctx)
	return &pgReplicas{dsn: pgtest.Database(t), sealer: s, pool: pool}
}

// replica opens a store on dsn (the database's, or a proxy's) and returns a
// ring on it with cfg's MaxStaleness and PublishDelay.
func (p *pgReplicas) replica(t *testing.T, dsn string, cfg keyring.Config) (*keyring.Ring, *postgres.DB) {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.MinBackoff, db.MaxBackoff, db.PingInterval = 20*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	cfg.Store, cfg.Sealer, cfg.Pool, cfg.Resync, cfg.PolicyInterval = db, p.sealer, p.pool, time.Hour, time.Hour
	return keyring.New(cfg), db
}

// run starts r (Start, then Run) until the test ends.
func run(t *testing.T, r *keyring.Ring) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { r.Run(ctx); close(done) }()
}

// eventually polls cond every 10 ms until it holds, failing after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// signs reports whether r's view of tenant signs, and with which kid.
func signs(r *keyring.Ring, tenant string) (string, error) {
	v, ok := r.View(tenant)
	if !ok {
		return "", errors.New("no view")
	}
	if _, err := v.Signer.Sign(token.Claims{Subject: "probe"}); err != nil {
		return "", err
	}
	return v.Signer.KID(), nil
}

// publishes reports whether r's view of tenant accepts kid.
func publishes(r *keyring.Ring, tenant, kid string) bool {
	v, ok := r.View(tenant)
	if !ok {
		return false
	}
	_, ok = v.VerifyKey(kid)
	return ok
}

// killPool terminates the backends of the pool connections of the stores
// whose DSN carries application_name app (not their LISTEN connections),
// as a database failover or an idle-connection reaper does, and waits until
// they are gone.
func killPool(t *testing.T, dsn, app string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1
		AND query NOT LIKE 'LISTEN %' AND query <> '-- ping'`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefreshRetriedAfterPoolLoss kills the pool connections of replica B
// right after it used them (so its pool hands out a dead one, not pinging a
// connection idle for less than a second), then rotates-and-revokes through
// replica A: B's refresh on the notification fails, and B must retry until
// it has the change, within the retry backoff, rather than keep signing
// with the revoked key.
func TestRefreshRetriedAfterPoolLoss(t *testing.T) {
	p := newPGReplicas(t)
	a, _ := p.replica(t, p.dsn, keyring.Config{})
	if _, err := a.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	bDSN := pgtest.WithApp(t, p.dsn, "replica-b")
	b, _ := p.replica(t, bDSN, keyring.Config{MaxStaleness: 5 * time.Second})
	run(t, b)

	for round := range 5 {
		v, _ := b.View("acme")
		leaked := v.Current.KID
		// Use B's pool so its connections are idle for milliseconds only.
		if err := b.Refresh(t.Context(), "acme"); err != nil {
			t.Fatal(err)
		}
		if killPool(t, p.dsn, "replica-b") == 0 {
			t.Fatal("no pool connection of replica B to kill")
		}
		rot, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{RevokeCurrent: true})
		if err != nil {
			t.Fatal(err)
		}
		d := eventually(t, 3*time.Second, "replica B refuses the revoked key and signs with the new one", func() bool {
			kid, err := signs(b, "acme")
			return err == nil && kid == rot.Current.KID && !publishes(b, "acme", leaked)
		})
		t.Logf("round %d: replica B converged %v after the rotate-and-revoke", round, d.Round(time.Millisecond))
	}
}

// TestStopsSigningWhenCutOff black-holes replica B's database traffic: B
// must stop signing and report not ready once its view is older than
// MaxStaleness, whatever its connections' state, and recover once the
// traffic flows again, having caught up with a revocation made meanwhile.
func TestStopsSigningWhenCutOff(t *testing.T) {
	p := newPGReplicas(t)
	a, _ := p.replica(t, p.dsn, keyring.Config{})
	if _, err := a.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	proxy, viaProxy := pgtest.NewProxy(t, p.dsn)
	const bound = time.Second
	b, _ := p.replica(t, viaProxy, keyring.Config{MaxStaleness: bound})
	run(t, b)
	if _, err := signs(b, "acme"); err != nil {
		t.Fatalf("B before the cut: %v", err)
	}
	if err := b.Ready(); err != nil {
		t.Fatalf("B before the cut: %v", err)
	}

	proxy.Hold()
	rot, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{RevokeCurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	d := eventually(t, bound+2*time.Second, "B stops signing", func() bool {
		_, err := signs(b, "acme")
		return errors.Is(err, keyring.ErrStale)
	})
	if err := b.Ready(); !errors.Is(err, keyring.ErrStale) {
		t.Errorf("B.Ready() while cut off = %v, want ErrStale", err)
	}
	v, _ := b.View("acme")
	if _, err := v.Key.Sign(rand.Reader, make([]byte, 32), nil); !errors.Is(err, keyring.ErrStale) {
		t.Errorf("B's view Key.Sign while cut off = %v, want ErrStale", err)
	}
	t.Logf("B stopped signing %v into the cut (bound %v)", d.Round(time.Millisecond), bound)

	proxy.Release()
	d = eventually(t, 15*time.Second, "B signs again, with the new key", func() bool {
		kid, err := signs(b, "acme")
		return err == nil && kid == rot.Current.KID && !publishes(b, "acme", rot.Previous.KID) && b.Ready() == nil
	})
	t.Logf("B recovered %v after the traffic flowed again", d.Round(time.Millisecond))
}

// TestChangeBetweenLoadAndRun commits a change after a replica loaded the
// tenant and before its feed listens: Run must still deliver it (the feed's
// first confirmation reloads every view).
func TestChangeBetweenLoadAndRun(t *testing.T) {
	p := newPGReplicas(t)
	a, _ := p.replica(t, p.dsn, keyring.Config{})
	if _, err := a.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	b, _ := p.replica(t, p.dsn, keyring.Config{})
	if err := b.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	rot, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{RevokeCurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() { b.Run(ctx); close(done) }()
	eventually(t, 3*time.Second, "B has the change made between its load and its feed", func() bool {
		return !publishes(b, "acme", rot.Previous.KID)
	})
}

// TestSwitchTimerArmedAtLoad loads a replica within PublishDelay of a
// rotation: the view signs with the previous key and must switch to the
// current one once it has been published for PublishDelay, without any
// other change to wake it.
func TestSwitchTimerArmedAtLoad(t *testing.T) {
	const delay = 500 * time.Millisecond
	env := ringtest.New(t, ringtest.Options{PoolSize: 6, PublishDelay: delay})
	a := env.Ring
	if _, err := a.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		start func(context.Context, *keyring.Ring) error
	}{
		{"Load then Run", func(ctx context.Context, r *keyring.Ring) error { return r.Load(ctx) }},
		{"Start then Run", func(ctx context.Context, r *keyring.Ring) error { return r.Start(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := a.View("acme")
			eventually(t, 5*time.Second, "the next key is PublishDelay old", func() bool {
				return time.Since(v.Keyset.Next().CreatedAt) > delay
			})
			first, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{}) // promotes an old key: signs at once
			if err != nil {
				t.Fatal(err)
			}
			second, err := a.Rotate(t.Context(), "acme", keyring.RotateOptions{}) // promotes a young key
			if err != nil {
				t.Fatal(err)
			}
			b := env.Replica() // a restarted replica
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			defer func() { cancel(); <-done }()
			if err := tc.start(ctx, b); err != nil {
				close(done)
				t.Fatal(err)
			}
			go func() { b.Run(ctx); close(done) }()
			vb, _ := b.View("acme")
			if time.Since(second.Current.CreatedAt) < delay && vb.Signing.KID != first.Current.KID {
				t.Errorf("within PublishDelay the restarted replica signs with %s, want %s", vb.Signing.KID, first.Current.KID)
			}
			eventually(t, delay+3*time.Second, "the restarted replica switches to the current key", func() bool {
				vb, _ := b.View("acme")
				return vb.Signing.KID == second.Current.KID
			})
		})
	}
}

// TestDamagedKeyLeavesOtherTenants flips a byte of one tenant's sealed
// current key in a real SQLite database: Load names that tenant and kid,
// leaves it without a view (its host unavailable) and loads the others.
func TestDamagedKeyLeavesOtherTenants(t *testing.T) {
	env := ringtest.New(t, ringtest.Options{PoolSize: 4})
	for _, name := range []string{"acme", "beta"} {
		if _, err := env.Ring.CreateTenant(t.Context(), name, []string{name + ".test"}, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	v, _ := env.Ring.View("beta")
	kid := v.Current.KID
	if _, err := env.Store.UpdateKeyset(t.Context(), "beta", func(ks *signet.Keyset) error {
		for i := range ks.Keys {
			if ks.Keys[i].KID == kid {
				b := append([]byte(nil), ks.Keys[i].SealedPrivateKey...)
				b[len(b)/2] ^= 1
				ks.Keys[i].SealedPrivateKey = b
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := env.Replica()
	if err := r.Load(t.Context()); err != nil {
		t.Fatalf("Load = %v, want the other tenants loaded", err)
	}
	if _, ok := r.View("acme"); !ok {
		t.Error("acme has no view")
	}
	if _, ok := r.View("beta"); ok {
		t.Error("beta has a view with a damaged signing key")
	}
	err := r.Unavailable("beta.test")
	if !errors.Is(err, keyring.ErrUnavailable) || !errors.Is(err, seal.ErrOpen) || !strings.Contains(err.Error(), kid) {
		t.Errorf("Unavailable(beta.test) = %v, want ErrUnavailable naming %s", err, kid)
	}
	if err := r.Unavailable("acme.test"); err != nil {
		t.Errorf("Unavailable(acme.test) = %v", err)
	}
	if b := r.Broken(); len(b) != 1 || b["beta"] == nil {
		t.Errorf("Broken() = %v", b)
	}
}
