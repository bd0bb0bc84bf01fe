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
// live, if not nil, is called with the instant LISTEN was sent once Watch
// listens, and then every PingInterval with the instant an answered ping was
// sent, after fn has seen every notification that arrived before the answer:
// PostgreSQL sends a listening session the notifications of the transactions
// committed before a query ahead of that query's answer.
//
// If that connection is lost (or a ping is not answered within PingInterval),
// Watch reconnects, waiting MinBackoff and then twice as long after each
// failure, up to MaxBackoff. Notifications sent while it was away are lost,
// so once it listens again it calls fn with the name of every tenant (a full
// resync) before it calls live: a change can be reported more than once,
// never missed.
//
// Watch blocks until ctx is done and then returns ctx.Err(); it returns an
// error at once if db is or gets closed.
func (db *DB) Watch(ctx context.Context, fn func(tenant string), live func(t time.Time)) error {
	if !db.startWatch() {
		return errClosed
	}
	defer db.watches.Done()
	if live == nil {
		live = func(time.Time) {}
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(db.closing, cancel)()

	backoff := db.MinBackoff
	for attempt := 0; ; attempt++ {
		err := db.listen(ctx, attempt > 0, fn, live, func() { backoff = db.MinBackoff })
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

// setupTimeout bounds connecting, LISTEN and a resync, so that a
// black-holed server makes Watch retry instead of hanging.
const setupTimeout = 10 * time.Second

// listen connects, LISTENs on the schema's channel, calls fn for every tenant
// if resync is set (after LISTEN, so that no change falls between the two),
// calls connected and live, and then calls fn for each notification and live
// after each answered ping until the connection fails or ctx is done. It
// always returns a non-nil error.
func (db *DB) listen(ctx context.Context, resync bool, fn func(string), live func(time.Time), connected func()) error {
	cfg := db.pool.Config().ConnConfig
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = WatchApplicationName
	}
	sctx, scancel := context.WithTimeout(ctx, setupTimeout)
	defer scancel()
	conn, err := pgx.ConnectConfig(sctx, cfg)
	if err != nil {
		return fmt.Errorf("watch: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	since := time.Now()
	if _, err := conn.Exec(sctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return fmt.Errorf("watch: listen: %w", err)
	}
	if resync {
		if err := db.resync(sctx, fn); err != nil {
			return fmt.Errorf("watch: resync: %w", err)
		}
		db.Logger.Info("change feed reconnected; all tenants resynced")
	}
	scancel()
	connected()
	live(since)
	for {
		wctx, cancel := context.WithDeadline(ctx, since.Add(db.PingInterval))
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			fn(n.Payload)
			if time.Now().Before(since.Add(db.PingInterval)) {
				continue
			}
		case wctx.Err() == nil:
			return fmt.Errorf("watch: %w", err)
		}
		// PingInterval since the last confirmation: make sure the server is
		// still there, and confirm the feed up to the ping.
		sent := time.Now()
		pctx, cancel := context.WithTimeout(ctx, db.PingInterval)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch: ping: %w", err)
		}
		if err := drain(ctx, conn, fn); err != nil {
			return err
		}
		since = sent
		live(sent)
	}
}

// drain calls fn for the notifications conn received while it waited for
// another answer, without waiting for more.
func drain(ctx context.Context, conn *pgx.Conn, fn func(string)) error {
	done, cancel := context.WithCancel(ctx)
	cancel()
	for {
		n, err := conn.WaitForNotification(done)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		fn(n.Payload)
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
