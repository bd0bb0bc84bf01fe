package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/signet-auth/signet/internal/loadtest"
)

// loadtestAbout describes `signet loadtest` in its help.
const loadtestAbout = `Requests client_credentials tokens at full speed from every replica in turn,
verifies each against every replica's JWKS (cached as Cache-Control allows,
refetched once on an unknown kid), rotates the signing key through one
replica every --rotate-every, and reports tokens/s, latency, the
propagation delay of each change to each replica, and verification failures:
"key not revoked" (a bug; exit status 1 with --fail-on-unrevoked) and "key
revoked" (expected). Client credentials come from --credentials (the
admin-credentials.json of the first start) or the --client-* flags.`

// runLoadtest runs `signet loadtest`.
func runLoadtest(ctx context.Context, args []string, env Env) error {
	cmd, _ := lookup("loadtest")
	fs := flag.NewFlagSet("signet loadtest", flag.ContinueOnError)
	var (
		urls                        stringsFlag
		cfg                         loadtest.Config
		credsPath                   string
		clientID, secret, audience  string
		asJSON, failOnUnrevoked     bool
		rotateEvery, poll, propWait time.Duration
	)
	fs.Var(&urls, "url", "base `URL` of a replica (http(s)://host:port); repeatable or comma-separated")
	fs.StringVar(&cfg.Host, "host", "", "Host header for every request, as a load balancer forwards it (default: each URL's host)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to request tokens")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "token requests in flight at once")
	fs.StringVar(&credsPath, "credentials", "", "`path` of the admin-credentials.json the first signet serve wrote")
	fs.StringVar(&clientID, "client-id", "", "client id (overrides --credentials)")
	fs.StringVar(&secret, "client-secret", "", "client secret (overrides --credentials; env SIGNET_CLIENT_SECRET)")
	fs.StringVar(&audience, "audience", "", "audience of the tokens (default: the credentials' Management API audience)")
	fs.DurationVar(&rotateEvery, "rotate-every", 0, "rotate the signing key this long after the previous rotation was answered (0 = never); needs Management API scopes")
	fs.IntVar(&cfg.RotateVia, "rotate-via", 0, "index of the --url that rotations go through")
	fs.IntVar(&cfg.RevokeEvery, "revoke-every", 0, "make every Nth rotation a rotate-and-revoke (0 = never)")
	fs.IntVar(&cfg.Burst, "burst", 0, "send this many rotations at once, spread over the replicas, half-way through (0 = none)")
	fs.IntVar(&cfg.BurstRevokeEvery, "burst-revoke-every", 0, "make every Nth rotation of the burst a rotate-and-revoke (0 = never)")
	fs.DurationVar(&poll, "poll", 10*time.Millisecond, "how often each replica's JWKS is read after a change")
	fs.DurationVar(&propWait, "propagation-timeout", 10*time.Second, "how long a change may take to reach a replica")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&failOnUnrevoked, "fail-on-unrevoked", true, "exit with status 1 if a token of a non-revoked key fails to verify")
	if _, err := cmd.parseFlags(fs, args, env); err != nil {
		return err
	}
	for _, u := range urls {
		for _, s := range strings.Split(u, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.URLs = append(cfg.URLs, s)
			}
		}
	}
	if credsPath != "" {
		b, err := os.ReadFile(credsPath)
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		var c credentials
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("loadtest: %s: %w", credsPath, err)
		}
		cfg.Client = loadtest.Credentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Audience: c.Audience}
		cfg.Admin = cfg.Client
	}
	if secret == "" {
		secret = env.Getenv("SIGNET_CLIENT_SECRET")
	}
	for dst, v := range map[*string]string{&cfg.Client.ClientID: clientID, &cfg.Client.ClientSecret: secret, &cfg.Client.Audience: audience} {
		if v != "" {
			*dst = v
		}
	}
	if cfg.Admin == (loadtest.Credentials{}) {
		cfg.Admin = cfg.Client
	}
	cfg.RotateEvery, cfg.PollInterval, cfg.PropagationTimeout = rotateEvery, poll, propWait
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(env.Stdout); err != nil {
		return err
	}
	if failOnUnrevoked && !rep.OK() {
		return errors.New("loadtest: tokens of non-revoked keys failed to verify")
	}
	return nil
}
