package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
)

// Route labels of requests that no tenant route served.
const (
	routeOps         = "ops"          // /healthz, /readyz, /metrics
	routeUnknownHost = "unknown_host" // no tenant owns the Host
	routeUnmatched   = "unmatched"    // no pattern matched: 404, 405, redirects to a clean path
)

// Metrics are Signet's Prometheus metrics. No metric has a tenant label:
// there can be a hundred thousand tenants. Create one with NewMetrics and
// hand it to one Server through Config.Metrics, and its KeyChanged method to
// the Ring through keyring.Config.OnChange.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	keyChanges *prometheus.CounterVec
}

// NewMetrics registers on reg the Go and process collectors and Signet's
// request and key-change metrics:
//
//   - signet_http_requests_total{route,code}
//   - signet_http_request_duration_seconds{route}
//   - signet_signing_key_changes_total{change,actor_kind}
//
// where route is the pattern of the tenant route that served the request
// ("POST /oauth/token"), "ops", "unknown_host" or "unmatched". The Server
// adds signet_tenants and signet_key_pool_ready{alg}. NewMetrics panics if
// reg already holds any of these metrics.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_http_requests_total",
			Help: "HTTP requests answered, by route (the tenant route's pattern, ops, unknown_host or unmatched) and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		keyChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_signing_key_changes_total",
			Help: "Signing-key changes committed by this process, by change (rotate, rotate_and_revoke, revoke) and actor kind (api, cli, dashboard, policy).",
		}, []string{"change", "actor_kind"}),
	}
	// Every change is known in advance: start them at 0 so rates work from
	// the first change.
	for _, c := range []string{keyring.ChangeRotate, keyring.ChangeRotateAndRevoke, keyring.ChangeRevoke} {
		for _, a := range []string{keyring.ActorKindAPI, keyring.ActorKindCLI, keyring.ActorKindDashboard, keyring.ActorKindPolicy} {
			m.keyChanges.WithLabelValues(c, a)
		}
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.keyChanges,
	)
	return m
}

// KeyChanged counts one committed signing-key change; it is the signature of
// keyring.Config.OnChange.
func (m *Metrics) KeyChanged(change, actorKind string) {
	m.keyChanges.WithLabelValues(change, actorKind).Inc()
}

// observe records one answered request.
func (m *Metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, codeLabel(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// codeLabel returns code as a label value without allocating for the
// common codes.
func codeLabel(code int) string {
	switch code {
	case http.StatusOK:
		return "200"
	case http.StatusNotModified:
		return "304"
	case http.StatusNotFound:
		return "404"
	}
	return strconv.Itoa(code)
}

// register adds the gauges computed at scrape time from the ring and, if
// not nil, the key pool.
func (m *Metrics) register(ring *keyring.Ring, pool *keygen.Pool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "signet_tenants",
		Help: "Tenants this process serves (views loaded).",
	}, func() float64 { return float64(ring.Len()) }))
	if pool == nil {
		return
	}
	for _, alg := range keygen.Algorithms() {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "signet_key_pool_ready",
			Help:        "Pre-generated keys ready for rotations, by algorithm.",
			ConstLabels: prometheus.Labels{"alg": alg},
		}, func() float64 { return float64(pool.Ready(alg)) }))
	}
}

// handler serves the registry in the Prometheus text format.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
