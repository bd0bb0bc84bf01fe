-- Mirrors internal/sqlite/migrations/0007_replica_acks.sql.
--
-- tenants.position counts the tenant's keyset changes (CreateTenant is 1);
-- signing_keys.position is the position of the change that stored the key
-- (0: stored before positions were recorded). A replica records in
-- replica_positions the position each of its views serves, and in replicas
-- when it last did (Unix nanoseconds on the database server's clock).

ALTER TABLE tenants ADD COLUMN position bigint NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN position bigint NOT NULL DEFAULT 0;
UPDATE tenants SET position = 1;

CREATE TABLE replicas (
    id      text COLLATE "C" NOT NULL,
    beat_at bigint NOT NULL,
    CONSTRAINT replicas_pkey PRIMARY KEY (id)
);

CREATE TABLE replica_positions (
    replica  text COLLATE "C" NOT NULL REFERENCES replicas (id) ON DELETE CASCADE,
    tenant   text COLLATE "C" NOT NULL,
    position bigint NOT NULL,
    CONSTRAINT replica_positions_pkey PRIMARY KEY (replica, tenant)
);
