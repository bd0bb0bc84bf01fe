package loadtest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/loadtest"
)

func config(f *fleet, d, rotateEvery time.Duration, revokeEvery int) loadtest.Config {
	return loadtest.Config{URLs: f.urls(), Host: host, Duration: d, Concurrency: 4, Client: f.admin,
		RotateEvery: rotateEvery, RevokeEvery: revokeEvery, PropagationTimeout: 2 * time.Second}
}

// TestRunHealthyFleet runs the load against two replicas that follow each
// other's changes: every token verifies everywhere, every change shows on
// every replica.
func TestRunHealthyFleet(t *testing.T) {
	f := newFleet(t, 2, time.Second)
	cfg := config(f, 3*time.Second, 400*time.Millisecond, 2)
	// Every change must show on every replica; how fast is not this test's
	// claim, and a loaded machine can take more than config's 2 s. The
	// wait costs nothing when the changes show.
	cfg.PropagationTimeout = 10 * time.Second
	rep, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if !rep.OK() || rep.Failures.JWKSUnavailable != 0 {
		t.Errorf("failures %+v", rep.Failures)
	}
	if rep.Tokens == 0 || len(rep.TokenErrors) != 0 || len(rep.ChangeErrors) != 0 {
		t.Errorf("tokens %d, token errors %v, change errors %v", rep.Tokens, rep.TokenErrors, rep.ChangeErrors)
	}
	if rep.Verifications != 2*rep.Tokens {
		t.Errorf("%d verifications of %d tokens on 2 replicas", rep.Verifications, rep.Tokens)
	}
	// Two changes, one of each kind, are the claim; how many fit in 3 s
	// depends on the machine (three under -race on 2 loaded cores).
	if len(rep.Changes) < 2 || rep.Unpropagated != 0 || rep.PropagationMS.N != 2*len(rep.Changes) {
		t.Errorf("%d changes, %d propagations, %d unpropagated", len(rep.Changes), rep.PropagationMS.N, rep.Unpropagated)
	}
	kinds := map[string]int{}
	for _, c := range rep.Changes {
		kinds[c.Kind]++
		if c.Current == "" || c.Next == "" || (c.Kind == "rotate_and_revoke") != (c.Revoked != "") {
			t.Errorf("change %+v", c)
		}
	}
	if kinds["rotate"] == 0 || kinds["rotate_and_revoke"] == 0 {
		t.Errorf("changes by kind: %v", kinds)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"tokens_per_s"`, `"key_not_revoked":0`, `"propagation_ms"`, `"latency_ms"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON report lacks %s", key)
		}
	}
}

// TestRunStalledReplicaRevoked stalls replica 1 (it never learns of
// changes) and rotates-and-revokes once through replica 0: replica 1 keeps
// signing with the revoked key, whose tokens replica 0's JWKS refuses —
// expected failures; replica 0 signs with the former next key, which
// replica 1 still publishes — no other failure.
func TestRunStalledReplicaRevoked(t *testing.T) {
	f := newFleet(t, 2, time.Nanosecond, 1)
	rep, err := loadtest.Run(context.Background(), config(f, 3*time.Second, 2*time.Second, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if len(rep.Changes) != 1 || rep.Changes[0].Kind != "rotate_and_revoke" {
		t.Fatalf("changes %+v, errors %v", rep.Changes, rep.ChangeErrors)
	}
	if !rep.OK() || rep.Failures.Revoked == 0 {
		t.Errorf("failures %+v, want some of the revoked key only", rep.Failures)
	}
	if rep.Unpropagated != 1 || rep.Changes[0].PropagationMS[1] != -1 {
		t.Errorf("propagation to the stalled replica: %v", rep.Changes[0].PropagationMS)
	}
}

// TestRunStalledReplicaRotations stalls replica 1 and rotates twice through
// replica 0, which then signs with a key replica 1 never published: the
// failures are of a non-revoked key and the report is not OK.
func TestRunStalledReplicaRotations(t *testing.T) {
	f := newFleet(t, 2, time.Minute, 1)
	rep, err := loadtest.Run(context.Background(), config(f, 3*time.Second, 300*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if len(rep.Changes) < 2 {
		t.Fatalf("changes %+v, errors %v", rep.Changes, rep.ChangeErrors)
	}
	if rep.OK() || rep.Failures.Revoked != 0 || len(rep.Failures.Samples) == 0 {
		t.Fatalf("failures %+v, want failures of non-revoked keys", rep.Failures)
	}
	s := rep.Failures.Samples[0]
	if s.IssuedBy != f.replicas[0].url || s.VerifiedBy != f.replicas[1].url || !strings.Contains(s.Error, "kid not in the JWKS") {
		t.Errorf("sample %+v", s)
	}
	if !strings.Contains(rep.String(), "FAIL") {
		t.Errorf("text report does not say FAIL:\n%s", rep)
	}
}

// TestRunRefusesBadConfig checks the errors Run returns before it starts.
func TestRunRefusesBadConfig(t *testing.T) {
	f := newFleet(t, 1, time.Minute)
	good := config(f, time.Second, 0, 0)
	for name, mutate := range map[string]func(*loadtest.Config){
		"no URL":            func(c *loadtest.Config) { c.URLs = nil },
		"URL with a path":   func(c *loadtest.Config) { c.URLs = []string{f.replicas[0].url + "/x"} },
		"zero duration":     func(c *loadtest.Config) { c.Duration = 0 },
		"zero concurrency":  func(c *loadtest.Config) { c.Concurrency = 0 },
		"no secret":         func(c *loadtest.Config) { c.Client.ClientSecret = "" },
		"rotate via absent": func(c *loadtest.Config) { c.RotateVia = 1 },
		"unknown host":      func(c *loadtest.Config) { c.Host = "nobody.test" },
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			mutate(&c)
			if _, err := loadtest.Run(context.Background(), c); err == nil {
				t.Error("Run started")
			}
		})
	}
}

// TestRunBurst sends a burst of concurrent rotations over two replicas and
// checks that every one is answered and reported.
func TestRunBurst(t *testing.T) {
	f := newFleet(t, 2, time.Minute)
	cfg := config(f, 2*time.Second, 0, 0)
	cfg.Burst = 10
	rep, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if len(rep.Bursts) != 1 || rep.Bursts[0].Requests != 10 || rep.Bursts[0].OK != 10 || len(rep.Bursts[0].Errors) != 0 {
		t.Fatalf("bursts %+v", rep.Bursts)
	}
	if !strings.Contains(rep.String(), "10 concurrent rotations") {
		t.Errorf("text report lacks the burst:\n%s", rep)
	}
}
