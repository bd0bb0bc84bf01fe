package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/signet-auth/signet"
)

// CreateTenant stores t with its first keyset ks and the keyset's events, in
// one transaction, and then tells every Watch.
// Returns the error of ks.Validate if the keyset is not valid, EINVALID if
// ks belongs to another tenant, and ErrConflict if the name or one of the
// hosts is taken.
func (db *DB) CreateTenant(ctx context.Context, t signet.Tenant, ks signet.Keyset) error {
	if ks.Tenant != "" && ks.Tenant != t.Name {
		return fmt.Errorf("create tenant %s: %w", t.Name,
			signet.Errorf(signet.EINVALID, "The keyset belongs to tenant %q, not %q.", ks.Tenant, t.Name))
	}
	if err := ks.Validate(); err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Name, err)
	}
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		created, err := encodeTime(t.CreatedAt)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tenants
			(name, algorithm, rotation_period, revoke_previous_after, min_next_age, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			t.Name, t.Algorithm, int64(t.Policy.RotationPeriod), int64(t.Policy.RevokePreviousAfter),
			int64(t.Policy.MinNextAge), created)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "Tenant %q already exists.", t.Name)
		} else if err != nil {
			return err
		}
		for i, h := range t.Hosts {
			_, err := tx.ExecContext(ctx, `INSERT INTO tenant_hosts (host, tenant, position) VALUES (?, ?, ?)`, h, t.Name, i)
			if isConstraint(err) {
				return signet.Errorf(signet.ECONFLICT, "Host %q already belongs to a tenant.", h)
			} else if err != nil {
				return err
			}
		}
		for _, k := range ks.Keys {
			if err := insertKey(ctx, tx, t.Name, k); err != nil {
				return err
			}
		}
		return insertEvents(ctx, tx, t.Name, ks.Events)
	})
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Name, err)
	}
	db.hub.publish(t.Name)
	return nil
}

// Tenant returns one tenant.
// Returns ErrTenantNotFound if there is none.
func (db *DB) Tenant(ctx context.Context, name string) (signet.Tenant, error) {
	var t signet.Tenant
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		ts, err := queryTenants(ctx, tx, name)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return signet.ErrTenantNotFound
		}
		t = ts[0]
		return nil
	})
	if err != nil {
		return signet.Tenant{}, fmt.Errorf("tenant %s: %w", name, err)
	}
	return t, nil
}

// Tenants returns all tenants ordered by name.
func (db *DB) Tenants(ctx context.Context) ([]signet.Tenant, error) {
	var ts []signet.Tenant
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		ts, err = queryTenants(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	return ts, nil
}

// queryTenants returns the tenant named name, or every tenant if name is
// "", ordered by name, each with its hosts in order.
func queryTenants(ctx context.Context, tx *sql.Tx, name string) ([]signet.Tenant, error) {
	// Two statements rather than "?1 = '' OR name = ?1", which SQLite cannot
	// answer from the primary key: one tenant must not cost a full scan.
	where := ""
	if name != "" {
		where = "WHERE name = ?1"
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, algorithm, rotation_period, revoke_previous_after,
		min_next_age, created_at FROM tenants `+where+` ORDER BY name`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []signet.Tenant
	index := map[string]int{}
	for rows.Next() {
		var (
			t                 signet.Tenant
			rot, revoke, next int64
			created           sql.NullInt64
		)
		if err := rows.Scan(&t.Name, &t.Algorithm, &rot, &revoke, &next, &created); err != nil {
			return nil, err
		}
		t.Policy = signet.Policy{
			RotationPeriod:      time.Duration(rot),
			RevokePreviousAfter: time.Duration(revoke),
			MinNextAge:          time.Duration(next),
		}
		t.CreatedAt = decodeTime(created)
		index[t.Name] = len(ts)
		ts = append(ts, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(ts) == 0 {
		return ts, err
	}

	if name != "" {
		where = "WHERE tenant = ?1"
	}
	hrows, err := tx.QueryContext(ctx, `SELECT tenant, host FROM tenant_hosts `+where+`
		ORDER BY tenant, position`, name)
	if err != nil {
		return nil, err
	}
	defer hrows.Close()
	for hrows.Next() {
		var tenant, host string
		if err := hrows.Scan(&tenant, &host); err != nil {
			return nil, err
		}
		if i, ok := index[tenant]; ok {
			ts[i].Hosts = append(ts[i].Hosts, host)
		}
	}
	return ts, errors.Join(hrows.Err(), hrows.Close())
}
