// Package sqlcodec encodes Signet's stored values the one way both SQL
// backends (internal/sqlite and internal/postgres) store them, and decodes
// rows back: times as Unix nanoseconds in UTC (NULL for the zero time),
// lists and client add-ons as JSON text.
//
// For each table it gives the column list, the arguments of a value in that
// order (XArgs) and the scanner of a row selected with it (ScanX). Each list
// starts with the columns an update sets and ends with the row's key, so one
// list serves INSERT, UPDATE … WHERE key and SELECT. The statements
// themselves, which differ by dialect (placeholders, locking, error codes),
// stay in the backends; a scanner returns the driver's Scan error as it is,
// so that a backend can tell a missing row.
package sqlcodec
