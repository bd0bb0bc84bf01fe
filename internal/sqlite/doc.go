// Package sqlite stores Signet's tenants, keysets, clients, resource servers,
// client grants and audit events in one SQLite file, the embedded default
// backend of signet.Store.
//
// Open applies the embedded migrations, puts the database in WAL mode and
// turns foreign keys on. Reads go through a pool of read-only connections;
// every write goes through a single connection that begins its transactions
// with BEGIN IMMEDIATE, so writers in this process queue up instead of
// failing with SQLITE_BUSY, and writers in other processes wait for the
// busy timeout. Values are encoded by internal/sqlcodec, as in
// internal/postgres: times as Unix nanoseconds in UTC (NULL for the zero
// time), lists as JSON text. The rules the store applies (redeeming a code,
// rotating a refresh token, changing a keyset) are package signet's. Driver
// errors are translated at this edge:
// constraint violations become signet.ErrConflict and missing rows the
// matching not-found error.
//
// Watch is an in-process fan-out: it sees every change made through the same
// *DB, not changes made by other processes sharing the file.
package sqlite
