package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/signet-auth/signet"
)

// CreateClient stores a new client as given (the caller sets its timestamps).
// Returns ErrConflict if the tenant already has a client with its id, and
// ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateClient(ctx context.Context, c signet.Client) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		cols, err := clientColumns(c)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO clients (name, description, app_type, secret_hash, grant_types,
			callbacks, allowed_logout_urls, token_endpoint_auth_method, id_token_lifetime, refresh_token_lifetime,
			addons, created_at, updated_at, tenant, client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
			cols, err := clientColumns(*c)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE clients SET name = ?, description = ?, app_type = ?,
				secret_hash = ?, grant_types = ?, callbacks = ?, allowed_logout_urls = ?,
				token_endpoint_auth_method = ?, id_token_lifetime = ?, refresh_token_lifetime = ?, addons = ?,
				created_at = ?, updated_at = ? WHERE tenant = ? AND client_id = ?`,
				append(cols, tenant, clientID)...)
			return err
		})
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
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
	rows, err := q.QueryContext(ctx, `SELECT tenant, client_id, name, description, app_type, secret_hash,
		grant_types, callbacks, allowed_logout_urls, token_endpoint_auth_method, id_token_lifetime,
		refresh_token_lifetime, addons, created_at, updated_at FROM clients `+where+` ORDER BY seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []signet.Client
	for rows.Next() {
		var (
			c                                         signet.Client
			grantTypes, callbacks, logoutURLs, addons string
			created, updated                          sql.NullInt64
		)
		if err := rows.Scan(&c.Tenant, &c.ClientID, &c.Name, &c.Description, &c.AppType, &c.SecretHash,
			&grantTypes, &callbacks, &logoutURLs, &c.TokenEndpointAuthMethod, &c.IDTokenLifetime,
			&c.RefreshTokenLifetime, &addons, &created, &updated); err != nil {
			return nil, err
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
				return nil, fmt.Errorf("client %s: %s: %w", c.ClientID, f.name, err)
			}
		}
		c.CreatedAt, c.UpdatedAt = decodeTime(created), decodeTime(updated)
		cs = append(cs, c)
	}
	return cs, errors.Join(rows.Err(), rows.Close())
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

// nonNil returns s, or an empty slice if s is nil, so that it is stored as
// the JSON array [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
