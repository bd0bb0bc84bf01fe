package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateClientGrant stores a new grant as given (the caller sets its
// timestamps). It does not check that the client or the audience exist.
// Returns ErrConflict if the tenant already has a grant with its id or for
// its client/audience pair, and ErrTenantNotFound if the tenant does not
// exist.
func (db *DB) CreateClientGrant(ctx context.Context, g signet.ClientGrant) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.ClientGrantArgs(g)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO client_grants (`+sqlcodec.ClientGrantColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrTenantNotFound
		case isUnique(err, "client_grants_id"):
			return signet.Errorf(signet.ECONFLICT, "A client grant with id %q already exists.", g.ID)
		case isConstraint(err):
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
	g, err := getClientGrant(ctx, db.reads, `WHERE tenant = $1 AND id = $2`, tenant, id)
	if err != nil {
		return signet.ClientGrant{}, fmt.Errorf("client grant %s: %w", id, err)
	}
	return g, nil
}

// ClientGrants returns a tenant's grants ordered by creation, filtered by f.
func (db *DB) ClientGrants(ctx context.Context, tenant string, f signet.GrantFilter) ([]signet.ClientGrant, error) {
	where, args := "WHERE tenant = $1", []any{tenant}
	if f.ClientID != "" {
		args = append(args, f.ClientID)
		where += " AND client_id = $" + strconv.Itoa(len(args))
	}
	if f.Audience != "" {
		args = append(args, f.Audience)
		where += " AND audience = $" + strconv.Itoa(len(args))
	}
	gs, err := queryClientGrants(ctx, db.reads, where+" ORDER BY seq", args...)
	if err != nil {
		return nil, fmt.Errorf("client grants: %w", err)
	}
	return gs, nil
}

// UpdateClientGrant applies fn to a grant in one transaction (holding its
// row lock) and stores the result as given; fn cannot change the tenant or
// the id.
// Returns fn's error as it is (nothing changes), an error matching
// ErrNotFound if the tenant has no such grant, and ErrConflict if the new
// client/audience pair is taken.
func (db *DB) UpdateClientGrant(ctx context.Context, tenant, id string, fn func(*signet.ClientGrant) error) (signet.ClientGrant, error) {
	g, err := update(ctx, db, "update client grant "+id,
		func(tx pgx.Tx) (signet.ClientGrant, error) {
			return getClientGrant(ctx, tx, `WHERE tenant = $1 AND id = $2 FOR UPDATE`, tenant, id)
		},
		fn,
		func(tx pgx.Tx, g *signet.ClientGrant) error {
			g.Tenant, g.ID = tenant, id
			args, err := sqlcodec.ClientGrantArgs(*g)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE client_grants SET client_id = $1, audience = $2, scope = $3,
				created_at = $4, updated_at = $5 WHERE tenant = $6 AND id = $7`, args...)
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return deleteOne(ctx, tx, signet.ErrClientGrantNotFound,
			`DELETE FROM client_grants WHERE tenant = $1 AND id = $2`, tenant, id)
	})
	if err != nil {
		return fmt.Errorf("delete client grant %s: %w", id, err)
	}
	return nil
}

func getClientGrant(ctx context.Context, q querier, where string, args ...any) (signet.ClientGrant, error) {
	gs, err := queryClientGrants(ctx, q, where, args...)
	return one(gs, err, signet.ErrClientGrantNotFound)
}

// queryClientGrants returns the grants that rest selects: the query's text
// after FROM client_grants (WHERE, ORDER BY, a locking clause).
func queryClientGrants(ctx context.Context, q querier, rest string, args ...any) ([]signet.ClientGrant, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.ClientGrantColumns+` FROM client_grants `+rest, args, sqlcodec.ScanClientGrant)
}
