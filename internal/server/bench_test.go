package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/server"
)

// BenchmarkServerJWKS measures a JWKS request through the whole server
// handler (request log to a discarding logger, tenant resolution, the tenant
// mux, the JWKS handler) without and with metrics: the cost of counting a
// request. Run:
//
//	go test -run '^$' -bench ServerJWKS -benchtime 2s -count 3 ./internal/server/
func BenchmarkServerJWKS(b *testing.B) {
	for _, withMetrics := range []bool{false, true} {
		name := "metrics=off"
		if withMetrics {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) {
			env := ringtest.New(b, ringtest.Options{Pool: pool})
			if _, err := env.Ring.CreateTenant(context.Background(), "acme", []string{tenantHost}, "ES256", "test"); err != nil {
				b.Fatal(err)
			}
			cfg := server.Config{Ring: env.Ring, Handlers: []server.Registrar{oauth.New(oauth.Config{Ring: env.Ring, Store: env.Store})}}
			if withMetrics {
				cfg.Metrics = server.NewMetrics(prometheus.NewRegistry())
			}
			h := server.New(cfg).Handler()
			r := httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil)
			r.Host = tenantHost
			w := httptest.NewRecorder()
			if h.ServeHTTP(w, r); w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
