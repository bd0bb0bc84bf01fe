-- The deployment's own settings (signet.MetaStore): the master key's check
-- value, whether the first start finished. A value never changes.

CREATE TABLE meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
