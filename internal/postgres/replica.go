package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
)

// dbNow is the database server's clock in Unix nanoseconds (microsecond
// precision): heartbeats are dated and aged on it, so replicas' clocks need
// not agree.
const dbNow = `(extract(epoch FROM clock_timestamp()) * 1000000000)::bigint`

// Heartbeat records, in one transaction on a connection of its own (not
// the pool's, which requests may all hold), that replica is alive now on the
// database server's clock and serves the given change position of each
// tenant in positions; it deletes the replicas silent for more than
// signet.ReplicaRetention.
func (db *DB) Heartbeat(ctx context.Context, replica string, positions map[string]int64) error {
	tenants := slices.Sorted(maps.Keys(positions))
	pos := make([]int64, len(tenants))
	for i, t := range tenants {
		pos[i] = positions[t]
	}
	err := pgx.BeginFunc(ctx, db.beat, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO replicas (id, beat_at) VALUES ($1, `+dbNow+`)
			ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`, replica); err != nil {
			return err
		}
		if len(tenants) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO replica_positions (replica, tenant, position)
				SELECT $1, t, p FROM unnest($2::text[], $3::bigint[]) AS u(t, p)
				ON CONFLICT (replica, tenant) DO UPDATE SET position = excluded.position`, replica, tenants, pos); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM replicas WHERE beat_at < `+dbNow+` - $1`, int64(signet.ReplicaRetention))
		return err
	})
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", replica, err)
	}
	return nil
}

// Replicas returns the replicas whose last heartbeat is at most maxAge
// old on the database server's clock, ordered by ID, with their positions.
func (db *DB) Replicas(ctx context.Context, maxAge time.Duration) ([]signet.Replica, error) {
	rows, err := db.beat.Query(ctx, `WITH now AS (SELECT `+dbNow+` AS t)
		SELECT r.id, now.t - r.beat_at, p.tenant, p.position
		FROM now, replicas r LEFT JOIN replica_positions p ON p.replica = r.id
		WHERE r.beat_at >= now.t - $1 ORDER BY r.id, p.tenant`, int64(maxAge))
	if err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	defer rows.Close()
	var out []signet.Replica
	for rows.Next() {
		var (
			id     string
			age    int64
			tenant *string
			pos    *int64
		)
		if err := rows.Scan(&id, &age, &tenant, &pos); err != nil {
			return nil, fmt.Errorf("replicas: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, signet.Replica{ID: id, Age: time.Duration(age), Positions: map[string]int64{}})
		}
		if tenant != nil {
			out[len(out)-1].Positions[*tenant] = *pos
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	return out, nil
}

// RemoveReplica deletes replica's heartbeat and positions.
func (db *DB) RemoveReplica(ctx context.Context, replica string) error {
	if _, err := db.beat.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, replica); err != nil {
		return fmt.Errorf("remove replica %s: %w", replica, err)
	}
	return nil
}
