package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

// CreateResourceServer stores a new resource server as given (the caller
// sets its timestamps).
// Returns ErrConflict if the tenant already has a resource server with its id
// or identifier, and ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateResourceServer(ctx context.Context, rs signet.ResourceServer) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.ResourceServerArgs(rs)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO resource_servers (`+sqlcodec.ResourceServerColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrTenantNotFound
		case isUnique(err, "resource_servers_id"):
			return signet.Errorf(signet.ECONFLICT, "A resource server with id %q already exists.", rs.ID)
		case isConstraint(err):
			return identifierConflict(rs)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create resource server %s: %w", rs.ID, err)
	}
	return nil
}

func identifierConflict(rs signet.ResourceServer) error {
	return signet.Errorf(signet.ECONFLICT, "A resource server with identifier %q already exists.", rs.Identifier)
}

// ResourceServer returns one resource server by id.
// Returns an error matching ErrNotFound if the tenant has none with that id.
func (db *DB) ResourceServer(ctx context.Context, tenant, id string) (signet.ResourceServer, error) {
	rs, err := getResourceServer(ctx, db.reads, `WHERE tenant = $1 AND id = $2`, tenant, id)
	if err != nil {
		return signet.ResourceServer{}, fmt.Errorf("resource server %s: %w", id, err)
	}
	return rs, nil
}

// ResourceServerByIdentifier returns one resource server by its audience.
// Returns an error matching ErrNotFound if the tenant has none with that
// identifier.
func (db *DB) ResourceServerByIdentifier(ctx context.Context, tenant, identifier string) (signet.ResourceServer, error) {
	rs, err := getResourceServer(ctx, db.reads, `WHERE tenant = $1 AND identifier = $2`, tenant, identifier)
	if err != nil {
		return signet.ResourceServer{}, fmt.Errorf("resource server %s: %w", identifier, err)
	}
	return rs, nil
}

// ResourceServers returns a tenant's resource servers ordered by creation.
func (db *DB) ResourceServers(ctx context.Context, tenant string) ([]signet.ResourceServer, error) {
	rss, err := queryResourceServers(ctx, db.reads, `WHERE tenant = $1 ORDER BY seq`, tenant)
	if err != nil {
		return nil, fmt.Errorf("resource servers: %w", err)
	}
	return rss, nil
}

// UpdateResourceServer applies fn to a resource server in one transaction
// (holding its row lock) and stores the result as given; fn cannot change
// the tenant or the id. If fn changes the identifier, the grants for the old
// audience move to the new one.
// Returns fn's error as it is (nothing changes), an error matching
// ErrNotFound if the tenant has no such resource server, and ErrConflict if
// the new identifier is taken.
func (db *DB) UpdateResourceServer(ctx context.Context, tenant, id string, fn func(*signet.ResourceServer) error) (signet.ResourceServer, error) {
	var oldIdentifier string
	rs, err := update(ctx, db, "update resource server "+id,
		func(tx pgx.Tx) (signet.ResourceServer, error) {
			rs, err := getResourceServer(ctx, tx, `WHERE tenant = $1 AND id = $2 FOR UPDATE`, tenant, id)
			oldIdentifier = rs.Identifier
			return rs, err
		},
		fn,
		func(tx pgx.Tx, rs *signet.ResourceServer) error {
			rs.Tenant, rs.ID = tenant, id
			args, err := sqlcodec.ResourceServerArgs(*rs)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE resource_servers SET name = $1, identifier = $2, scopes = $3,
				signing_alg = $4, token_lifetime = $5, system = $6, created_at = $7, updated_at = $8
				WHERE tenant = $9 AND id = $10`, args...)
			if isConstraint(err) {
				return identifierConflict(*rs)
			} else if err != nil {
				return err
			}
			if rs.Identifier == oldIdentifier {
				return nil
			}
			_, err = tx.Exec(ctx, `UPDATE client_grants SET audience = $1 WHERE tenant = $2 AND audience = $3`,
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var identifier string
		err := tx.QueryRow(ctx, `DELETE FROM resource_servers WHERE tenant = $1 AND id = $2 RETURNING identifier`,
			tenant, id).Scan(&identifier)
		if missing(err) {
			return signet.ErrResourceServerNotFound
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM client_grants WHERE tenant = $1 AND audience = $2`, tenant, identifier)
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

// queryResourceServers returns the resource servers that rest selects: the
// query's text after FROM resource_servers (WHERE, ORDER BY, a locking clause).
func queryResourceServers(ctx context.Context, q querier, rest string, args ...any) ([]signet.ResourceServer, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.ResourceServerColumns+` FROM resource_servers `+rest, args,
		sqlcodec.ScanResourceServer)
}
