package signet

import (
	"context"
	"time"
)

// ReplicaRetention is how long a store keeps the heartbeat of a replica
// that has gone silent before Heartbeat deletes it.
const ReplicaRetention = 24 * time.Hour

// Replica is what a replica sharing the store last recorded with
// ReplicaStore.Heartbeat.
type Replica struct {
	// ID identifies the replica: random per process.
	ID string
	// Age is how long before the Replicas call, on the store's clock, the
	// replica's last heartbeat was recorded.
	Age time.Duration
	// Positions are, by tenant, the change positions (Keyset.Position) the
	// replica's views serve.
	Positions map[string]int64
}

// ReplicaStore records which change position of each tenant every replica
// sharing the store serves, so that a replica can know that every live
// replica publishes a key before it signs with it. Times are taken on the
// store's clock (the database server's, for a shared database), so the
// replicas' clocks need not agree.
type ReplicaStore interface {
	// Heartbeat records that replica is alive now and that its views serve,
	// for each tenant in positions, that change position (a tenant it
	// leaves out keeps what was recorded). It also deletes the replicas
	// silent for more than ReplicaRetention.
	Heartbeat(ctx context.Context, replica string, positions map[string]int64) error
	// Replicas returns the replicas whose last heartbeat is at most maxAge
	// old, ordered by ID, each with every position it recorded.
	Replicas(ctx context.Context, maxAge time.Duration) ([]Replica, error)
	// RemoveReplica deletes a replica's heartbeat and positions (a replica
	// that stops); an unknown replica is not an error.
	RemoveReplica(ctx context.Context, replica string) error
}
