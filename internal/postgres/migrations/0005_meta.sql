-- Mirrors internal/sqlite/migrations/0005_meta.sql.
-- The deployment's own settings (signet.MetaStore): the master key's check
-- value, whether the first start finished. A value never changes.

CREATE TABLE meta (
    name  text COLLATE "C" NOT NULL PRIMARY KEY,
    value text NOT NULL
);
