-- Mirrors internal/sqlite/migrations/0004_admins.sql.
-- Dashboard administrators, the tenants granted to them, and their sessions
-- (stored only as SHA-256 digests of their ids).

CREATE TABLE admins (
    id              text COLLATE "C" NOT NULL,
    email           text COLLATE "C" NOT NULL,
    -- Argon2id, PHC string format; never the password.
    password_hash   text   NOT NULL,
    created_at      bigint,
    updated_at      bigint,
    last_sign_in_at bigint,
    CONSTRAINT admins_pkey PRIMARY KEY (id),
    CONSTRAINT admins_email UNIQUE (email)
);

CREATE TABLE admin_grants (
    admin_id text COLLATE "C" NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    tenant   text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    CONSTRAINT admin_grants_pkey PRIMARY KEY (admin_id, tenant)
);

CREATE INDEX admin_grants_tenant ON admin_grants (tenant);

CREATE TABLE admin_sessions (
    id_hash      bytea  NOT NULL,
    admin_id     text COLLATE "C" NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at   bigint,
    last_seen_at bigint,
    expires_at   bigint NOT NULL,
    flash        text   NOT NULL,
    CONSTRAINT admin_sessions_pkey PRIMARY KEY (id_hash)
);

CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
