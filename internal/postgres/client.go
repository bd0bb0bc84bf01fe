package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
)

// CreateClient stores a new client as given (the caller sets its timestamps).
// Returns ErrConflict if the tenant already has a client with its id, and
// ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateClient(ctx context.Context, c signet.Client) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		cols, err := clientColumns(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO clients (name, description, app_type, secret_hash, grant_types,
			callbacks, allowed_logout_urls, token_endpoint_auth_method, id_token_lifetime, refresh_token_lifetime,
			addons, created_at, updated_at, tenant, client_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			append(cols, c.Tenant, c.ClientID)...)
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
	c, err := getClient(ctx, db.pool, tenant, clientID)
	if err != nil {
		return signet.Client{}, fmt.Errorf("client %s: %w", clientID, err)
	}
	return c, nil
}

// Clients returns a tenant's clients ordered by creation.
func (db *DB) Clients(ctx context.Context, tenant string) ([]signet.Client, error) {
	cs, err := queryClients(ctx, db.pool, `WHERE tenant = $1 ORDER BY seq`, tenant)
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
			cols, err := clientColumns(*c)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE clients SET name = $1, description = $2, app_type = $3,
				secret_hash = $4, grant_types = $5, callbacks = $6, allowed_logout_urls = $7,
				token_endpoint_auth_method = $8, id_token_lifetime = $9, refresh_token_lifetime = $10, addons = $11,
				created_at = $12, updated_at = $13 WHERE tenant = $14 AND client_id = $15`,
				append(cols, tenant, clientID)...)
			return err
		})
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
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

// clientColumns returns c's stored columns in the order of CreateClient's
// INSERT and UpdateClient's SET: name through updated_at.
func clientColumns(c signet.Client) ([]any, error) {
	ts, err := times(c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	var lists [4]string
	for i, v := range []any{nonNil(c.GrantTypes), nonNil(c.Callbacks), nonNil(c.AllowedLogoutURLs), c.Addons} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		lists[i] = string(b)
	}
	return []any{c.Name, c.Description, c.AppType, c.SecretHash, lists[0], lists[1], lists[2],
		c.TokenEndpointAuthMethod, c.IDTokenLifetime, c.RefreshTokenLifetime, lists[3], ts[0], ts[1]}, nil
}

func getClient(ctx context.Context, q querier, tenant, clientID string) (signet.Client, error) {
	cs, err := queryClients(ctx, q, `WHERE tenant = $1 AND client_id = $2`, tenant, clientID)
	return one(cs, err, signet.ErrClientNotFound)
}

// queryClients returns the clients that rest selects: the query's text after
// FROM clients (WHERE, ORDER BY, a locking clause).
func queryClients(ctx context.Context, q querier, rest string, args ...any) ([]signet.Client, error) {
	return queryAll(ctx, q, `SELECT tenant, client_id, name, description, app_type, secret_hash,
		grant_types, callbacks, allowed_logout_urls, token_endpoint_auth_method, id_token_lifetime,
		refresh_token_lifetime, addons, created_at, updated_at FROM clients `+rest, args,
		func(rows pgx.Rows) (signet.Client, error) {
			var (
				c                                         signet.Client
				grantTypes, callbacks, logoutURLs, addons string
				created, updated                          *int64
			)
			if err := rows.Scan(&c.Tenant, &c.ClientID, &c.Name, &c.Description, &c.AppType, &c.SecretHash,
				&grantTypes, &callbacks, &logoutURLs, &c.TokenEndpointAuthMethod, &c.IDTokenLifetime,
				&c.RefreshTokenLifetime, &addons, &created, &updated); err != nil {
				return signet.Client{}, err
			}
			for _, f := range []struct {
				name string
				text string
				dst  any
			}{
				{"grant types", grantTypes, &c.GrantTypes},
				{"callbacks", callbacks, &c.Callbacks},
				{"allowed logout urls", logoutURLs, &c.AllowedLogoutURLs},
				{"addons", addons, &c.Addons},
			} {
				if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
					return signet.Client{}, fmt.Errorf("client %s: %s: %w", c.ClientID, f.name, err)
				}
			}
			c.CreatedAt, c.UpdatedAt = decodeTime(created), decodeTime(updated)
			return c, nil
		})
}
