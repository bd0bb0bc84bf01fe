package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/signet-auth/signet"
)

// Meta returns the value stored under name. Returns signet.ErrNotFound if
// there is none.
func (db *DB) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", signet.Errorf(signet.ENOTFOUND, "No setting %s.", name)
	}
	if err != nil {
		return "", fmt.Errorf("meta %s: %w", name, err)
	}
	return v, nil
}

// InitMeta stores value under name unless a value is there, and returns the
// value now stored.
func (db *DB) InitMeta(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("init meta %s: %w", name, err)
	}
	return stored, nil
}

// lockPoll is how often Lock tries again to take a lock another process holds.
const lockPoll = 20 * time.Millisecond

// Lock takes the lock called name: an exclusive flock(2) on the file
// <database>.<name>.lock next to the database, which the kernel releases when
// the process dies. Processes and Lock calls sharing the file exclude each
// other. Returns ctx's error if ctx ends first, or an error if the lock file
// cannot be opened.
func (db *DB) Lock(ctx context.Context, name string) (func(), error) {
	if !validLockName(name) {
		return nil, fmt.Errorf("sqlite: lock %q: want a name of [a-z0-9_-]", name)
	}
	path := db.path + "." + name + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }, nil // closing releases the flock
}

func validLockName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
