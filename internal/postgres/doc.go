// Package postgres stores Signet's tenants, keysets, clients, resource
// servers, client grants and audit events in PostgreSQL (through pgx), the
// backend of signet.Store for several replicas sharing one database.
//
// Open applies the embedded migrations (migrations/NNNN_name.sql, numbered as
// the SQLite backend's, each once, under an advisory lock so that replicas
// starting together do not race). The tables live in the connection's
// current schema. Values are encoded by internal/sqlcodec, exactly as in
// internal/sqlite: times as Unix nanoseconds in UTC (bigint, NULL for the
// zero time), lists as JSON text. The rules the store applies (redeeming a
// code, rotating a refresh token, changing a keyset) are package signet's.
//
// Every keyset or tenant change of one tenant first locks the tenant's row
// (SELECT … FOR UPDATE) in its transaction, so changes are serialised per
// tenant across all processes, and runs pg_notify in the same transaction.
// Watch LISTENs on a connection of its own and reports each committed change
// within milliseconds; after losing that connection it reconnects with
// capped exponential backoff and reports every tenant once (a full resync).
//
// Every call is bounded (Timeouts: connect, statement, transaction; see
// OpenTimeouts). When a call's deadline passes, its connection is reset, so
// a COMMIT stuck in the network is never delivered after the caller was told
// it failed. A read, or a transaction that failed before COMMIT was sent,
// runs once more when its connection was lost (retry.go).
//
// Driver errors are translated at this edge: unique violations become
// signet.ErrConflict with the SQLite backend's messages, foreign key
// violations signet.ErrTenantNotFound, missing rows the matching not-found
// error, and text PostgreSQL cannot store (NUL bytes) EINVALID on writes and
// "not found" on lookups.
//
// Adding a sub-store (say users.go): write its migration as the next
// migrations/NNNN_name.sql; run each write in db.inTx (or the generic update
// for load-modify-store), translate errors with isConstraint, isUnique,
// isForeignKey and missing, read rows with queryAll and one, and encode and
// scan rows with internal/sqlcodec (add the table's columns there once for
// both backends). Nothing else needs to change.
package postgres
