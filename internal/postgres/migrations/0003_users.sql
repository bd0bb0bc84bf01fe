-- Mirrors internal/sqlite/migrations/0003_users.sql.
-- Users and the state of the OpenID Connect flow. Session ids, codes and
-- refresh tokens are stored only as SHA-256 digests.

CREATE TABLE users (
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    tenant         text COLLATE "C" NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id             text COLLATE "C" NOT NULL,
    email          text COLLATE "C" NOT NULL,
    email_verified boolean NOT NULL,
    name           text    NOT NULL,
    password_hash  text    NOT NULL,
    blocked        boolean NOT NULL,
    last_login     bigint,
    logins_count   bigint  NOT NULL,
    created_at     bigint,
    updated_at     bigint,
    CONSTRAINT users_pkey PRIMARY KEY (seq),
    CONSTRAINT users_id UNIQUE (tenant, id),
    CONSTRAINT users_email UNIQUE (tenant, email)
);

CREATE TABLE login_sessions (
    tenant     text COLLATE "C" NOT NULL,
    id_hash    bytea  NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    auth_time  bigint,
    expires_at bigint NOT NULL,
    CONSTRAINT login_sessions_pkey PRIMARY KEY (tenant, id_hash),
    CONSTRAINT login_sessions_user FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
);

CREATE INDEX login_sessions_user_idx ON login_sessions (tenant, user_id);
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);

CREATE TABLE auth_codes (
    tenant         text COLLATE "C" NOT NULL,
    code_hash      bytea  NOT NULL,
    client_id      text   NOT NULL,
    redirect_uri   text   NOT NULL,
    user_id        text COLLATE "C" NOT NULL,
    scope          text   NOT NULL,
    audience       text   NOT NULL,
    nonce          text   NOT NULL,
    code_challenge text   NOT NULL,
    auth_time      bigint,
    family_id      text   NOT NULL,
    expires_at     bigint NOT NULL,
    used_at        bigint,
    CONSTRAINT auth_codes_pkey PRIMARY KEY (tenant, code_hash),
    CONSTRAINT auth_codes_user FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
);

CREATE INDEX auth_codes_user_idx ON auth_codes (tenant, user_id);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE refresh_tokens (
    tenant     text COLLATE "C" NOT NULL,
    token_hash bytea  NOT NULL,
    family_id  text COLLATE "C" NOT NULL,
    client_id  text   NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    scope      text   NOT NULL,
    audience   text   NOT NULL,
    auth_time  bigint,
    created_at bigint,
    expires_at bigint NOT NULL,
    used_at    bigint,
    revoked_at bigint,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (tenant, token_hash),
    CONSTRAINT refresh_tokens_user FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant, family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant, user_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
