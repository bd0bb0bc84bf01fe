-- Times are Unix nanoseconds (INTEGER, UTC); NULL is the zero time.
-- Durations are nanoseconds. Lists are JSON text.

CREATE TABLE tenants (
    name                  TEXT    NOT NULL PRIMARY KEY,
    algorithm             TEXT    NOT NULL,
    rotation_period       INTEGER NOT NULL,
    revoke_previous_after INTEGER NOT NULL,
    min_next_age          INTEGER NOT NULL,
    created_at            INTEGER
) STRICT;

-- A host reaches exactly one tenant; position keeps the tenant's order (0 is
-- the primary host).
CREATE TABLE tenant_hosts (
    host     TEXT    NOT NULL PRIMARY KEY,
    tenant   TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    UNIQUE (tenant, position)
) STRICT;

CREATE TABLE signing_keys (
    seq                INTEGER NOT NULL PRIMARY KEY,
    tenant             TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    kid                TEXT    NOT NULL,
    algorithm          TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('next', 'current', 'previous', 'revoked')),
    certificate        BLOB,
    -- The ciphertext the domain hands over, never anything else.
    sealed_private_key BLOB,
    created_at         INTEGER,
    current_since      INTEGER,
    current_until      INTEGER,
    revoked_at         INTEGER,
    UNIQUE (tenant, kid)
) STRICT;

CREATE TABLE events (
    seq             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant          TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    time            INTEGER,
    type            TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    kid             TEXT    NOT NULL,
    idempotency_key TEXT,
    data            TEXT    NOT NULL
) STRICT;

CREATE INDEX events_tenant_seq ON events (tenant, seq);
CREATE UNIQUE INDEX events_idempotency_key ON events (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE clients (
    seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    app_type    TEXT    NOT NULL,
    secret_hash BLOB,
    grant_types TEXT    NOT NULL,
    created_at  INTEGER,
    updated_at  INTEGER,
    UNIQUE (tenant, client_id)
) STRICT;

CREATE TABLE resource_servers (
    seq            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant         TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id             TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    identifier     TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    signing_alg    TEXT    NOT NULL,
    token_lifetime INTEGER NOT NULL,
    system         INTEGER NOT NULL,
    created_at     INTEGER,
    updated_at     INTEGER,
    UNIQUE (tenant, id),
    UNIQUE (tenant, identifier)
) STRICT;

CREATE TABLE client_grants (
    seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant     TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    audience   TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    created_at INTEGER,
    updated_at INTEGER,
    UNIQUE (tenant, id),
    UNIQUE (tenant, client_id, audience)
) STRICT;

CREATE INDEX client_grants_audience ON client_grants (tenant, audience);
