package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateResourceServer stores a new resource server as given (the caller
// sets its timestamps).
// Returns ErrConflict if the tenant already has a resource server with its id
// or identifier, and ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateResourceServer(ctx context.Context, rs signet.ResourceServer) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.ResourceServerArgs(rs)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO resource_servers (`+sqlcodec.ResourceServerColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrTenantNotFound
		case isConstraint(err):
			return resourceServerConflict(ctx, tx, rs)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create resource server %s: %w", rs.ID, err)
	}
	return nil
}

// resourceServerConflict names the constraint rs violated.
func resourceServerConflict(ctx context.Context, tx *sql.Tx, rs signet.ResourceServer) error {
	if _, err := getResourceServer(ctx, tx, `WHERE tenant = ? AND id = ?`, rs.Tenant, rs.ID); err == nil {
		return signet.Errorf(signet.ECONFLICT, "A resource server with id %q already exists.", rs.ID)
	}
	return signet.Errorf(signet.ECONFLICT, "A resource server with identifier %q already exists.", rs.Identifier)
}

// ResourceServer returns one resource server by id.
// Returns an error matching ErrNotFound if the tenant has none with that id.
func (db *DB) ResourceServer(ctx context.Context, tenant, id string) (signet.ResourceServer, error) {
	rs, err := getResourceServer(ctx, db.cached, `WHERE tenant = ? AND id = ?`, tenant, id)
	if err != nil {
		return signet.ResourceServer{}, fmt.Errorf("resource server %s: %w", id, err)
	}
	return rs, nil
}

// ResourceServerByIdentifier returns one resource server by its audience.
// Returns an error matching ErrNotFound if the tenant has none with that
// identifier.
func (db *DB) ResourceServerByIdentifier(ctx context.Context, tenant, identifier string) (signet.ResourceServer, error) {
	rs, err := getResourceServer(ctx, db.cached, `WHERE tenant = ? AND identifier = ?`, tenant, identifier)
	if err != nil {
		return signet.ResourceServer{}, fmt.Errorf("resource server %s: %w", identifier, err)
	}
	return rs, nil
}

// ResourceServers returns a tenant's resource servers ordered by creation.
func (db *DB) ResourceServers(ctx context.Context, tenant string) ([]signet.ResourceServer, error) {
	rss, err := queryResourceServers(ctx, db.cached, `WHERE tenant = ?`, tenant)
	if err != nil {
		return nil, fmt.Errorf("resource servers: %w", err)
	}
	return rss, nil
}

// UpdateResourceServer applies fn to a resource server in one transaction and
// stores the result as given; fn cannot change the tenant or the id. If fn
// changes the identifier, the grants for the old audience move to the new one.
// Returns fn's error as it is (nothing changes), an error matching
// ErrNotFound if the tenant has no such resource server, and ErrConflict if
// the new identifier is taken.
func (db *DB) UpdateResourceServer(ctx context.Context, tenant, id string, fn func(*signet.ResourceServer) error) (signet.ResourceServer, error) {
	var oldIdentifier string
	rs, err := update(ctx, db, "update resource server "+id,
		func(tx *sql.Tx) (signet.ResourceServer, error) {
			rs, err := getResourceServer(ctx, tx, `WHERE tenant = ? AND id = ?`, tenant, id)
			oldIdentifier = rs.Identifier
			return rs, err
		},
		fn,
		func(tx *sql.Tx, rs *signet.ResourceServer) error {
			rs.Tenant, rs.ID = tenant, id
			args, err := sqlcodec.ResourceServerArgs(*rs)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE resource_servers SET name = ?, identifier = ?, scopes = ?,
				signing_alg = ?, token_lifetime = ?, system = ?, created_at = ?, updated_at = ?
				WHERE tenant = ? AND id = ?`, args...)
			if isConstraint(err) {
				return signet.Errorf(signet.ECONFLICT, "A resource server with identifier %q already exists.", rs.Identifier)
			} else if err != nil {
				return err
			}
			if rs.Identifier == oldIdentifier {
				return nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE client_grants SET audience = ? WHERE tenant = ? AND audience = ?`,
				rs.Identifier, tenant, oldIdentifier)
			if isConstraint(err) {
				return signet.Errorf(signet.ECONFLICT, "A client grant for audience %q already exists.", rs.Identifier)
			}
			return err
		})
	rs.CreatedAt, rs.UpdatedAt = sqlcodec.UTC(rs.CreatedAt), sqlcodec.UTC(rs.UpdatedAt)
	return rs, err
}

// DeleteResourceServer deletes a resource server and the grants for its
// audience.
// Returns an error matching ErrNotFound if the tenant has no such resource
// server.
func (db *DB) DeleteResourceServer(ctx context.Context, tenant, id string) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		rs, err := getResourceServer(ctx, tx, `WHERE tenant = ? AND id = ?`, tenant, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM resource_servers WHERE tenant = ? AND id = ?`, tenant, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM client_grants WHERE tenant = ? AND audience = ?`, tenant, rs.Identifier)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete resource server %s: %w", id, err)
	}
	return nil
}

func getResourceServer(ctx context.Context, q querier, where string, args ...any) (signet.ResourceServer, error) {
	rss, err := queryResourceServers(ctx, q, where, args...)
	return one(rss, err, signet.ErrResourceServerNotFound)
}

func queryResourceServers(ctx context.Context, q querier, where string, args ...any) ([]signet.ResourceServer, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.ResourceServerColumns+` FROM resource_servers `+where+` ORDER BY seq`,
		args, sqlcodec.ScanResourceServer)
}
