-- Mirrors internal/sqlite/migrations/0001_init.sql.
-- Times are Unix nanoseconds (bigint, UTC); NULL is the zero time.
-- Durations are nanoseconds. Lists and maps are JSON text (text, not jsonb:
-- stored exactly as written, like SQLite's). Names compare and sort
-- byte-wise (COLLATE "C"), as in SQLite. Constraints are named: the Go code
-- tells which one a unique violation broke by its name.

CREATE TABLE tenants (
    name                  text COLLATE "C" NOT NULL,
    algorithm             text   NOT NULL,
    rotation_period       bigint NOT NULL,
    revoke_previous_after bigint NOT NULL,
    min_next_age          bigint NOT NULL,
    created_at            bigint,
    CONSTRAINT tenants_pkey PRIMARY KEY (name)
);

-- A host reaches exactly one tenant; position keeps the tenant's order (0 is
-- the primary host).
CREATE TABLE tenant_hosts (
    host     text COLLATE "C" NOT NULL,
    tenant   text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    position integer NOT NULL,
    CONSTRAINT tenant_hosts_pkey PRIMARY KEY (host),
    CONSTRAINT tenant_hosts_position UNIQUE (tenant, position)
);

CREATE TABLE signing_keys (
    seq                bigint GENERATED ALWAYS AS IDENTITY,
    tenant             text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    kid                text   NOT NULL,
    algorithm          text   NOT NULL,
    state              text   NOT NULL CHECK (state IN ('next', 'current', 'previous', 'revoked')),
    certificate        bytea,
    -- The ciphertext the domain hands over, never anything else.
    sealed_private_key bytea,
    created_at         bigint,
    current_since      bigint,
    current_until      bigint,
    revoked_at         bigint,
    CONSTRAINT signing_keys_pkey PRIMARY KEY (seq),
    CONSTRAINT signing_keys_kid UNIQUE (tenant, kid)
);

CREATE TABLE events (
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    tenant          text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    time            bigint,
    type            text NOT NULL,
    actor           text NOT NULL,
    kid             text NOT NULL,
    idempotency_key text,
    data            text NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (seq)
);

CREATE INDEX events_tenant_seq ON events (tenant, seq);
CREATE UNIQUE INDEX events_idempotency_key ON events (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE clients (
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    tenant      text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    client_id   text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL,
    app_type    text NOT NULL,
    secret_hash bytea,
    grant_types text NOT NULL,
    created_at  bigint,
    updated_at  bigint,
    CONSTRAINT clients_pkey PRIMARY KEY (seq),
    CONSTRAINT clients_client_id UNIQUE (tenant, client_id)
);

CREATE TABLE resource_servers (
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    tenant         text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id             text    NOT NULL,
    name           text    NOT NULL,
    identifier     text    NOT NULL,
    scopes         text    NOT NULL,
    signing_alg    text    NOT NULL,
    token_lifetime bigint  NOT NULL,
    system         boolean NOT NULL,
    created_at     bigint,
    updated_at     bigint,
    CONSTRAINT resource_servers_pkey PRIMARY KEY (seq),
    CONSTRAINT resource_servers_id UNIQUE (tenant, id),
    CONSTRAINT resource_servers_identifier UNIQUE (tenant, identifier)
);

CREATE TABLE client_grants (
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         text NOT NULL,
    client_id  text NOT NULL,
    audience   text NOT NULL,
    scope      text NOT NULL,
    created_at bigint,
    updated_at bigint,
    CONSTRAINT client_grants_pkey PRIMARY KEY (seq),
    CONSTRAINT client_grants_id UNIQUE (tenant, id),
    CONSTRAINT client_grants_pair UNIQUE (tenant, client_id, audience)
);

CREATE INDEX client_grants_audience ON client_grants (tenant, audience);
