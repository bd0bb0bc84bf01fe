package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateClient stores a new client as given (the caller sets its timestamps).
// Returns ErrConflict if the tenant already has a client with its id, and
// ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateClient(ctx context.Context, c signet.Client) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.ClientArgs(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO clients (`+sqlcodec.ClientColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrTenantNotFound
		case isConstraint(err):
			return signet.Errorf(signet.ECONFLICT, "A client with id %q already exists.", c.ClientID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create client %s: %w", c.ClientID, err)
	}
	return nil
}

// Client returns one client.
// Returns an error matching ErrNotFound if the tenant has no such client.
func (db *DB) Client(ctx context.Context, tenant, clientID string) (signet.Client, error) {
	c, err := getClient(ctx, db.reads, tenant, clientID)
	if err != nil {
		return signet.Client{}, fmt.Errorf("client %s: %w", clientID, err)
	}
	return c, nil
}

// Clients returns a tenant's clients ordered by creation.
func (db *DB) Clients(ctx context.Context, tenant string) ([]signet.Client, error) {
	cs, err := queryClients(ctx, db.reads, `WHERE tenant = $1 ORDER BY seq`, tenant)
	if err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	return cs, nil
}

// UpdateClient applies fn to a client in one transaction and stores the
// result as given; fn cannot change the tenant or the client id. The row is
// locked while fn runs, so concurrent updates of one client do not lose
// each other's changes.
// Returns fn's error as it is (nothing changes), and an error matching
// ErrNotFound if the tenant has no such client.
func (db *DB) UpdateClient(ctx context.Context, tenant, clientID string, fn func(*signet.Client) error) (signet.Client, error) {
	c, err := update(ctx, db, "update client "+clientID,
		func(tx pgx.Tx) (signet.Client, error) {
			cs, err := queryClients(ctx, tx, `WHERE tenant = $1 AND client_id = $2 FOR UPDATE`, tenant, clientID)
			return one(cs, err, signet.ErrClientNotFound)
		},
		fn,
		func(tx pgx.Tx, c *signet.Client) error {
			c.Tenant, c.ClientID = tenant, clientID
			args, err := sqlcodec.ClientArgs(*c)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE clients SET name = $1, description = $2, app_type = $3,
				secret_hash = $4, grant_types = $5, callbacks = $6, allowed_logout_urls = $7,
				token_endpoint_auth_method = $8, id_token_lifetime = $9, refresh_token_lifetime = $10, addons = $11,
				created_at = $12, updated_at = $13 WHERE tenant = $14 AND client_id = $15`, args...)
			return err
		})
	c.CreatedAt, c.UpdatedAt = sqlcodec.UTC(c.CreatedAt), sqlcodec.UTC(c.UpdatedAt)
	return c, err
}

// DeleteClient deletes a client and its grants.
// Returns an error matching ErrNotFound if the tenant has no such client.
func (db *DB) DeleteClient(ctx context.Context, tenant, clientID string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, signet.ErrClientNotFound,
			`DELETE FROM clients WHERE tenant = $1 AND client_id = $2`, tenant, clientID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM client_grants WHERE tenant = $1 AND client_id = $2`, tenant, clientID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete client %s: %w", clientID, err)
	}
	return nil
}

func getClient(ctx context.Context, q querier, tenant, clientID string) (signet.Client, error) {
	cs, err := queryClients(ctx, q, `WHERE tenant = $1 AND client_id = $2`, tenant, clientID)
	return one(cs, err, signet.ErrClientNotFound)
}

// queryClients returns the clients that rest selects: the query's text after
// FROM clients (WHERE, ORDER BY, a locking clause).
func queryClients(ctx context.Context, q querier, rest string, args ...any) ([]signet.Client, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.ClientColumns+` FROM clients `+rest, args, sqlcodec.ScanClient)
}
