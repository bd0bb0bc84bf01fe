package loadtest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what Run measured. Times are in milliseconds.
type Report struct {
	Replicas    []string `json:"replicas"`
	Host        string   `json:"host,omitempty"`
	Seconds     float64  `json:"duration_s"`
	Concurrency int      `json:"concurrency"`
	// Tokens is the number of tokens issued, TokensPerSecond their rate.
	Tokens          int64       `json:"tokens"`
	TokensPerSecond float64     `json:"tokens_per_s"`
	LatencyMS       Percentiles `json:"latency_ms"`
	// TokenErrors counts failed token requests by "URL: status N" or
	// "URL: request failed".
	TokenErrors map[string]int64 `json:"token_errors"`
	// Verifications is the number of checks: every token against every
	// replica's JWKS.
	Verifications int64     `json:"verifications"`
	Failures      Failures  `json:"failures"`
	Changes       []*Change `json:"changes"`
	ChangeErrors  []string  `json:"change_errors"`
	// RotateMS summarises the changes' request latencies.
	RotateMS Percentiles `json:"rotate_ms"`
	// PropagationMS summarises every change's delay to every replica
	// counted from the request (Change.PropagationMS), AfterAnswerMS the
	// same counted from the answer; Unpropagated counts the pairs not seen
	// within the timeout.
	PropagationMS Percentiles     `json:"propagation_ms"`
	AfterAnswerMS Percentiles     `json:"after_answer_ms"`
	Unpropagated  int             `json:"unpropagated"`
	Bursts        []*Burst        `json:"bursts,omitempty"`
	PerReplica    []ReplicaReport `json:"per_replica"`
}

// Failures splits the failed verifications.
type Failures struct {
	// NotRevoked are failures of tokens whose key the run had not revoked
	// when they failed, or that failed for another reason than an unknown
	// kid: each one is a bug. Must be 0.
	NotRevoked int64 `json:"key_not_revoked"`
	// Revoked are tokens of a key the run revoked, refused after it asked
	// for the revocation: expected.
	Revoked int64 `json:"key_revoked"`
	// JWKSUnavailable are verifications that reached no verdict because a
	// JWKS could not be fetched.
	JWKSUnavailable int64 `json:"jwks_unavailable"`
	// Samples are the first NotRevoked failures (at most 20).
	Samples []FailureSample `json:"samples,omitempty"`
}

// FailureSample describes one failed verification.
type FailureSample struct {
	At         time.Time `json:"at"`
	KID        string    `json:"kid"`
	IssuedBy   string    `json:"issued_by"`
	VerifiedBy string    `json:"verified_by"`
	Error      string    `json:"error"`
}

// ReplicaReport is one replica's share.
type ReplicaReport struct {
	URL           string        `json:"url"`
	Tokens        int64         `json:"tokens"`
	PropagationMS Percentiles   `json:"propagation_ms"`
	Unpropagated  int           `json:"unpropagated"`
	JWKS          VerifierStats `json:"jwks"`
}

// Percentiles summarises a sample (nearest rank); all zero when N is 0.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentiles summarises ms, which it sorts.
func percentiles(ms []float64) Percentiles {
	if len(ms) == 0 {
		return Percentiles{}
	}
	slices.Sort(ms)
	rank := func(p float64) float64 { return ms[max(0, int(math.Ceil(p*float64(len(ms))))-1)] }
	return Percentiles{N: len(ms), P50: rank(0.50), P99: rank(0.99), Max: ms[len(ms)-1]}
}

// OK reports whether no token of a non-revoked key failed to verify.
func (r *Report) OK() bool { return r.Failures.NotRevoked == 0 }

// report merges the workers' figures and classifies the failures.
func (r *runner) report(elapsed time.Duration) *Report {
	rep := &Report{Replicas: r.urls, Host: r.cfg.Host, Seconds: elapsed.Seconds(), Concurrency: r.cfg.Concurrency,
		TokenErrors: map[string]int64{}, Changes: r.changes, ChangeErrors: r.changeErrors, Bursts: r.bursts}
	if rep.Changes == nil {
		rep.Changes = []*Change{}
	}
	if rep.ChangeErrors == nil {
		rep.ChangeErrors = []string{}
	}
	var lat []float64
	perReplica := make([]int64, len(r.urls))
	var failures []failure
	for _, w := range r.workers {
		for _, d := range w.latencies {
			lat = append(lat, ms(d))
		}
		for i, n := range w.perReplica {
			perReplica[i] += n
		}
		for k, n := range w.errors {
			rep.TokenErrors[k] += n
		}
		rep.Verifications += w.verifications
		failures = append(failures, w.failures...)
	}
	rep.Tokens = int64(len(lat))
	rep.TokensPerSecond = float64(rep.Tokens) / elapsed.Seconds()
	rep.LatencyMS = percentiles(lat)

	slices.SortFunc(failures, func(a, b failure) int { return a.at.Compare(b.at) })
	for _, f := range failures {
		at, revoked := r.revokedAt[f.kid]
		switch {
		case errors.Is(f.err, ErrJWKS):
			rep.Failures.JWKSUnavailable++
		case revoked && !f.at.Before(at) && errors.Is(f.err, ErrUnknownKey):
			rep.Failures.Revoked++
		default:
			rep.Failures.NotRevoked++
			if len(rep.Failures.Samples) < 20 {
				rep.Failures.Samples = append(rep.Failures.Samples, FailureSample{At: f.at, KID: f.kid,
					IssuedBy: r.urls[f.issuedBy], VerifiedBy: r.urls[f.verifiedBy], Error: f.err.Error()})
			}
		}
	}

	var rot, after []float64
	for _, ch := range r.changes {
		rot = append(rot, ch.LatencyMS)
		for _, d := range ch.AfterAnswerMS {
			if d >= 0 {
				after = append(after, d)
			}
		}
	}
	rep.RotateMS, rep.AfterAnswerMS = percentiles(rot), percentiles(after)
	var all []float64
	for i, u := range r.urls {
		rr := ReplicaReport{URL: u, Tokens: perReplica[i], JWKS: r.verifiers[i].Stats()}
		var mine []float64
		for _, ch := range r.changes {
			if d := ch.PropagationMS[i]; d >= 0 {
				mine = append(mine, d)
			} else {
				rr.Unpropagated++
			}
		}
		all = append(all, mine...)
		rr.PropagationMS = percentiles(mine)
		rep.Unpropagated += rr.Unpropagated
		rep.PerReplica = append(rep.PerReplica, rr)
	}
	rep.PropagationMS = percentiles(all)
	return rep
}

// WriteText writes a readable summary of r.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	pct := func(q Percentiles) string {
		if q.N == 0 {
			return "-"
		}
		return fmt.Sprintf("p50 %.1f ms\tp99 %.1f ms\tmax %.1f ms", q.P50, q.P99, q.Max)
	}
	host := ""
	if r.Host != "" {
		host = ", Host " + r.Host
	}
	p("signet loadtest: %d replicas%s, %.1f s, concurrency %d", len(r.Replicas), host, r.Seconds, r.Concurrency)
	p("tokens\t%d (%.1f/s), %d failed requests", r.Tokens, r.TokensPerSecond, sum(r.TokenErrors))
	for _, k := range slices.Sorted(maps.Keys(r.TokenErrors)) {
		p("  %s\t%d", k, r.TokenErrors[k])
	}
	p("latency\t%s", pct(r.LatencyMS))
	p("verifications\t%d (every token against every replica's JWKS)", r.Verifications)
	p("failures\tkey not revoked: %d\tkey revoked (expected): %d\tno JWKS: %d",
		r.Failures.NotRevoked, r.Failures.Revoked, r.Failures.JWKSUnavailable)
	for i, s := range r.Failures.Samples {
		if i == 5 {
			p("  … %d more in the JSON report", len(r.Failures.Samples)-i)
			break
		}
		p("  %s kid %s issued by %s, verified with %s: %s", s.At.Format("15:04:05.000"), s.KID, s.IssuedBy, s.VerifiedBy, s.Error)
	}
	kinds := map[string]int{}
	for _, c := range r.Changes {
		kinds[c.Kind]++
	}
	p("changes\t%d (%d rotate, %d rotate_and_revoke), %d failed", len(r.Changes), kinds["rotate"], kinds["rotate_and_revoke"], len(r.ChangeErrors))
	for _, e := range r.ChangeErrors {
		p("  %s", e)
	}
	p("rotate latency\t%s", pct(r.RotateMS))
	for _, b := range r.Bursts {
		p("burst\t%d concurrent rotations (%d rotate-and-revoke) at %s: %d answered 201 within %.0f ms", b.Requests, b.Revokes, b.At.Format("15:04:05.000"), b.OK, b.Took)
		for _, k := range slices.Sorted(maps.Keys(b.Errors)) {
			p("  %s\t%d", k, b.Errors[k])
		}
	}
	p("propagation\t%s\t(from the request; %d change×replica, %d not seen in time)", pct(r.PropagationMS), r.PropagationMS.N+r.Unpropagated, r.Unpropagated)
	p("  after answer\t%s", pct(r.AfterAnswerMS))
	for _, rr := range r.PerReplica {
		p("  %s\t%s\ttokens %d\tJWKS 200×%d 304×%d unknown-kid %d errors %d", rr.URL, pct(rr.PropagationMS), rr.Tokens,
			rr.JWKS.Fetches, rr.JWKS.NotModified, rr.JWKS.UnknownKID, rr.JWKS.Errors)
	}
	if r.OK() {
		p("result\tOK: no token of a non-revoked key failed to verify")
	} else {
		p("result\tFAIL: %d verifications of tokens of non-revoked keys failed", r.Failures.NotRevoked)
	}
	return tw.Flush()
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// String returns the text summary.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteText(&b)
	return b.String()
}
