package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

//go:embed migrations/*.sql
var migrations embed.FS

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before it fails.
const BusyTimeout = 10 * time.Second

// DB is a signet.Store on one SQLite file. Its methods are safe for
// concurrent use.
type DB struct {
	read  *sql.DB // read-only connections, any number of readers (WAL)
	write *sql.DB // one connection; transactions begin IMMEDIATE
	// cached runs the hot read queries as prepared statements on read.
	cached *stmtCache

	// PollInterval is how often Watch looks for changes made by other
	// processes sharing the file; Open sets it to one second.
	PollInterval time.Duration
	// Now is the clock that dates the events the store writes itself
	// (EventTenantUpdated); Open sets it to time.Now.
	Now func() time.Time

	path string // the database file, for Lock's lock files
	hub  hub
}

var _ signet.Store = (*DB)(nil)

// QuickCheckTimeout bounds the integrity check Open runs. SQLite's
// quick_check reads every page once: 2.5 s for a 507 MB file of a million
// users, measured on a shared 2-core machine, so files up to about 6 GB are
// checked in full. A check that has not finished by then is abandoned and
// Open goes on unchecked.
const QuickCheckTimeout = 30 * time.Second

// Open opens (creating it if needed) the SQLite database at path, checks its
// pages with PRAGMA quick_check (within QuickCheckTimeout) and applies any
// pending migrations. path is a file name; it may not contain '?'. A new
// file is created with mode 0600 (SQLite gives its WAL the same mode): it
// holds sealed keys and secret digests.
// Returns an error if the file cannot be opened, is corrupt (the message says
// how to recover it), or a migration fails.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: open %q: need a file name without '?'", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	// FULL: a rotation that was answered must survive a power cut, or tokens
	// signed by its new current key would stop verifying.
	q.Add("_pragma", "synchronous(FULL)")

	wq := cloneValues(q)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	db := &DB{write: write, path: path}
	// The write connection goes first: it creates the file and switches it to
	// WAL, which read-only connections cannot do.
	if err := db.quickCheck(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := cloneValues(q)
	rq.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.read = read
	db.cached = newStmtCache(read)
	db.PollInterval = time.Second
	db.Now = time.Now
	return db, nil
}

// SetBusyTimeout sets how long a write waits for another process holding
// the database's write lock before it fails with SQLITE_BUSY (BusyTimeout
// until then); d <= 0 leaves it. Returns an error if the setting fails.
func (db *DB) SetBusyTimeout(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	// The write pool has one connection, kept for the DB's life: the
	// setting stays with it. Readers never wait for a lock (WAL).
	if _, err := db.write.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(d.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("sqlite: busy timeout: %w", err)
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Close ends every Watch and closes the database.
func (db *DB) Close() error {
	db.hub.close()
	db.cached.close()
	return errors.Join(db.read.Close(), db.write.Close())
}

// quickCheck runs PRAGMA quick_check, which checks the structure of every
// page (not that indexes match their tables, which integrity_check adds at
// several times the cost). It returns an error naming the first problems and
// the repair steps if the check fails, and nil if the check passes or did not
// finish within QuickCheckTimeout.
func (db *DB) quickCheck(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(ctx, QuickCheckTimeout)
	defer cancel()
	var problems []string
	rows, err := db.write.QueryContext(qctx, `PRAGMA quick_check(5)`)
	if err == nil {
		for rows.Next() {
			var msg string
			if err = rows.Scan(&msg); err != nil {
				break
			}
			if msg != "ok" {
				problems = append(problems, msg)
			}
		}
		err = errors.Join(err, rows.Err(), rows.Close())
	}
	if err != nil && qctx.Err() != nil && ctx.Err() == nil {
		return nil // too large to check in time: go on unchecked
	}
	if err == nil && len(problems) == 0 {
		return nil
	}
	if err == nil {
		err = errors.New(strings.Join(problems, "; "))
	}
	return fmt.Errorf("the database file is corrupt (quick_check: %w); stop every process using it, then restore it "+
		"from a backup, or keep what is readable: sqlite3 %[2]s \".recover\" | sqlite3 %[2]s.recovered, "+
		"then move %[2]s and its -wal and -shm files aside and rename %[2]s.recovered to %[2]s "+
		"(rows on the corrupt pages are lost)", err, db.path)
}

// migrate applies, in name order and each in its own transaction, the
// embedded migrations not yet recorded in schema_migrations.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT    NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		err := db.inWrite(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// inWrite runs fn in a write transaction (BEGIN IMMEDIATE on the one write
// connection) and commits it if fn returns nil.
func (db *DB) inWrite(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// update loads a row with get, lets fn change it and stores it with put, in
// one write transaction. fn's error is returned as it is and nothing changes;
// any other error is wrapped with what.
func update[T any](ctx context.Context, db *DB, what string, get func(*sql.Tx) (T, error), fn func(*T) error, put func(*sql.Tx, *T) error) (T, error) {
	var (
		v       T
		zero    T
		userErr error
	)
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
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

// inRead runs fn in a read transaction, so that its queries see one snapshot.
func (db *DB) inRead(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// isConstraint reports whether err is an SQLite constraint violation.
func isConstraint(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// isForeignKey reports whether err is an SQLite foreign key violation.
func isForeignKey(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// querier is what *sql.DB and *sql.Tx have in common.
// eachPair runs query, whose rows are two text columns, and calls fn with
// each row: how a list's child rows (a tenant's hosts, an admin's grants)
// are attached to their parents.
func eachPair(ctx context.Context, q querier, query string, args []any, fn func(a, b string)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return errors.Join(rows.Err(), rows.Close())
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tenantExists reports whether the tenant is stored.
func tenantExists(ctx context.Context, q querier, tenant string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE name = ?`, tenant).Scan(&n)
	return n > 0, err
}

// queryAll runs query and returns each row as scan makes it.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(sqlcodec.Scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
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
	return out, errors.Join(rows.Err(), rows.Close())
}

// hub fans committed changes out to the Watch calls of one DB.
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	done   chan struct{} // closed by close; made lazily
}

// subscriber is one Watch call. Notifications never block the writer: they
// queue here (a tenant pending twice is delivered once) until the Watch
// goroutine takes them.
type subscriber struct {
	mu      sync.Mutex
	pending []string
	wake    chan struct{} // capacity 1
}

func (h *hub) doneChan() chan struct{} {
	if h.done == nil {
		h.done = make(chan struct{})
	}
	return h.done
}

func (h *hub) subscribe() (*subscriber, <-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false
	}
	s := &subscriber{wake: make(chan struct{}, 1)}
	if h.subs == nil {
		h.subs = make(map[*subscriber]struct{})
	}
	h.subs[s] = struct{}{}
	return s, h.doneChan(), true
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
}

func (h *hub) publish(tenant string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		if !slices.Contains(s.pending, tenant) {
			s.pending = append(s.pending, tenant)
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.doneChan())
	}
}

func (s *subscriber) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	s.pending = nil
	return p
}

// errClosed is returned by Watch when the DB is closed.
var errClosed = errors.New("sqlite: database closed")

// Watch calls fn, on the calling goroutine, with the tenant's name after each
// committed keyset or tenant change made through db (CreateTenant,
// UpdateTenant, UpdateKeyset), in commit order; a tenant changed several
// times while fn runs is reported once. Changes made by other processes
// sharing the file (the CLI) are seen within PollInterval, through the events
// every such change writes. live, if not nil, is called once Watch listens and
// after each poll with the instant the poll began: every change committed
// before it, by any process, has been reported. Watch blocks until ctx is
// done and then returns ctx.Err(); it returns an error at once if db is or
// gets closed.
func (db *DB) Watch(ctx context.Context, fn func(tenant string), live func(t time.Time)) error {
	s, done, ok := db.hub.subscribe()
	if !ok {
		return errClosed
	}
	defer db.hub.unsubscribe(s)
	if live == nil {
		live = func(time.Time) {}
	}
	// Other processes (the CLI) write to the same file: every keyset or
	// tenant change writes an event, so new events name the tenants they
	// changed.
	var last int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&last); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	live(time.Now()) // every later commit has a seq above last
	poll := time.NewTicker(db.PollInterval)
	defer poll.Stop()
	for {
		var tenants []string
		var polled time.Time
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errClosed
		case <-s.wake:
			tenants = s.take()
		case <-poll.C:
			var err error
			polled = time.Now()
			if tenants, last, err = db.changedSince(ctx, last); err != nil && ctx.Err() == nil {
				continue // the next tick retries; the caller's resync is the backstop
			}
		}
		for _, tenant := range tenants {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fn(tenant)
		}
		if !polled.IsZero() {
			live(polled)
		}
	}
}

// changedSince returns the tenants named by events after seq, once each,
// and the last event's seq.
func (db *DB) changedSince(ctx context.Context, since int64) ([]string, int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT seq, tenant FROM events WHERE seq > ? ORDER BY seq`, since)
	if err != nil {
		return nil, since, err
	}
	defer rows.Close()
	var (
		tenants []string
		seq     = since
	)
	for rows.Next() {
		var tenant string
		if err := rows.Scan(&seq, &tenant); err != nil {
			return nil, since, err
		}
		if !slices.Contains(tenants, tenant) {
			tenants = append(tenants, tenant)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, since, err
	}
	return tenants, seq, nil
}
