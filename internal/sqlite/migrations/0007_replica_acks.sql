-- Change positions and replica heartbeats (mirrored in
-- internal/postgres/migrations/0007_replica_acks.sql).
--
-- tenants.position counts the tenant's keyset changes (CreateTenant is 1);
-- signing_keys.position is the position of the change that stored the key
-- (0: stored before positions were recorded). A replica records in
-- replica_positions the position each of its views serves, and in replicas
-- when it last did (Unix nanoseconds on the store's clock).

ALTER TABLE tenants ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE tenants SET position = 1;

CREATE TABLE replicas (
    id      TEXT    NOT NULL PRIMARY KEY,
    beat_at INTEGER NOT NULL
) STRICT;

CREATE TABLE replica_positions (
    replica  TEXT    NOT NULL REFERENCES replicas (id) ON DELETE CASCADE,
    tenant   TEXT    NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (replica, tenant)
) STRICT;
