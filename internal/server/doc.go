// Package server runs Signet's HTTP server: it resolves the tenant of every
// request from its Host header, mounts the handlers, serves the operations
// endpoints and shuts down gracefully.
package server
