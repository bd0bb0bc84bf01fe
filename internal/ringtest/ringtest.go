package ringtest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/sqlite"
)

// Options says how New builds an Env. With the zero value the Ring generates
// every key when it needs it (a pool of size 0), reads the real clock and
// has no JWKS max-age.
type Options struct {
	// Pool supplies keys. Nil means a new pool of PoolSize keys per
	// algorithm, run in the background until the test ends.
	Pool *keygen.Pool
	// PoolSize is the size of the pool New makes when Pool is nil.
	PoolSize int
	// Now is the Ring's clock; nil means time.Now.
	Now func() time.Time
	// JWKSMaxAge is keyring.Config.JWKSMaxAge.
	JWKSMaxAge time.Duration
	// OnChange is keyring.Config.OnChange.
	OnChange func(change, actorKind string)
	// PublishDelay is keyring.Config.PublishDelay.
	PublishDelay time.Duration
}

// Env is a Ring and the real parts under it. Its issuer URLs use "http".
type Env struct {
	Ring   *keyring.Ring
	Store  *sqlite.DB
	Sealer *seal.Sealer
	Pool   *keygen.Pool

	cfg keyring.Config
}

// New opens a SQLite store in tb's temporary directory, makes a sealer with
// a random master key and returns a Ring on them with no tenants. The store
// is closed, and a pool New started is stopped, when tb's test ends. New
// fails tb if the store cannot be opened.
func New(tb testing.TB, opt Options) *Env {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "signet.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	mk := make([]byte, seal.KeySize)
	rand.Read(mk)
	s, err := seal.New(mk)
	if err != nil {
		tb.Fatal(err)
	}
	pool := opt.Pool
	if pool == nil {
		pool = keygen.NewPool(opt.PoolSize)
		ctx, cancel := context.WithCancel(context.Background())
		tb.Cleanup(cancel)
		go pool.Run(ctx)
	}
	e := &Env{Store: db, Sealer: s, Pool: pool, cfg: keyring.Config{
		Store: db, Sealer: s, Pool: pool, Scheme: "http", Now: opt.Now, JWKSMaxAge: opt.JWKSMaxAge,
		OnChange: opt.OnChange, PublishDelay: opt.PublishDelay,
	}}
	e.Ring = e.Replica()
	return e
}

// Replica returns another Ring on the same store, sealer, pool and options,
// as a second replica of the server would be. Like a fresh Ring it has no
// views until it loads them.
func (e *Env) Replica() *keyring.Ring {
	return keyring.New(e.cfg)
}

// Main runs m's tests while pool fills in the background and returns their
// exit code; the pool stops when they are done. Call it from TestMain with
// the pool every test of the package passes to New:
//
//	func TestMain(m *testing.M) {
//		pool = keygen.NewPool(4)
//		os.Exit(ringtest.Main(m, pool))
//	}
func Main(m *testing.M, pool *keygen.Pool) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go pool.Run(ctx)
	return m.Run()
}
