package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/postgres"
	"github.com/signet-auth/signet/internal/saml"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/server"
	"github.com/signet-auth/signet/internal/throttle"
)

// bootstrapClientName names the administrative client bootstrap creates.
const bootstrapClientName = "Signet Admin"

// credentialsFile is where the first start writes the admin client's credentials.
const credentialsFile = "admin-credentials.json"

// credentials is the content of admin-credentials.json.
type credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	TokenURL     string `json:"token_url"`
	Audience     string `json:"audience"`
	// Dashboard is where and as whom the first administrator signs in.
	Dashboard dashboardCredentials `json:"dashboard,omitzero"`
}

func serve(ctx context.Context, args []string, env Env) error {
	var c config
	if _, err := c.parse("serve", args, env, true, nil); err != nil {
		return err
	}
	if len(c.args) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", c.args[0])
	}
	log, err := c.logger(env.Stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	public, err := c.publicURL(ln.Addr().String())
	if err != nil {
		return err
	}
	store, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if db, ok := store.(*postgres.DB); ok {
		db.Logger = log // the change feed's reconnections
		if c.MaxStaleness > 0 {
			// Several confirmations of the feed within the bound.
			db.PingInterval = min(db.PingInterval, c.MaxStaleness/5)
		}
	}
	sealer, err := c.sealer(env, log)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait() // background loops stop before the store closes
	defer cancel()

	metrics := server.NewMetrics(prometheus.NewRegistry())
	pool := keygen.NewPool(2)
	wg.Go(func() { pool.Run(ctx) })
	// Replicas sharing a PostgreSQL database know, through heartbeats, that
	// the others publish a key before they sign with it (keyring
	// Config.Acks); --publish-delay applies only without them.
	_, shared := store.(*postgres.DB)
	ring := keyring.New(keyring.Config{Store: store, Sealer: sealer, Pool: pool, Scheme: public.Scheme, Resync: c.Resync, JWKSMaxAge: c.JWKSMaxAge, PublishDelay: c.PublishDelay, MaxStaleness: c.MaxStaleness, Logger: log,
		Acks: shared, ReplicaName: replicaName(ln.Addr().String()),
		OnChange: metrics.KeyChanged})
	if err := bootstrap(ctx, &c, store, ring, public.Host, ln.Addr().String(), log); err != nil {
		return err
	}
	// Listen to the change feed first, then load: a change committed during
	// the load is reported by the feed, and nothing serves before.
	if err := ring.Start(ctx); err != nil {
		return err
	}
	if broken := ring.Broken(); len(broken) > 0 && ring.Len() == 0 {
		return fmt.Errorf("no tenant's signing key can be decrypted: is the master key (SIGNET_MASTER_KEY or %s) the one they were sealed with? %w",
			filepath.Join(c.DataDir, "master.key"), seal.ErrOpen)
	}
	if err := upgradeManagementAPIs(ctx, store, ring); err != nil {
		return err
	}
	if _, ok := ring.ViewByHost(public.Host); !ok {
		// Hosts are fixed when a tenant is created; a new port or public URL
		// on an old data dir reaches no tenant.
		log.Warn("no tenant owns the public URL's host: every request to it will get 404; use the --addr/--public-url of the first start or another --data-dir",
			"host", public.Host)
	}
	wg.Go(func() { ring.Run(ctx) })

	// The OpenID Connect provider: login page, sessions, codes and refresh tokens.
	// One bound on concurrent Argon2id checks (64 MiB each) for every
	// sign-in form of the process.
	hashing := throttle.NewGate(throttle.DefaultHashes)
	provider := oidc.New(oidc.Config{Ring: ring, Store: store, Users: store, Hashing: hashing, Logger: log})
	wg.Go(func() { provider.Run(ctx) })
	handlers := []server.Registrar{
		provider,
		// SAML and WS-Fed sign users in through the same login page and session.
		saml.New(saml.Config{Store: store, Auth: provider, LoginURL: oidc.LoginURL, MetadataMaxAge: c.JWKSMaxAge, Logger: log}),
	}
	oauthCfg := oauth.Config{Ring: ring, Store: store, JWKSMaxAge: c.JWKSMaxAge, Logger: log, Provider: provider}
	srv := server.New(server.Config{
		Ring: ring,
		Handlers: append(handlers,
			oauth.New(oauthCfg),
			mgmt.New(mgmt.Config{Ring: ring, Store: store, Logger: log}),
		),
		Ready: func(ctx context.Context) error {
			if err := ring.Ready(); err != nil {
				return err
			}
			return ready(ctx, store)
		},
		TLSCert:   c.TLSCert,
		TLSKey:    c.TLSKey,
		Logger:    log,
		Metrics:   metrics,
		Pool:      pool,
		Dashboard: dashboardHandler(ctx, &c, store, ring, public, hashing, log),
	})
	log.Info("signet serving", "addr", ln.Addr().String(), "public_url", public.String(), "tls", c.TLSCert != "")
	if env.Ready != nil {
		env.Ready(ln.Addr().String())
	}
	err = srv.Serve(ctx, ln)
	log.Info("signet stopped")
	return err
}

// ready reports whether the store answers, for /readyz: it reads tenant
// "default" (bootstrap's), one indexed lookup whatever the number of
// tenants, and counts "not found" as an answer. It fails while the database
// is unreachable.
func ready(ctx context.Context, store signet.Store) error {
	if _, err := store.Tenant(ctx, "default"); err != nil && !errors.Is(err, signet.ErrNotFound) {
		return err
	}
	return nil
}

// bootstrap creates, on the first start, tenant "default" owning the public
// host and 127.0.0.1:<port>, an administrative machine client granted
// every Management API scope and a dashboard administrator, whose
// credentials it writes once to <data-dir>/admin-credentials.json (0600).
// It does nothing if any tenant exists.
// Replicas starting at once on one empty database all try: the store lets
// one create the tenant and the others get ErrConflict, find the tenant and
// go on as on a later start.
func bootstrap(ctx context.Context, c *config, store signet.Store, ring *keyring.Ring, publicHost, listenAddr string, log *slog.Logger) error {
	ts, err := store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if len(ts) > 0 {
		return nil
	}
	hosts := []string{publicHost}
	if _, port, err := net.SplitHostPort(listenAddr); err == nil {
		if loop := "127.0.0.1:" + port; loop != publicHost {
			hosts = append(hosts, loop)
		}
	}
	if _, err := ring.CreateTenant(ctx, "default", hosts, ""); errors.Is(err, signet.ErrConflict) {
		if _, terr := store.Tenant(ctx, "default"); terr != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		log.Info("tenant default was bootstrapped by another replica")
		return nil
	} else if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	scopes := make([]string, len(keyring.ManagementScopes))
	for i, s := range keyring.ManagementScopes {
		scopes[i] = s.Value
	}
	audience := ring.Issuer(publicHost) + "api/v2/"
	client, secret, err := createClient(ctx, store, "default", bootstrapClientName, audience, scopes)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	creds := credentials{ClientID: client.ClientID, ClientSecret: secret, TokenURL: ring.Issuer(publicHost) + "oauth/token", Audience: audience}
	if creds.Dashboard, err = bootstrapAdmin(ctx, store, ring.Scheme(), publicHost); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	b, _ := json.MarshalIndent(creds, "", "  ")
	path := filepath.Join(c.DataDir, credentialsFile)
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("bootstrap: %s exists but the database is empty; remove it or point --data-dir elsewhere", path)
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("bootstrap: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	log.Info("bootstrapped tenant default", "hosts", hosts, "admin_client_id", client.ClientID, "credentials", path)
	return nil
}

// upgradeManagementAPIs gives every tenant's built-in Management API the
// scopes Signet has defined since the tenant was created (see
// keyring.Ring.UpgradeManagementAPI). The bootstrap administrative client
// was granted every Management API scope so that it can do anything, so it
// gains them too, first, unless an administrator has narrowed its grant. It
// is the first client of tenant "default" (bootstrap creates it before
// anything serves), recognised by its name; if it was deleted or renamed no
// grant changes. Other clients' grants never change: an administrator grants
// the new scopes through the Management API. Safe on several replicas
// starting at once.
func upgradeManagementAPIs(ctx context.Context, store signet.Store, ring *keyring.Ring) error {
	cs, err := store.Clients(ctx, "default")
	if err != nil && !errors.Is(err, signet.ErrNotFound) {
		return fmt.Errorf("upgrade management api: %w", err)
	}
	if len(cs) > 0 && cs[0].Name == bootstrapClientName {
		if _, err := ring.GrantNewManagementScopes(ctx, "default", cs[0].ClientID); err != nil && !errors.Is(err, signet.ErrNotFound) {
			return fmt.Errorf("upgrade management api: %w", err)
		}
	}
	return ring.UpgradeManagementAPIs(ctx)
}

// replicaName names this replica in the store's heartbeats: the host name
// and the port it listens on.
func replicaName(addr string) string {
	host, _ := os.Hostname()
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return host + ":" + port
	}
	return host
}
