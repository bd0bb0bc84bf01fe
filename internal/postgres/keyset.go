package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// keysetQuery reads a tenant's keys in the order they were added, in one
// statement: no row means no such tenant, one row with a NULL kid a tenant
// without keys.
const keysetQuery = `SELECT k.kid, k.algorithm, k.state, k.certificate, k.sealed_private_key,
	k.created_at, k.current_since, k.current_until, k.revoked_at, k.position, t.position
	FROM tenants t LEFT JOIN signing_keys k ON k.tenant = t.name
	WHERE t.name = $1 ORDER BY k.seq`

// Keyset returns a tenant's keys in the order they were added.
// Returns ErrTenantNotFound for an unknown tenant.
func (db *DB) Keyset(ctx context.Context, tenant string) (signet.Keyset, error) {
	ks, err := loadKeyset(ctx, db.reads, tenant)
	if err != nil {
		return signet.Keyset{}, fmt.Errorf("keyset %s: %w", tenant, err)
	}
	return ks, nil
}

// UpdateKeyset loads the tenant's keyset, calls fn with it inside one
// transaction, checks the result with Keyset.Validate and stores the keys
// that changed and ks.Events; the commit notifies every Watch of the schema.
// Writers of one tenant are serialised, across processes, by the tenant's
// row lock, which the transaction takes before it reads the keys.
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockTenant(ctx, tx, tenant); err != nil {
			return err
		}
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
		if ks.Position, err = storeKeyset(ctx, tx, tenant, c); err != nil {
			return err
		}
		ks.SetPositions(c)
		return db.notify(ctx, tx, tenant)
	})
	if userErr != nil {
		return signet.Keyset{}, userErr
	}
	if err != nil {
		return signet.Keyset{}, fmt.Errorf("update keyset %s: %w", tenant, err)
	}
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
	var (
		found bool
		pos   int64
	)
	keys, err := queryAll(ctx, q, keysetQuery, []any{tenant}, func(rows sqlcodec.Scanner) (*signet.Key, error) {
		found = true
		var (
			k                                signet.Key
			kid, alg, state                  *string
			created, since, until, revokedAt *int64
			keyPos                           *int64
		)
		if err := rows.Scan(&kid, &alg, &state, &k.Certificate, &k.SealedPrivateKey,
			&created, &since, &until, &revokedAt, &keyPos, &pos); err != nil {
			return nil, err
		}
		if kid == nil { // the tenant has no keys
			return nil, nil
		}
		k.KID, k.Algorithm, k.State = *kid, *alg, signet.KeyState(*state)
		k.CreatedAt, k.CurrentSince = sqlcodec.DecodeTime(created), sqlcodec.DecodeTime(since)
		k.CurrentUntil, k.RevokedAt = sqlcodec.DecodeTime(until), sqlcodec.DecodeTime(revokedAt)
		k.Position = *keyPos
		return &k, nil
	})
	if err != nil {
		return signet.Keyset{}, err
	}
	if !found {
		return signet.Keyset{}, signet.ErrTenantNotFound
	}
	ks := signet.Keyset{Tenant: tenant, Position: pos}
	for _, k := range keys {
		if k != nil {
			ks.Keys = append(ks.Keys, *k)
		}
	}
	return ks, nil
}

// storeKeyset writes a change of tenant's keyset: it advances the tenant's
// change position and stores the new keys (at that position), the changed
// and removed ones and the events. It returns the new position.
// Returns ErrConflict if a new kid or an idempotency key is taken.
func storeKeyset(ctx context.Context, tx pgx.Tx, tenant string, c signet.KeysetChange) (int64, error) {
	var pos int64
	if err := tx.QueryRow(ctx, `UPDATE tenants SET position = position + 1 WHERE name = $1 RETURNING position`, tenant).Scan(&pos); err != nil {
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
		if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE tenant = $1 AND kid = $2`, tenant, kid); err != nil {
			return 0, err
		}
	}
	return pos, insertEvents(ctx, tx, tenant, c.Events)
}

// insertKey stores a new key of tenant at change position pos.
func insertKey(ctx context.Context, tx pgx.Tx, tenant string, k signet.Key, pos int64) error {
	args, err := sqlcodec.KeyArgs(tenant, k)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO signing_keys (`+sqlcodec.KeyColumns+`, position)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, append(args, pos)...)
	if isConstraint(err) {
		return signet.Errorf(signet.ECONFLICT, "Signing key %s already exists.", k.KID)
	}
	return err
}

func updateKey(ctx context.Context, tx pgx.Tx, tenant string, k signet.Key) error {
	args, err := sqlcodec.KeyArgs(tenant, k)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE signing_keys SET algorithm = $1, state = $2, certificate = $3,
		sealed_private_key = $4, created_at = $5, current_since = $6, current_until = $7, revoked_at = $8
		WHERE tenant = $9 AND kid = $10`, args...)
	return err
}

// insertEvents stores evs for tenant (whatever their Tenant field says).
// Returns ErrConflict if an IdempotencyKey was already used by the tenant.
func insertEvents(ctx context.Context, tx pgx.Tx, tenant string, evs []signet.Event) error {
	for _, e := range evs {
		args, err := sqlcodec.EventArgs(tenant, e)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO events (`+sqlcodec.EventColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`, args...)
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
	// Each filter is its own condition rather than "$2 = '' OR …", so a
	// lookup by idempotency key uses its unique index.
	where, args := "tenant = $1", []any{tenant}
	if f.IdempotencyKey != "" {
		args = append(args, f.IdempotencyKey)
		where += " AND idempotency_key = $" + strconv.Itoa(len(args))
	}
	if f.Type != "" {
		args = append(args, f.Type)
		where += " AND type = $" + strconv.Itoa(len(args))
	}
	args = append(args, f.Max())
	evs, err := queryAll(ctx, db.reads, `SELECT seq, `+sqlcodec.EventColumns+`
		FROM events WHERE `+where+` ORDER BY seq DESC LIMIT $`+strconv.Itoa(len(args)), args, sqlcodec.ScanEvent)
	if err != nil {
		return nil, fmt.Errorf("events %s: %w", tenant, err)
	}
	return evs, nil
}
