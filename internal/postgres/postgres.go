package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a signet.Store on a PostgreSQL database. Its methods are safe for
// concurrent use, from any number of processes sharing the database.
type DB struct {
	pool *pgxpool.Pool
	// reads is pool for the reads made outside a transaction: queryAll
	// bounds them and retries them once (see read).
	reads    *pooled
	timeouts Timeouts
	// beat is a pool of one connection for the replica heartbeats and
	// acknowledgements, so that requests holding every connection of pool
	// (a burst of rotations queued on a tenant's row lock) do not delay a
	// heartbeat past its expiry.
	beat *pgxpool.Pool
	// channel is the LISTEN/NOTIFY channel of the schema the tables live in.
	channel string

	// Now is the clock that dates the events the store writes itself
	// (EventTenantUpdated); Open sets it to time.Now.
	Now func() time.Time
	// Logger receives the change feed's connection losses and reconnections;
	// Open sets it to discard them.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between attempts of Watch to
	// reconnect its LISTEN connection; the wait doubles from MinBackoff up to
	// MaxBackoff. Open sets them to 50 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often Watch checks its connection with a ping, even
	// while notifications arrive, and how long it waits for the answer: each
	// answered ping confirms the feed to Watch's live callback (a dead peer
	// that sent no reset is otherwise only noticed by TCP keepalive). Open
	// sets it to 1 s.
	PingInterval time.Duration

	mu      sync.Mutex         // orders Close and the start of a Watch
	closing context.Context    // done once Close is called
	close   context.CancelFunc // ends closing
	watches sync.WaitGroup     // running Watch calls
}

var _ signet.Store = (*DB)(nil)

// migrateLock is the first key of the advisory lock held while migrating;
// the second is a hash of the schema, so that deployments in different
// schemas of one database do not wait for each other.
const migrateLock = 0x5167_6e74 // "Sgnt"

// Timeouts bound every call of a DB so that an unreachable or black-holed
// server makes it fail in bounded time instead of hanging. A zero field
// takes its default.
type Timeouts struct {
	// Connect bounds opening one connection (TCP, TLS, start-up and
	// authentication); default 5 s.
	Connect time.Duration
	// Statement bounds a read made outside a transaction, its retry
	// included, and is the server's statement_timeout for every statement;
	// default 5 s.
	Statement time.Duration
	// Tx bounds a transaction from taking a connection to COMMIT's answer,
	// its retry included; the server's idle_in_transaction_session_timeout
	// is the same, so a transaction whose client vanished releases its
	// locks; default 10 s. It is also TCP_USER_TIMEOUT on Linux.
	Tx time.Duration
}

// Default timeouts.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultStatementTimeout = 5 * time.Second
	DefaultTxTimeout        = 10 * time.Second
)

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect <= 0 {
		t.Connect = DefaultConnectTimeout
	}
	if t.Statement <= 0 {
		t.Statement = DefaultStatementTimeout
	}
	if t.Tx <= 0 {
		t.Tx = DefaultTxTimeout
	}
	return t
}

// Open connects to the PostgreSQL database dsn with the default Timeouts;
// see OpenTimeouts.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenTimeouts(ctx, dsn, Timeouts{})
}

// OpenTimeouts connects to the PostgreSQL database dsn (a postgres:// or
// postgresql:// URL or a key=value string, with pgxpool's pool_* settings,
// e.g. pool_max_conns) and applies any pending migrations, holding an
// advisory lock so that replicas starting at once apply each migration once.
// The tables live in the connection's current schema (search_path).
// Every later call of the DB is bounded by t (see Timeouts); a caller's
// earlier deadline wins. The DSN's own connect_timeout, statement_timeout
// and idle_in_transaction_session_timeout, if set, override t's.
// Returns an error if the DSN is malformed, the server cannot be reached or a
// migration fails.
func OpenTimeouts(ctx context.Context, dsn string, t Timeouts) (*DB, error) {
	t = t.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err) // pgx redacts the password
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = t.Connect
	}
	cc.DialFunc = dialer(t.Tx)
	cc.BuildContextWatcherHandler = newAbortHandler
	for name, v := range map[string]time.Duration{
		"statement_timeout":                   t.Statement,
		"idle_in_transaction_session_timeout": t.Tx,
	} {
		if cc.RuntimeParams[name] == "" {
			cc.RuntimeParams[name] = strconv.FormatInt(v.Milliseconds(), 10)
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	beatCfg := cfg.Copy()
	beatCfg.MaxConns, beatCfg.MinConns = 1, 0
	beat, err := pgxpool.NewWithConfig(ctx, beatCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	closing, cancel := context.WithCancel(context.Background())
	db := &DB{
		pool:         pool,
		timeouts:     t,
		beat:         beat,
		channel:      channelName(schema),
		Now:          time.Now,
		Logger:       slog.New(slog.DiscardHandler),
		MinBackoff:   50 * time.Millisecond,
		MaxBackoff:   5 * time.Second,
		PingInterval: time.Second,
		closing:      closing,
		close:        cancel,
	}
	db.reads = &pooled{Pool: pool, db: db}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return db, nil
}

// channelName returns the NOTIFY channel for the tables of schema:
// "signet_" and the schema, or a digest of it if that would exceed
// PostgreSQL's 63-byte identifiers.
func channelName(schema string) string {
	if c := "signet_" + schema; len(c) <= 63 {
		return c
	}
	sum := sha256.Sum256([]byte(schema))
	return "signet_" + hex.EncodeToString(sum[:16])
}

// Close ends every Watch, waits for them to return and closes the pool.
func (db *DB) Close() error {
	db.mu.Lock()
	db.close()
	db.mu.Unlock()
	db.watches.Wait()
	db.beat.Close()
	db.pool.Close()
	return nil
}

// migrate applies, in name order and each in its own transaction, the
// embedded migrations not yet recorded in schema_migrations. Each
// transaction first takes a transaction-scoped advisory lock, so concurrent
// Opens apply every migration exactly once.
//
// A migration is a file migrations/NNNN_name.sql, numbered as the SQLite
// backend's; adding one needs no code change.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			// A migration may rewrite a large table: the caller's context
			// bounds it, not the per-statement limit.
			if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrateLock); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				name       text   NOT NULL PRIMARY KEY,
				applied_at bigint NOT NULL
			)`); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			// No arguments: pgx sends it with the simple protocol, which
			// runs several statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// inTx runs fn in a read-committed transaction and commits it if fn returns
// nil; otherwise it rolls back and returns fn's error. Statements that fail
// abort a PostgreSQL transaction, so fn returns on the first error (after
// translating it with the helpers below). Text PostgreSQL cannot store (NUL,
// invalid UTF-8) becomes EINVALID.
//
// The transaction is bounded by the Tx timeout (see tx). If the connection
// is lost before COMMIT is sent (a terminated backend, a restarted server),
// nothing was stored and inTx runs fn once more on another connection: fn
// must be safe to run twice, starting afresh from what it reads.
//
// Writers that must be serialised with keyset changes lock the tenant's row
// first with lockTenant.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := db.tx(ctx, pgx.TxOptions{}, fn)
	if isBadText(err) {
		return signet.Errorf(signet.EINVALID, "Text cannot contain NUL characters or invalid UTF-8.")
	}
	return err
}

// update loads a row with get, lets fn change it and stores it with put, in
// one transaction. fn's error is returned as it is and nothing changes; any
// other error is wrapped with what.
func update[T any](ctx context.Context, db *DB, what string, get func(pgx.Tx) (T, error), fn func(*T) error, put func(pgx.Tx, *T) error) (T, error) {
	var (
		v       T
		zero    T
		userErr error
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if v, err = get(tx); err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			userErr = err
			return err
		}
		return put(tx, &v)
	})
	if userErr != nil {
		return zero, userErr
	}
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryAll runs query and returns each row as scan makes it. A query whose
// arguments hold text PostgreSQL cannot store (a NUL) matches nothing, as
// such text is never stored: it returns no rows rather than an error (inside
// a transaction, which that error has aborted, the caller must then return).
// On db.reads (outside a transaction) it is bounded and retried once, as
// read does.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(sqlcodec.Scanner) (T, error)) ([]T, error) {
	if p, ok := q.(*pooled); ok {
		var out []T
		err := p.db.read(ctx, func(ctx context.Context) error {
			var err error
			out, err = queryRows(ctx, p.Pool, query, args, scan)
			return err
		})
		return out, err
	}
	return queryRows(ctx, q, query, args, scan)
}

// queryRows is queryAll without the bound and the retry.
func queryRows[T any](ctx context.Context, q querier, query string, args []any, scan func(sqlcodec.Scanner) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if isBadText(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); isBadText(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return out, nil
}

// one returns the first of rows, err if it is set, or notFound if there are no rows.
func one[T any](rows []T, err, notFound error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(rows) == 0 {
		return zero, notFound
	}
	return rows[0], nil
}

// deleteOne runs a DELETE and returns notFound if it deleted no row.
func deleteOne(ctx context.Context, tx pgx.Tx, notFound error, query string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if isBadText(err) {
		return notFound
	} else if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound
	}
	return nil
}

// lockTenant takes the row lock of tenant until the transaction ends: every
// keyset and tenant change of one tenant takes it first, so they run one
// after the other, across processes. Statements after it see every change
// committed before it was granted (READ COMMITTED takes a snapshot per
// statement).
// Returns ErrTenantNotFound for an unknown tenant.
func lockTenant(ctx context.Context, tx pgx.Tx, tenant string) error {
	var name string
	err := tx.QueryRow(ctx, `SELECT name FROM tenants WHERE name = $1 FOR UPDATE`, tenant).Scan(&name)
	if missing(err) {
		return signet.ErrTenantNotFound
	}
	return err
}

// notify announces a change of tenant on the schema's channel. PostgreSQL
// delivers it to every listener when the transaction commits, and never if
// it rolls back; every committed tenant or keyset change calls it.
func (db *DB) notify(ctx context.Context, tx pgx.Tx, tenant string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, db.channel, tenant)
	return err
}

// PostgreSQL error codes translated at this edge.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeBadEncoding         = "22021" // character_not_in_repertoire: NUL, invalid UTF-8
	codeUntranslatable      = "22P05"
)

// pgError returns the *pgconn.PgError in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// isConstraint reports whether err is an integrity constraint violation
// (class 23: unique, foreign key, check, not null), as the SQLite backend's
// isConstraint.
func isConstraint(err error) bool {
	e := pgError(err)
	return e != nil && len(e.Code) == 5 && e.Code[:2] == "23"
}

// isUnique reports whether err is a unique violation of the named constraint
// (index); constraint "" matches any.
func isUnique(err error, constraint string) bool {
	e := pgError(err)
	return e != nil && e.Code == codeUniqueViolation && (constraint == "" || e.ConstraintName == constraint)
}

// isForeignKey reports whether err is a foreign key violation: for this
// schema, a row of a tenant that does not exist.
func isForeignKey(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == codeForeignKeyViolation
}

// missing reports whether err from QueryRow.Scan means the row looked for is
// not there: no row, or a key PostgreSQL cannot store (hence never stored).
func missing(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || isBadText(err)
}

// isBadText reports whether err says a text argument cannot be stored in the
// database's encoding (a NUL byte or invalid UTF-8).
func isBadText(err error) bool {
	e := pgError(err)
	return e != nil && (e.Code == codeBadEncoding || e.Code == codeUntranslatable)
}
