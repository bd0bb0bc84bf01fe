// Package server runs Signet's HTTP server: it resolves the tenant of every
// request from its Host header, mounts the handlers, serves the operations
// endpoints (health, readiness, Prometheus metrics) and shuts down gracefully.
//
// Every response carries X-Content-Type-Options: nosniff, and over https
// Strict-Transport-Security (HSTS). TLS 1.2 is limited to ECDHE with AEAD
// suites. The dashboard answers only on tenants' hosts and
// Config.DashboardHosts, /metrics only on those, localhost and IP addresses
// (or on a listener of its own, ServeMetrics): a page reaching the server
// through DNS rebinding carries a name of its own and gets 404.
package server
