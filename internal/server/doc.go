// Package server runs Signet's HTTP server: it resolves the tenant of every
// request from its Host header, mounts the handlers, serves the operations
// endpoints (health, readiness, Prometheus metrics) and shuts down gracefully.
package server
