package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateClientGrant stores a new grant as given (the caller sets its
// timestamps). It does not check that the client or the audience exist.
// Returns ErrConflict if the tenant already has a grant with its id or for
// its client/audience pair, and ErrTenantNotFound if the tenant does not
// exist.
func (db *DB) CreateClientGrant(ctx context.Context, g signet.ClientGrant) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.ClientGrantArgs(g)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO client_grants (`+sqlcodec.ClientGrantColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrTenantNotFound
		case isConstraint(err):
			if _, err := getClientGrant(ctx, tx, g.Tenant, g.ID); err == nil {
				return signet.Errorf(signet.ECONFLICT, "A client grant with id %q already exists.", g.ID)
			}
			return grantPairConflict(g)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create client grant %s: %w", g.ID, err)
	}
	return nil
}

func grantPairConflict(g signet.ClientGrant) error {
	return signet.Errorf(signet.ECONFLICT, "A client grant for client %q and audience %q already exists.", g.ClientID, g.Audience)
}

// ClientGrant returns one grant by id.
// Returns an error matching ErrNotFound if the tenant has no such grant.
func (db *DB) ClientGrant(ctx context.Context, tenant, id string) (signet.ClientGrant, error) {
	g, err := getClientGrant(ctx, db.cached, tenant, id)
	if err != nil {
		return signet.ClientGrant{}, fmt.Errorf("client grant %s: %w", id, err)
	}
	return g, nil
}

// ClientGrants returns a tenant's grants ordered by creation, filtered by f.
func (db *DB) ClientGrants(ctx context.Context, tenant string, f signet.GrantFilter) ([]signet.ClientGrant, error) {
	gs, err := queryClientGrants(ctx, db.cached,
		`WHERE tenant = ?1 AND (?2 = '' OR client_id = ?2) AND (?3 = '' OR audience = ?3)`,
		tenant, f.ClientID, f.Audience)
	if err != nil {
		return nil, fmt.Errorf("client grants: %w", err)
	}
	return gs, nil
}

// UpdateClientGrant applies fn to a grant in one transaction and stores the
// result as given; fn cannot change the tenant or the id.
// Returns fn's error as it is (nothing changes), an error matching
// ErrNotFound if the tenant has no such grant, and ErrConflict if the new
// client/audience pair is taken.
func (db *DB) UpdateClientGrant(ctx context.Context, tenant, id string, fn func(*signet.ClientGrant) error) (signet.ClientGrant, error) {
	g, err := update(ctx, db, "update client grant "+id,
		func(tx *sql.Tx) (signet.ClientGrant, error) { return getClientGrant(ctx, tx, tenant, id) },
		fn,
		func(tx *sql.Tx, g *signet.ClientGrant) error {
			g.Tenant, g.ID = tenant, id
			args, err := sqlcodec.ClientGrantArgs(*g)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE client_grants SET client_id = ?, audience = ?, scope = ?,
				created_at = ?, updated_at = ? WHERE tenant = ? AND id = ?`, args...)
			if isConstraint(err) {
				return grantPairConflict(*g)
			}
			return err
		})
	g.CreatedAt, g.UpdatedAt = sqlcodec.UTC(g.CreatedAt), sqlcodec.UTC(g.UpdatedAt)
	return g, err
}

// DeleteClientGrant deletes a grant.
// Returns an error matching ErrNotFound if the tenant has no such grant.
func (db *DB) DeleteClientGrant(ctx context.Context, tenant, id string) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		return deleteOne(ctx, tx, signet.ErrClientGrantNotFound,
			`DELETE FROM client_grants WHERE tenant = ? AND id = ?`, tenant, id)
	})
	if err != nil {
		return fmt.Errorf("delete client grant %s: %w", id, err)
	}
	return nil
}

func getClientGrant(ctx context.Context, q querier, tenant, id string) (signet.ClientGrant, error) {
	gs, err := queryClientGrants(ctx, q, `WHERE tenant = ? AND id = ?`, tenant, id)
	return one(gs, err, signet.ErrClientGrantNotFound)
}

func queryClientGrants(ctx context.Context, q querier, where string, args ...any) ([]signet.ClientGrant, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.ClientGrantColumns+` FROM client_grants `+where+` ORDER BY seq`,
		args, sqlcodec.ScanClientGrant)
}
