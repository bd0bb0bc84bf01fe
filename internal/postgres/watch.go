package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WatchApplicationName is the application_name of Watch's connections (unless
// the DSN sets one), which tells them apart in pg_stat_activity.
const WatchApplicationName = "signet-watch"

// errClosed is returned by Watch when the DB is closed.
var errClosed = errors.New("postgres: database closed")

// Watch calls fn, on the calling goroutine, with the tenant's name after each
// committed keyset or tenant change (CreateTenant, UpdateTenant, UpdateKeyset)
// made by any process using the same database and schema, in commit order.
// Every such transaction runs pg_notify on the schema's channel, which
// PostgreSQL delivers when it commits; Watch listens on a connection of its
// own, outside the pool, so a change reaches it within milliseconds.
//
// If that connection is lost (or stays silent for PingInterval and then fails
// a ping), Watch reconnects, waiting MinBackoff and then twice as long after
// each failure, up to MaxBackoff. Notifications sent while it was away are
// lost, so once it listens again it calls fn with the name of every tenant
// (a full resync): a change can be reported more than once, never missed.
//
// Watch blocks until ctx is done and then returns ctx.Err(); it returns an
// error at once if db is or gets closed.
func (db *DB) Watch(ctx context.Context, fn func(tenant string)) error {
	if !db.startWatch() {
		return errClosed
	}
	defer db.watches.Done()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(db.closing, cancel)()

	backoff := db.MinBackoff
	for attempt := 0; ; attempt++ {
		err := db.listen(ctx, attempt > 0, fn, func() { backoff = db.MinBackoff })
		switch {
		case parent.Err() != nil:
			return parent.Err()
		case db.closing.Err() != nil:
			return errClosed
		}
		db.Logger.Warn("change feed lost; reconnecting", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			if parent.Err() != nil {
				return parent.Err()
			}
			return errClosed
		case <-t.C:
		}
		backoff = min(2*backoff, db.MaxBackoff)
	}
}

// startWatch counts a new Watch unless db is closed. The check and the count
// happen under one lock so that Close, which waits for the count to drop to
// zero, never misses a Watch.
func (db *DB) startWatch() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closing.Err() != nil {
		return false
	}
	db.watches.Add(1)
	return true
}

// listen connects, LISTENs on the schema's channel, calls fn for every tenant
// if resync is set (after LISTEN, so that no change falls between the two),
// calls connected, and then calls fn for each notification until the
// connection fails or ctx is done. It always returns a non-nil error.
func (db *DB) listen(ctx context.Context, resync bool, fn func(string), connected func()) error {
	cfg := db.pool.Config().ConnConfig
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = WatchApplicationName
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("watch: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return fmt.Errorf("watch: listen: %w", err)
	}
	if resync {
		if err := db.resync(ctx, fn); err != nil {
			return fmt.Errorf("watch: resync: %w", err)
		}
		db.Logger.Info("change feed reconnected; all tenants resynced")
	}
	connected()
	for {
		wctx, cancel := context.WithTimeout(ctx, db.PingInterval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			fn(n.Payload)
		case wctx.Err() != nil:
			// Silent for PingInterval: make sure the server is still there.
			pctx, cancel := context.WithTimeout(ctx, db.PingInterval)
			err := conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("watch: ping: %w", err)
			}
		default:
			return fmt.Errorf("watch: %w", err)
		}
	}
}

// resync calls fn with the name of every tenant, in name order.
func (db *DB) resync(ctx context.Context, fn func(string)) error {
	var names []string
	err := db.read(ctx, func(ctx context.Context) error {
		rows, err := db.pool.Query(ctx, `SELECT name FROM tenants ORDER BY name`)
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fn(name)
	}
	return nil
}
