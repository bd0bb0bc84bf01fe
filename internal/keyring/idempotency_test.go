package keyring_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/sqlite"
)

// TestRotateIdempotencyScope checks that an idempotency key belongs to its
// caller and to one request: the same caller asking something else with it
// is refused, and another caller's equal key is its own.
func TestRotateIdempotencyScope(t *testing.T) {
	ctx := context.Background()
	r := ringtest.New(t, ringtest.Options{PoolSize: 4}).Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	first := keyring.RotateOptions{Actor: "client-a", IdempotencyKey: "k", Fingerprint: "fp-1"}
	answered := map[string]string{} // by actor: the kid its first rotation answered
	tests := []struct {
		name    string
		opt     keyring.RotateOptions
		wantErr error
		replay  bool
	}{
		{"first request", first, nil, false},
		{"same caller, same request", first, nil, true},
		{"same caller, other fingerprint", keyring.RotateOptions{Actor: "client-a", IdempotencyKey: "k", Fingerprint: "fp-2"}, keyring.ErrIdempotencyKeyReused, false},
		{"same caller, now rotate and revoke", keyring.RotateOptions{Actor: "client-a", IdempotencyKey: "k", Fingerprint: "fp-1", RevokeCurrent: true}, keyring.ErrIdempotencyKeyReused, false},
		{"another caller, same key and request", keyring.RotateOptions{Actor: "client-b", IdempotencyKey: "k", Fingerprint: "fp-1"}, nil, false},
		{"that caller's retry", keyring.RotateOptions{Actor: "client-b", IdempotencyKey: "k", Fingerprint: "fp-1"}, nil, true},
		{"first caller's retry after the other", first, nil, true},
		// A line feed (the separator of a scoped key) in an actor or a key
		// cannot make one caller's key another's.
		{"key with a line feed", keyring.RotateOptions{Actor: "v", IdempotencyKey: "x\ny"}, nil, false},
		{"actor with a line feed", keyring.RotateOptions{Actor: "v\nx", IdempotencyKey: "y"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := r.View("acme")
			got, err := r.Rotate(ctx, "acme", tt.opt)
			if (err != nil || tt.wantErr != nil) && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			after, _ := r.View("acme")
			rotated := after.Current.KID != before.Current.KID
			if err != nil {
				if rotated {
					t.Error("a refused request rotated")
				}
				return
			}
			if got.Replayed != tt.replay || rotated == tt.replay {
				t.Fatalf("Replayed = %v, rotated = %v; want a replay: %v", got.Replayed, rotated, tt.replay)
			}
			if !tt.replay {
				answered[tt.opt.Actor] = got.Current.KID
			} else if got.Current.KID != answered[tt.opt.Actor] {
				t.Errorf("replay answered %s, the first rotation %s", got.Current.KID, answered[tt.opt.Actor])
			}
		})
	}
}

// TestRotateIdempotencyRace checks the concurrent path: retries of one
// request racing requests with the same key but another fingerprint rotate
// once; the retries answer that rotation and the others are refused, or the
// other way round.
func TestRotateIdempotencyRace(t *testing.T) {
	ctx := context.Background()
	r := ringtest.New(t, ringtest.Options{PoolSize: 12}).Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	rots := make([]keyring.Rotation, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			fp := "fp-even"
			if i%2 == 1 {
				fp = "fp-odd"
			}
			rots[i], errs[i] = r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "c", IdempotencyKey: "k", Fingerprint: fp})
		})
	}
	wg.Wait()
	winner, fresh := -1, 0
	for i := range n {
		if errs[i] == nil && !rots[i].Replayed {
			winner = i
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d requests rotated, want 1 (errors %v)", fresh, errs)
	}
	for i := range n {
		if i%2 == winner%2 {
			if errs[i] != nil || rots[i].Current.KID != rots[winner].Current.KID {
				t.Errorf("request %d (the winner's fingerprint): %v %s, want %s", i, errs[i], rots[i].Current.KID, rots[winner].Current.KID)
			}
		} else if !errors.Is(errs[i], keyring.ErrIdempotencyKeyReused) {
			t.Errorf("request %d (another fingerprint): %v, want ErrIdempotencyKeyReused", i, errs[i])
		}
	}
}

// TestIdempotencyKeyMigration checks that a rotation stored before keys were
// scoped to their caller (an event whose idempotency_key is the bare key) is
// still replayed after migration 0006 for that caller, and only for it.
func TestIdempotencyKeyMigration(t *testing.T) {
	ctx := context.Background()
	env := ringtest.New(t, ringtest.Options{PoolSize: 4})
	path := filepath.Join(t.TempDir(), "old.db")
	open := func() (*sqlite.DB, *keyring.Ring) {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		r := keyring.New(keyring.Config{Store: db, Sealer: env.Sealer, Pool: env.Pool})
		if err := r.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return db, r
	}
	db, r := open()
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	rot, err := r.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-a", IdempotencyKey: "k", Fingerprint: "fp"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Make the database look as it did before 0006: the bare key, no
	// fingerprint, 0006 not applied.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE events SET idempotency_key = 'k', data = json_remove(data, '$.request_fingerprint') WHERE idempotency_key IS NOT NULL`,
		`DELETE FROM schema_migrations WHERE name LIKE '%0006%'`,
	} {
		if res, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s: %d rows", q, n)
		}
	}
	raw.Close()
	db, r2 := open()
	evs, err := db.Events(ctx, "acme", signet.EventFilter{Type: signet.EventKeyRotated})
	if err != nil || len(evs) != 1 || evs[0].IdempotencyKey != "client-a\nk" {
		t.Fatalf("migrated events = %+v %v", evs, err)
	}
	got, err := r2.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-a", IdempotencyKey: "k", Fingerprint: "fp"})
	if err != nil || !got.Replayed || got.Current.KID != rot.Current.KID {
		t.Errorf("retry after the upgrade: %s %v %v, want a replay of %s", got.Current.KID, got.Replayed, err, rot.Current.KID)
	}
	if _, err := r2.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-a", IdempotencyKey: "k", Fingerprint: "fp", RevokeCurrent: true}); !errors.Is(err, keyring.ErrIdempotencyKeyReused) {
		t.Errorf("rotate-and-revoke with the old key = %v, want ErrIdempotencyKeyReused", err)
	}
	if got, err := r2.Rotate(ctx, "acme", keyring.RotateOptions{Actor: "client-b", IdempotencyKey: "k", Fingerprint: "fp"}); err != nil || got.Replayed {
		t.Errorf("another caller after the upgrade: %v %v, want a rotation", got.Replayed, err)
	}
}
