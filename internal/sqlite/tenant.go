package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateTenant stores t with its first keyset ks and the keyset's events, in
// one transaction, and then tells every Watch.
// Returns the error of ks.Validate if the keyset is not valid, EINVALID if
// ks belongs to another tenant, and ErrConflict if the name or one of the
// hosts is taken.
func (db *DB) CreateTenant(ctx context.Context, t signet.Tenant, ks signet.Keyset) error {
	if err := ks.ValidateFor(t.Name); err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Name, err)
	}
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.TenantArgs(t)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tenants (`+sqlcodec.TenantColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, args...)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "Tenant %q already exists.", t.Name)
		} else if err != nil {
			return err
		}
		if err := insertHosts(ctx, tx, t.Name, t.Hosts); err != nil {
			return err
		}
		_, err = storeKeyset(ctx, tx, t.Name, signet.KeysetChange{Insert: ks.Keys, Events: ks.Events})
		return err
	})
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.Name, err)
	}
	db.hub.publish(t.Name)
	return nil
}

// insertHosts stores hosts as the tenant's, in order (position 0 is the
// primary host). The tenant must have no hosts stored.
// Returns ErrConflict if a host belongs to a tenant already, this one
// included (a host listed twice).
func insertHosts(ctx context.Context, tx *sql.Tx, tenant string, hosts []string) error {
	for i, h := range hosts {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_hosts (host, tenant, position) VALUES (?, ?, ?)`, h, tenant, i)
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
	var t signet.Tenant
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = getTenant(ctx, tx, name)
		return err
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

// UpdateTenant applies fn to a tenant in one write transaction and stores
// the hosts (in order; the first is the primary host), algorithm and policy
// that fn leaves, as given: the caller normalises and validates them. fn
// cannot rename the tenant or change its CreatedAt; the result keeps the
// stored ones. The transaction also writes an EventTenantUpdated event by
// actor, dated by db.Now, which is how Watch in other processes sharing the
// file learns of the change; after commit UpdateTenant tells every Watch of db.
// Returns fn's error as it is (nothing changes), ErrTenantNotFound for an
// unknown tenant (fn is not called), and ErrConflict if a host belongs to
// another tenant or is listed twice (nothing changes).
func (db *DB) UpdateTenant(ctx context.Context, name, actor string, fn func(*signet.Tenant) error) (signet.Tenant, error) {
	var created time.Time
	t, err := update(ctx, db, "update tenant "+name,
		func(tx *sql.Tx) (signet.Tenant, error) {
			t, err := getTenant(ctx, tx, name)
			created = t.CreatedAt
			return t, err
		},
		fn,
		func(tx *sql.Tx, t *signet.Tenant) error {
			t.Name, t.CreatedAt = name, created
			args, err := sqlcodec.TenantArgs(*t)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE tenants SET algorithm = ?, rotation_period = ?,
				revoke_previous_after = ?, min_next_age = ? WHERE name = ?`, args[:5]...)
			if err != nil {
				return err
			}
			// Positions are unique per tenant, and hosts may swap places:
			// store the list afresh rather than diff it.
			if _, err := tx.ExecContext(ctx, `DELETE FROM tenant_hosts WHERE tenant = ?`, name); err != nil {
				return err
			}
			if err := insertHosts(ctx, tx, name, t.Hosts); err != nil {
				return err
			}
			return insertEvents(ctx, tx, name, []signet.Event{t.UpdatedEvent(db.Now(), actor)})
		})
	if err != nil {
		return signet.Tenant{}, err
	}
	db.hub.publish(name)
	return t, nil
}

// getTenant returns the tenant named name.
// Returns ErrTenantNotFound if there is none.
func getTenant(ctx context.Context, tx *sql.Tx, name string) (signet.Tenant, error) {
	if name == "" { // queryTenants would return every tenant
		return signet.Tenant{}, signet.ErrTenantNotFound
	}
	ts, err := queryTenants(ctx, tx, name)
	if err != nil {
		return signet.Tenant{}, err
	}
	if len(ts) == 0 {
		return signet.Tenant{}, signet.ErrTenantNotFound
	}
	return ts[0], nil
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
	ts, err := queryAll(ctx, tx, `SELECT `+sqlcodec.TenantColumns+` FROM tenants `+where+` ORDER BY name`,
		[]any{name}, func(r sqlcodec.Scanner) (signet.Tenant, error) { return sqlcodec.ScanTenant(r) })
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	index := make(map[string]int, len(ts))
	for i, t := range ts {
		index[t.Name] = i
	}

	if name != "" {
		where = "WHERE tenant = ?1"
	}
	err = eachPair(ctx, tx, `SELECT tenant, host FROM tenant_hosts `+where+` ORDER BY tenant, position`,
		[]any{name}, func(tenant, host string) {
			if i, ok := index[tenant]; ok {
				ts[i].Hosts = append(ts[i].Hosts, host)
			}
		})
	return ts, err
}
