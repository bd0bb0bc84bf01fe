package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateClient stores a new client as given (the caller sets its timestamps).
// Returns ErrConflict if the tenant already has a client with its id, and
// ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateClient(ctx context.Context, c signet.Client) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.ClientArgs(c)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO clients (`+sqlcodec.ClientColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
	c, err := getClient(ctx, db.cached, tenant, clientID)
	if err != nil {
		return signet.Client{}, fmt.Errorf("client %s: %w", clientID, err)
	}
	return c, nil
}

// Clients returns a tenant's clients ordered by creation.
func (db *DB) Clients(ctx context.Context, tenant string) ([]signet.Client, error) {
	cs, err := queryClients(ctx, db.cached, `WHERE tenant = ?`, tenant)
	if err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	return cs, nil
}

// UpdateClient applies fn to a client in one transaction and stores the
// result as given; fn cannot change the tenant or the client id.
// Returns fn's error as it is (nothing changes), and an error matching
// ErrNotFound if the tenant has no such client.
func (db *DB) UpdateClient(ctx context.Context, tenant, clientID string, fn func(*signet.Client) error) (signet.Client, error) {
	c, err := update(ctx, db, "update client "+clientID,
		func(tx *sql.Tx) (signet.Client, error) { return getClient(ctx, tx, tenant, clientID) },
		fn,
		func(tx *sql.Tx, c *signet.Client) error {
			c.Tenant, c.ClientID = tenant, clientID
			args, err := sqlcodec.ClientArgs(*c)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE clients SET name = ?, description = ?, app_type = ?,
				secret_hash = ?, grant_types = ?, callbacks = ?, allowed_logout_urls = ?,
				token_endpoint_auth_method = ?, id_token_lifetime = ?, refresh_token_lifetime = ?, addons = ?,
				created_at = ?, updated_at = ? WHERE tenant = ? AND client_id = ?`, args...)
			return err
		})
	c.CreatedAt, c.UpdatedAt = sqlcodec.UTC(c.CreatedAt), sqlcodec.UTC(c.UpdatedAt)
	return c, err
}

// DeleteClient deletes a client and its grants.
// Returns an error matching ErrNotFound if the tenant has no such client.
func (db *DB) DeleteClient(ctx context.Context, tenant, clientID string) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, signet.ErrClientNotFound,
			`DELETE FROM clients WHERE tenant = ? AND client_id = ?`, tenant, clientID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM client_grants WHERE tenant = ? AND client_id = ?`, tenant, clientID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete client %s: %w", clientID, err)
	}
	return nil
}

func getClient(ctx context.Context, q querier, tenant, clientID string) (signet.Client, error) {
	cs, err := queryClients(ctx, q, `WHERE tenant = ? AND client_id = ?`, tenant, clientID)
	return one(cs, err, signet.ErrClientNotFound)
}

func queryClients(ctx context.Context, q querier, where string, args ...any) ([]signet.Client, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.ClientColumns+` FROM clients `+where+` ORDER BY seq`, args, sqlcodec.ScanClient)
}

// deleteOne runs a DELETE and returns notFound if it deleted no row.
func deleteOne(ctx context.Context, tx *sql.Tx, notFound error, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}
