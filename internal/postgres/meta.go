package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
)

// Meta returns the value stored under name. Returns signet.ErrNotFound if
// there is none.
func (db *DB) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", signet.Errorf(signet.ENOTFOUND, "No setting %s.", name)
	}
	if err != nil {
		return "", fmt.Errorf("meta %s: %w", name, err)
	}
	return v, nil
}

// InitMeta stores value under name unless a value is there, and returns the
// value now stored. The insert of a concurrent caller waits for the first
// one's commit and then does nothing, so every caller reads the winner's value.
func (db *DB) InitMeta(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("init meta %s: %w", name, err)
	}
	return stored, nil
}

// metaLock is the first key of the advisory locks Lock takes; the second is
// a hash of the schema and the lock's name.
const metaLock = 0x5167_6e75

// Lock takes the lock called name: a session advisory lock held by one of
// the pool's connections until unlock, which PostgreSQL releases when that
// connection ends (the process died or the network failed). Returns ctx's
// error if ctx ends first, or the database's.
func (db *DB) Lock(ctx context.Context, name string) (func(), error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	const key = `hashtext(current_schema() || '/' || $2)`
	// Try, and wait between tries, rather than block in pg_advisory_lock:
	// the holder may keep the lock for longer than the statement timeout
	// (a first start's setup on a busy machine), and each try is a short
	// statement. The wait ends with ctx.
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		var got bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, `+key+`)`, metaLock, name).Scan(&got)
		if err == nil && got {
			break
		}
		if err == nil {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				err = ctx.Err()
			}
		}
		conn.Release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lock %s: %w", name, unavailable(err))
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var ok bool
			if err := conn.QueryRow(uctx, `SELECT pg_advisory_unlock($1, `+key+`)`, metaLock, name).Scan(&ok); err != nil || !ok {
				// Ending the session releases the lock.
				conn.Conn().Close(uctx)
			}
			conn.Release()
		})
	}, nil
}
