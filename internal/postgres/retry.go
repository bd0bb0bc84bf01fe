package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-auth/signet"
)

// pooled is the pool as the querier of reads made outside a transaction,
// which queryAll bounds and retries (see DB.read).
type pooled struct {
	*pgxpool.Pool
	db *DB
}

// read runs fn, a read with no effect (a query, or an idempotent statement
// such as a DELETE by key), with a deadline of the Statement timeout (or
// ctx's, if earlier). If fn fails because its connection was lost (see
// connLost), it runs once more: the pool hands out another connection.
func (db *DB) read(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, db.timeouts.Statement)
	defer cancel()
	err := fn(ctx)
	if connLost(err) && ctx.Err() == nil {
		db.Logger.Warn("database connection lost; retrying the read", "err", err)
		db.pruneIdle(ctx)
		err = fn(ctx)
	}
	return unavailable(err)
}

// pruneIdle pings every idle connection of the pool, which closes those
// that are dead: a lost connection seldom comes alone (the server
// restarted, an operator terminated the backends), and the retry must not
// get another dead one.
func (db *DB) pruneIdle(ctx context.Context) {
	for _, c := range db.pool.AcquireAllIdle(ctx) {
		c.Ping(ctx) // a failed ping closes the connection; Release drops it
		c.Release()
	}
}

// errCommitUnknown is wrapped by the error of a transaction whose COMMIT was
// sent but not answered within the deadline. The server may have committed
// it before the deadline and the answer been lost; it cannot commit it after
// the deadline, as the connection is reset then (see abortHandler) and the
// server rolls back a transaction whose connection is gone.
var errCommitUnknown = errors.New("the database did not confirm the commit in time: the change may or may not have been stored")

// tx runs fn in a transaction with opts and commits it if fn returns nil,
// with a deadline of the Tx timeout (or ctx's, if earlier). If the
// connection is lost before COMMIT is sent, nothing was stored and fn runs
// once more in a new transaction on another connection. A COMMIT that got
// no answer is never retried: its error wraps errCommitUnknown.
func (db *DB) tx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, db.timeouts.Tx)
	defer cancel()
	committing, err := db.tryTx(ctx, opts, fn)
	if !committing && connLost(err) && ctx.Err() == nil {
		db.Logger.Warn("database connection lost; retrying the transaction", "err", err)
		db.pruneIdle(ctx)
		committing, err = db.tryTx(ctx, opts, fn)
	}
	if committing {
		return fmt.Errorf("%w: %w", errCommitUnknownUser, fmt.Errorf("%w: %w", errCommitUnknown, err))
	}
	return unavailable(err)
}

// The user-facing errors of a database that did not answer: what the API
// answers with 503. The driver's error stays in the chain for the log.
var (
	errUnreachable       = signet.Errorf(signet.EUNAVAILABLE, "The database did not answer in time; nothing was changed. Retry shortly.")
	errCommitUnknownUser = signet.Errorf(signet.EUNAVAILABLE, "The database did not confirm the change in time: it may or may not have been stored. Read the current state before retrying.")
)

// unavailable marks err as signet.ErrUnavailable if the database was
// unreachable or did not answer in time (a lost connection, a spent
// deadline), so that callers answer 503 rather than 500. Other errors, and a
// request the caller cancelled, are returned as they are.
func unavailable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if connLost(err) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	return err
}

// tryTx runs fn in one transaction and commits it. committing reports
// whether COMMIT was sent and its outcome is unknown (the connection failed
// before its answer).
func (db *DB) tryTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) (committing bool, err error) {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return false, err
	}
	if err := fn(boundTx{tx, ctx}); err != nil {
		tx.Rollback(ctx) // on a lost connection it fails: the server rolls back
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		e := pgError(err)
		return !pgconn.SafeToRetry(err) && (e == nil || connCode(e.Code)), err
	}
	return false, nil
}

// connLost reports whether err says the connection failed rather than the
// statement: the server terminated the backend (57P01 admin_shutdown, as
// pg_terminate_backend does, or 57P02 crash_shutdown), a connection
// exception (class 08), a reset, closed or half-read connection, or pgx
// refused to use a closed one (SafeToRetry). A call that failed so can be
// repeated on another connection if it had no effect or its effect was
// rolled back. A spent deadline or a cancelled context is not such a
// failure: the budget is gone.
func connLost(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return false
	case pgconn.SafeToRetry(err):
		return true
	}
	if e := pgError(err); e != nil {
		return connCode(e.Code)
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &ne)
}

// connCode reports whether SQLSTATE code says the session ended:
// admin_shutdown, crash_shutdown or a connection exception (class 08).
func connCode(code string) bool {
	return code == "57P01" || code == "57P02" || strings.HasPrefix(code, "08")
}

// boundTx is a transaction whose statements run under the transaction's
// context, whatever context they are given: the closures of the store's
// methods run them with the caller's, which may have no deadline. The
// transaction's context derives from the caller's, so the caller's
// cancellation still applies.
type boundTx struct {
	pgx.Tx
	ctx context.Context
}

func (t boundTx) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.Tx.Exec(t.ctx, sql, args...)
}

func (t boundTx) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.Tx.Query(t.ctx, sql, args...)
}

func (t boundTx) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	return t.Tx.QueryRow(t.ctx, sql, args...)
}
