package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/signet-auth/signet"
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
		for _, k := range c.Insert {
			if err := insertKey(ctx, tx, tenant, k); err != nil {
				return err
			}
		}
		for _, k := range c.Update {
			if err := updateKey(ctx, tx, tenant, k); err != nil {
				return err
			}
		}
		for _, kid := range c.Delete {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE tenant = ? AND kid = ?`, tenant, kid); err != nil {
				return err
			}
		}
		return insertEvents(ctx, tx, tenant, c.Events)
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
		k.CreatedAt, k.CurrentSince, k.CurrentUntil, k.RevokedAt = utc(k.CreatedAt), utc(k.CurrentSince), utc(k.CurrentUntil), utc(k.RevokedAt)
	}
	return ks, nil
}

// loadKeyset reads a tenant's keys in the order they were added.
// Returns ErrTenantNotFound for an unknown tenant.
func loadKeyset(ctx context.Context, q querier, tenant string) (signet.Keyset, error) {
	ok, err := tenantExists(ctx, q, tenant)
	if err != nil {
		return signet.Keyset{}, err
	}
	if !ok {
		return signet.Keyset{}, signet.ErrTenantNotFound
	}
	rows, err := q.QueryContext(ctx, `SELECT kid, algorithm, state, certificate, sealed_private_key,
		created_at, current_since, current_until, revoked_at
		FROM signing_keys WHERE tenant = ? ORDER BY seq`, tenant)
	if err != nil {
		return signet.Keyset{}, err
	}
	defer rows.Close()
	ks := signet.Keyset{Tenant: tenant}
	for rows.Next() {
		var (
			k                                signet.Key
			created, since, until, revokedAt sql.NullInt64
		)
		if err := rows.Scan(&k.KID, &k.Algorithm, &k.State, &k.Certificate, &k.SealedPrivateKey,
			&created, &since, &until, &revokedAt); err != nil {
			return signet.Keyset{}, err
		}
		k.CreatedAt, k.CurrentSince = decodeTime(created), decodeTime(since)
		k.CurrentUntil, k.RevokedAt = decodeTime(until), decodeTime(revokedAt)
		ks.Keys = append(ks.Keys, k)
	}
	return ks, errors.Join(rows.Err(), rows.Close())
}

func insertKey(ctx context.Context, tx *sql.Tx, tenant string, k signet.Key) error {
	ts, err := times(k.CreatedAt, k.CurrentSince, k.CurrentUntil, k.RevokedAt)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (tenant, kid, algorithm, state, certificate,
		sealed_private_key, created_at, current_since, current_until, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenant, k.KID, k.Algorithm, string(k.State), k.Certificate, k.SealedPrivateKey, ts[0], ts[1], ts[2], ts[3])
	if isConstraint(err) {
		return signet.Errorf(signet.ECONFLICT, "Signing key %s already exists.", k.KID)
	}
	return err
}

func updateKey(ctx context.Context, tx *sql.Tx, tenant string, k signet.Key) error {
	ts, err := times(k.CreatedAt, k.CurrentSince, k.CurrentUntil, k.RevokedAt)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE signing_keys SET algorithm = ?, state = ?, certificate = ?,
		sealed_private_key = ?, created_at = ?, current_since = ?, current_until = ?, revoked_at = ?
		WHERE tenant = ? AND kid = ?`,
		k.Algorithm, string(k.State), k.Certificate, k.SealedPrivateKey, ts[0], ts[1], ts[2], ts[3], tenant, k.KID)
	return err
}

// insertEvents stores evs for tenant (whatever their Tenant field says).
// Returns ErrConflict if an IdempotencyKey was already used by the tenant.
func insertEvents(ctx context.Context, tx *sql.Tx, tenant string, evs []signet.Event) error {
	for _, e := range evs {
		at, err := encodeTime(e.Time)
		if err != nil {
			return err
		}
		data, err := json.Marshal(e.Data)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO events (tenant, time, type, actor, kid, idempotency_key, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			tenant, at, e.Type, e.Actor, e.KID, nullString(e.IdempotencyKey), string(data))
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
	rows, err := db.cached.QueryContext(ctx, `SELECT seq, time, type, actor, kid, idempotency_key, data
		FROM events WHERE `+where+` ORDER BY seq DESC LIMIT ?4`, tenant, f.IdempotencyKey, f.Type, f.Max())
	if err != nil {
		return nil, fmt.Errorf("events %s: %w", tenant, err)
	}
	defer rows.Close()
	var evs []signet.Event
	for rows.Next() {
		var (
			e    signet.Event
			at   sql.NullInt64
			idem sql.NullString
			data string
		)
		if err := rows.Scan(&e.Seq, &at, &e.Type, &e.Actor, &e.KID, &idem, &data); err != nil {
			return nil, fmt.Errorf("events %s: %w", tenant, err)
		}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return nil, fmt.Errorf("events %s: event %d: %w", tenant, e.Seq, err)
		}
		e.Tenant, e.Time, e.IdempotencyKey = tenant, decodeTime(at), idem.String
		evs = append(evs, e)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("events %s: %w", tenant, err)
	}
	return evs, nil
}
