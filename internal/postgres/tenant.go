package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateTenant stores t with its first keyset ks and the keyset's events, in
// one transaction that also notifies every Watch of the schema.
// Returns the error of ks.Validate if the keyset is not valid, EINVALID if
// ks belongs to another tenant, and ErrConflict if the name or one of the
// hosts is taken.
func (db *DB) CreateTenant(ctx context.Context, t signet.Tenant, ks signet.Keyset) error {
	if err := ks.ValidateFor(t.Name); err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Name, err)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.TenantArgs(t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO tenants (`+sqlcodec.TenantColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`, args...)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "Tenant %q already exists.", t.Name)
		} else if err != nil {
			return err
		}
		if err := insertHosts(ctx, tx, t.Name, t.Hosts); err != nil {
			return err
		}
		if _, err := storeKeyset(ctx, tx, t.Name, signet.KeysetChange{Insert: ks.Keys, Events: ks.Events}); err != nil {
			return err
		}
		return db.notify(ctx, tx, t.Name)
	})
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Name, err)
	}
	return nil
}

// insertHosts stores hosts as the tenant's, in order (position 0 is the
// primary host). The tenant must have no hosts stored.
// Returns ErrConflict if a host belongs to a tenant already, this one
// included (a host listed twice).
func insertHosts(ctx context.Context, tx pgx.Tx, tenant string, hosts []string) error {
	for i, h := range hosts {
		_, err := tx.Exec(ctx, `INSERT INTO tenant_hosts (host, tenant, position) VALUES ($1, $2, $3)`, h, tenant, i)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "Host %q already belongs to a tenant.", h)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Tenant returns one tenant.
// Returns ErrTenantNotFound if there is none.
func (db *DB) Tenant(ctx context.Context, name string) (signet.Tenant, error) {
	t, err := getTenant(ctx, db.reads, name)
	if err != nil {
		return signet.Tenant{}, fmt.Errorf("tenant %s: %w", name, err)
	}
	return t, nil
}

// Tenants returns all tenants ordered by name.
func (db *DB) Tenants(ctx context.Context) ([]signet.Tenant, error) {
	ts, err := queryAll(ctx, db.reads, tenantQuery+` ORDER BY t.name`, nil, scanTenant)
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	return ts, nil
}

// UpdateTenant applies fn to a tenant in one transaction and stores the
// hosts (in order; the first is the primary host), algorithm and policy that
// fn leaves, as given: the caller normalises and validates them. fn cannot
// rename the tenant or change its CreatedAt; the result keeps the stored
// ones. The transaction holds the tenant's row lock, so it is serialised with
// the tenant's keyset changes, writes an EventTenantUpdated event by actor
// dated by db.Now, and notifies every Watch of the schema when it commits.
// Returns fn's error as it is (nothing changes), ErrTenantNotFound for an
// unknown tenant (fn is not called), and ErrConflict if a host belongs to
// another tenant or is listed twice (nothing changes).
func (db *DB) UpdateTenant(ctx context.Context, name, actor string, fn func(*signet.Tenant) error) (signet.Tenant, error) {
	var created time.Time
	t, err := update(ctx, db, "update tenant "+name,
		func(tx pgx.Tx) (signet.Tenant, error) {
			if err := lockTenant(ctx, tx, name); err != nil {
				return signet.Tenant{}, err
			}
			t, err := getTenant(ctx, tx, name)
			created = t.CreatedAt
			return t, err
		},
		fn,
		func(tx pgx.Tx, t *signet.Tenant) error {
			t.Name, t.CreatedAt = name, created
			args, err := sqlcodec.TenantArgs(*t)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE tenants SET algorithm = $1, rotation_period = $2,
				revoke_previous_after = $3, min_next_age = $4 WHERE name = $5`, args[:5]...)
			if err != nil {
				return err
			}
			// Positions are unique per tenant, and hosts may swap places:
			// store the list afresh rather than diff it.
			if _, err := tx.Exec(ctx, `DELETE FROM tenant_hosts WHERE tenant = $1`, name); err != nil {
				return err
			}
			if err := insertHosts(ctx, tx, name, t.Hosts); err != nil {
				return err
			}
			if err := insertEvents(ctx, tx, name, []signet.Event{t.UpdatedEvent(db.Now(), actor)}); err != nil {
				return err
			}
			return db.notify(ctx, tx, name)
		})
	if err != nil {
		return signet.Tenant{}, err
	}
	return t, nil
}

// tenantQuery selects tenants with their hosts in order, in one statement
// (one snapshot).
const tenantQuery = `SELECT ` + sqlcodec.TenantColumns + `,
	ARRAY(SELECT h.host FROM tenant_hosts h WHERE h.tenant = t.name ORDER BY h.position)
	FROM tenants t`

// getTenant returns the tenant named name.
// Returns ErrTenantNotFound if there is none.
func getTenant(ctx context.Context, q querier, name string) (signet.Tenant, error) {
	ts, err := queryAll(ctx, q, tenantQuery+` WHERE t.name = $1`, []any{name}, scanTenant)
	return one(ts, err, signet.ErrTenantNotFound)
}

// scanTenant reads a row of tenantQuery.
func scanTenant(r sqlcodec.Scanner) (signet.Tenant, error) {
	var hosts []string
	t, err := sqlcodec.ScanTenant(r, &hosts)
	if len(hosts) > 0 {
		t.Hosts = hosts
	}
	return t, err
}
