-- Users and the state of the OpenID Connect flow. Session ids, codes and
-- refresh tokens are stored only as SHA-256 digests.

CREATE TABLE users (
    seq            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant         TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id             TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    email_verified INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    blocked        INTEGER NOT NULL,
    last_login     INTEGER,
    logins_count   INTEGER NOT NULL,
    created_at     INTEGER,
    updated_at     INTEGER,
    UNIQUE (tenant, id),
    UNIQUE (tenant, email)
) STRICT;

CREATE TABLE login_sessions (
    tenant     TEXT    NOT NULL,
    id_hash    BLOB    NOT NULL,
    user_id    TEXT    NOT NULL,
    auth_time  INTEGER,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id_hash),
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX login_sessions_user ON login_sessions (tenant, user_id);
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);

CREATE TABLE auth_codes (
    tenant         TEXT    NOT NULL,
    code_hash      BLOB    NOT NULL,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    audience       TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    auth_time      INTEGER,
    family_id      TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    PRIMARY KEY (tenant, code_hash),
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX auth_codes_user ON auth_codes (tenant, user_id);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE refresh_tokens (
    tenant     TEXT    NOT NULL,
    token_hash BLOB    NOT NULL,
    family_id  TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    audience   TEXT    NOT NULL,
    auth_time  INTEGER,
    created_at INTEGER,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER,
    PRIMARY KEY (tenant, token_hash),
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant, family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant, user_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
