-- Mirrors internal/sqlite/migrations/0002_clients.sql.
-- Interactive applications: redirect and logout URLs, how the client
-- authenticates at the token endpoint, token lifetimes (seconds; 0 means the
-- default) and protocol add-ons (JSON object).
ALTER TABLE clients ADD COLUMN callbacks                  text   NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN allowed_logout_urls        text   NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method text   NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN id_token_lifetime          bigint NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN refresh_token_lifetime     bigint NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN addons                     text   NOT NULL DEFAULT '{}';
