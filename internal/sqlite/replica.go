package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/signet-auth/signet"
)

// Heartbeat records, in one write transaction, that replica is alive at
// db.Now and serves the given change position of each tenant in positions;
// it deletes the replicas silent for more than signet.ReplicaRetention.
func (db *DB) Heartbeat(ctx context.Context, replica string, positions map[string]int64) error {
	now := db.Now().UnixNano()
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM replicas WHERE beat_at < ?`, now-int64(signet.ReplicaRetention)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO replicas (id, beat_at) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`, replica, now); err != nil {
			return err
		}
		for _, tenant := range slices.Sorted(maps.Keys(positions)) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO replica_positions (replica, tenant, position) VALUES (?, ?, ?)
				ON CONFLICT (replica, tenant) DO UPDATE SET position = excluded.position`, replica, tenant, positions[tenant]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", replica, err)
	}
	return nil
}

// Replicas returns the replicas whose last heartbeat is at most maxAge
// before db.Now, ordered by ID, with their positions.
func (db *DB) Replicas(ctx context.Context, maxAge time.Duration) ([]signet.Replica, error) {
	now := db.Now().UnixNano()
	var out []signet.Replica
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.beat_at, p.tenant, p.position
			FROM replicas r LEFT JOIN replica_positions p ON p.replica = r.id
			WHERE r.beat_at >= ? ORDER BY r.id, p.tenant`, now-int64(maxAge))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id     string
				beat   int64
				tenant *string
				pos    *int64
			)
			if err := rows.Scan(&id, &beat, &tenant, &pos); err != nil {
				return err
			}
			if len(out) == 0 || out[len(out)-1].ID != id {
				out = append(out, signet.Replica{ID: id, Age: time.Duration(now - beat), Positions: map[string]int64{}})
			}
			if tenant != nil {
				out[len(out)-1].Positions[*tenant] = *pos
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	return out, nil
}

// RemoveReplica deletes replica's heartbeat and positions.
func (db *DB) RemoveReplica(ctx context.Context, replica string) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM replicas WHERE id = ?`, replica)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove replica %s: %w", replica, err)
	}
	return nil
}
