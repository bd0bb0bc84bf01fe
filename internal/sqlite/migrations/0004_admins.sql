-- Dashboard administrators, the tenants granted to them, and their sessions.
-- Times are Unix nanoseconds (INTEGER, UTC); NULL is the zero time.

CREATE TABLE admins (
    id              TEXT    NOT NULL PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE,
    -- Argon2id, PHC string format; never the password.
    password_hash   TEXT    NOT NULL,
    created_at      INTEGER,
    updated_at      INTEGER,
    last_sign_in_at INTEGER
) STRICT;

CREATE TABLE admin_grants (
    admin_id TEXT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    tenant   TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    PRIMARY KEY (admin_id, tenant)
) STRICT;

CREATE INDEX admin_grants_tenant ON admin_grants (tenant);

CREATE TABLE admin_sessions (
    -- SHA-256 of the session id; the id itself is only in the browser.
    id_hash      BLOB    NOT NULL PRIMARY KEY,
    admin_id     TEXT    NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at   INTEGER,
    last_seen_at INTEGER,
    expires_at   INTEGER NOT NULL,
    flash        TEXT    NOT NULL
) STRICT;

CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
