package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// Keyset returns a tenant's keys in the order they were added.
// Returns ErrTenantNotFound for an unknown tenant.
func (db *DB) Keyset(ctx context.Context, tenant string) (signet.Keyset, error) {
	var ks signet.Keyset
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		ks, err = loadKeyset(ctx, tx, tenant)
		return err
	})
	if err != nil {
		return signet.Keyset{}, fmt.Errorf("keyset %s: %w", tenant, err)
	}
	return ks, nil
}

// UpdateKeyset loads the tenant's keyset, calls fn with it inside one write
// transaction, checks the result with Keyset.Validate and stores the keys
// that changed and ks.Events; then it tells every Watch. Writers are
// serialised: the transaction holds SQLite's write lock from its start.
// It returns the stored keyset with Events cleared.
// Returns fn's error or the Validate error as they are (nothing changes),
// ErrTenantNotFound for an unknown tenant (fn is not called), and ErrConflict
// if an event's IdempotencyKey was already used by the tenant (nothing
// changes).
func (db *DB) UpdateKeyset(ctx context.Context, tenant string, fn func(*signet.Keyset) error) (signet.Keyset, error) {
	var (
		ks      signet.Keyset
		userErr error // from fn or Validate, returned unwrapped
	)
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		loaded, err := loadKeyset(ctx, tx, tenant)
		if err != nil {
			return err
		}
		c, err := signet.ChangeKeyset(loaded, fn)
		if err != nil {
			userErr = err
			return err
		}
		ks = c.Keyset
		ks.Position, err = storeKeyset(ctx, tx, tenant, c)
		ks.SetPositions(c)
		return err
	})
	if userErr != nil {
		return signet.Keyset{}, userErr
	}
	if err != nil {
		return signet.Keyset{}, fmt.Errorf("update keyset %s: %w", tenant, err)
	}
	db.hub.publish(tenant)
	for i := range ks.Keys {
		k := &ks.Keys[i]
		k.CreatedAt, k.CurrentSince = sqlcodec.UTC(k.CreatedAt), sqlcodec.UTC(k.CurrentSince)
		k.CurrentUntil, k.RevokedAt = sqlcodec.UTC(k.CurrentUntil), sqlcodec.UTC(k.RevokedAt)
	}
	return ks, nil
}

// loadKeyset reads a tenant's keys in the order they were added, and its
// change position.
// Returns ErrTenantNotFound for an unknown tenant.
func loadKeyset(ctx context.Context, q querier, tenant string) (signet.Keyset, error) {
	var pos int64
	err := q.QueryRowContext(ctx, `SELECT position FROM tenants WHERE name = ?`, tenant).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return signet.Keyset{}, signet.ErrTenantNotFound
	} else if err != nil {
		return signet.Keyset{}, err
	}
	keys, err := queryAll(ctx, q, `SELECT kid, algorithm, state, certificate, sealed_private_key,
		created_at, current_since, current_until, revoked_at, position
		FROM signing_keys WHERE tenant = ? ORDER BY seq`, []any{tenant}, scanKey)
	return signet.Keyset{Tenant: tenant, Keys: keys, Position: pos}, err
}

func scanKey(r sqlcodec.Scanner) (signet.Key, error) {
	var (
		k                                signet.Key
		created, since, until, revokedAt *int64
	)
	err := r.Scan(&k.KID, &k.Algorithm, &k.State, &k.Certificate, &k.SealedPrivateKey, &created, &since, &until, &revokedAt, &k.Position)
	k.CreatedAt, k.CurrentSince = sqlcodec.DecodeTime(created), sqlcodec.DecodeTime(since)
	k.CurrentUntil, k.RevokedAt = sqlcodec.DecodeTime(until), sqlcodec.DecodeTime(revokedAt)
	return k, err
}

// storeKeyset writes a change of tenant's keyset: it advances the tenant's
// change position and stores the new keys (at that position), the changed
// and removed ones and the events. It returns the new position.
// Returns ErrConflict if a new kid or an idempotency key is taken.
func storeKeyset(ctx context.Context, tx *sql.Tx, tenant string, c signet.KeysetChange) (int64, error) {
	var pos int64
	if err := tx.QueryRowContext(ctx, `UPDATE tenants SET position = position + 1 WHERE name = ? RETURNING position`, tenant).Scan(&pos); err != nil {
		return 0, err
	}
	for _, k := range c.Insert {
		if err := insertKey(ctx, tx, tenant, k, pos); err != nil {
			return 0, err
		}
	}
	for _, k := range c.Update {
		if err := updateKey(ctx, tx, tenant, k); err != nil {
			return 0, err
		}
	}
	for _, kid := range c.Delete {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE tenant = ? AND kid = ?`, tenant, kid); err != nil {
			return 0, err
		}
	}
	return pos, insertEvents(ctx, tx, tenant, c.Events)
}

// insertKey stores a new key of tenant at change position pos.
func insertKey(ctx context.Context, tx *sql.Tx, tenant string, k signet.Key, pos int64) error {
	args, err := sqlcodec.KeyArgs(tenant, k)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (`+sqlcodec.KeyColumns+`, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, pos)...)
	if isConstraint(err) {
		return signet.Errorf(signet.ECONFLICT, "Signing key %s already exists.", k.KID)
	}
	return err
}

func updateKey(ctx context.Context, tx *sql.Tx, tenant string, k signet.Key) error {
	args, err := sqlcodec.KeyArgs(tenant, k)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE signing_keys SET algorithm = ?, state = ?, certificate = ?,
		sealed_private_key = ?, created_at = ?, current_since = ?, current_until = ?, revoked_at = ?
		WHERE tenant = ? AND kid = ?`, args...)
	return err
}

// insertEvents stores evs for tenant (whatever their Tenant field says).
// Returns ErrConflict if an IdempotencyKey was already used by the tenant.
func insertEvents(ctx context.Context, tx *sql.Tx, tenant string, evs []signet.Event) error {
	for _, e := range evs {
		args, err := sqlcodec.EventArgs(tenant, e)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO events (`+sqlcodec.EventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, args...)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "Idempotency key %q was already used.", e.IdempotencyKey)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Events returns a tenant's audit events, newest first, filtered by f
// (at most f.Limit events, 100 if f.Limit is not positive). An unknown
// tenant has no events.
func (db *DB) Events(ctx context.Context, tenant string, f signet.EventFilter) ([]signet.Event, error) {
	// Each filter is its own condition rather than "?2 = '' OR …", so a
	// lookup by idempotency key uses its unique index instead of scanning.
	where := "tenant = ?1"
	if f.IdempotencyKey != "" {
		where += " AND idempotency_key = ?2"
	}
	if f.Type != "" {
		where += " AND type = ?3"
	}
	evs, err := queryAll(ctx, db.cached, `SELECT seq, `+sqlcodec.EventColumns+`
		FROM events WHERE `+where+` ORDER BY seq DESC LIMIT ?4`, []any{tenant, f.IdempotencyKey, f.Type, f.Max()},
		sqlcodec.ScanEvent)
	if err != nil {
		return nil, fmt.Errorf("events %s: %w", tenant, err)
	}
	return evs, nil
}
