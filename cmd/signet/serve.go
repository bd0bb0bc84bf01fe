package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

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
	"github.com/signet-auth/signet/internal/secret"
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
	if _, err := c.parse("serve", args, env, nil); err != nil {
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
	var metricsLn net.Listener
	if c.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", c.MetricsAddr); err != nil {
			return fmt.Errorf("listen --metrics-addr: %w", err)
		}
		defer metricsLn.Close()
	}
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
	sealer, err := c.sealer(ctx, env, store, log)
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
	if err := bootstrap(ctx, &c, store, ring, public.Host, ln.Addr().String(), log, env.afterBootstrapStep); err != nil {
		return err
	}
	if err := followPublicURL(ctx, &c, store, ring, public.Host, ln.Addr().String(), log); err != nil {
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
	management := mgmt.New(mgmt.Config{Ring: ring, Store: store, Logger: log})
	if err := upgradeManagementAPIs(ctx, store, management); err != nil {
		return err
	}
	if _, ok := ring.ViewByHost(public.Host); !ok {
		// followPublicURL could not give it to tenant default (logged).
		log.Warn("no tenant owns the public URL's host: every request to it will get 404", "host", public.Host)
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
			management,
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
		// Hosts besides the tenants' where the dashboard answers.
		DashboardHosts: splitList(c.DashboardHost),
		MetricsApart:   metricsLn != nil,
		// HSTS whenever browsers use https, even through a TLS-terminating proxy.
		HTTPS: public.Scheme == "https",
	})
	metricsDone := make(chan error, 1)
	if metricsLn != nil {
		go func() {
			err := srv.ServeMetrics(ctx, metricsLn)
			if err != nil {
				cancel() // the main listener stops too
			}
			metricsDone <- err
		}()
	} else {
		metricsDone <- nil
	}
	attrs := []any{"addr", ln.Addr().String(), "public_url", public.String(), "tls", c.TLSCert != ""}
	if metricsLn != nil {
		attrs = append(attrs, "metrics_addr", metricsLn.Addr().String())
	}
	log.Info("signet serving", attrs...)
	if env.Ready != nil {
		env.Ready(ln.Addr().String())
	}
	err = srv.Serve(ctx, ln)
	cancel()
	err = errors.Join(err, <-metricsDone)
	log.Info("signet stopped")
	return err
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
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

// bootstrap sets up, on the first start, tenant "default" owning the
// public host and 127.0.0.1:<port>, its Management API, an administrative
// machine client granted every Management API scope and a dashboard
// administrator, whose credentials it writes once to
// <data-dir>/admin-credentials.json (0600).
//
// The setup is a series of steps, each of which a later start completes if
// a kill stopped it: bootstrap marks the store "started" first and "done"
// last, after the credentials file is written and synced, and in between
// does only the steps whose result is missing. When it resumes after the
// client or the administrator was made but the credentials file was not
// written, their secrets are lost, so it gives them new ones. Replicas
// starting at once on one database take the store's "bootstrap" lock: one
// does the setup, the others wait and then find it done. A store that
// holds tenants but no "started" mark (set up by an earlier version, or
// tenants made with the CLI before the first start) needs nothing.
//
// afterStep, if not nil, is called after each step, done now or found
// done, with its name (bootstrapStepNames); an error it returns stops
// bootstrap there, as a kill would. Tests use it.
func bootstrap(ctx context.Context, c *config, store signet.Store, ring *keyring.Ring, publicHost, listenAddr string, log *slog.Logger, afterStep func(step string) error) error {
	if err := bootstrapSteps(ctx, c, store, ring, publicHost, listenAddr, log, afterStep); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

// bootstrapStepNames are the steps of bootstrap, in order.
var bootstrapStepNames = []string{"started", "tenant", "management-api", "client", "grant", "admin", "credentials"}

func bootstrapSteps(ctx context.Context, c *config, store signet.Store, ring *keyring.Ring, publicHost, listenAddr string, log *slog.Logger, afterStep func(step string) error) error {
	step := func(name string) error {
		if afterStep != nil {
			return afterStep(name)
		}
		return nil
	}
	isDone := func() (bool, error) {
		_, err := store.Meta(ctx, metaBootstrapDone)
		if errors.Is(err, signet.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	if done, err := isDone(); done || err != nil {
		return err
	}
	unlock, err := store.Lock(ctx, "bootstrap")
	if err != nil {
		return err
	}
	defer unlock()
	if done, err := isDone(); err != nil {
		return err
	} else if done {
		log.Info("tenant default was bootstrapped by another replica")
		return nil
	}
	markDone := func() error {
		_, err := store.InitMeta(ctx, metaBootstrapDone, time.Now().UTC().Format(time.RFC3339Nano))
		return err
	}
	_, err = store.Meta(ctx, metaBootstrapStarted)
	if err != nil && !errors.Is(err, signet.ErrNotFound) {
		return err
	}
	resumed := err == nil
	if !resumed {
		ts, err := store.Tenants(ctx)
		if err != nil {
			return err
		}
		if len(ts) > 0 {
			return markDone()
		}
		if _, err := store.InitMeta(ctx, metaBootstrapStarted, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		if err := step("started"); err != nil {
			return err
		}
	} else {
		log.Warn("the first start's setup did not finish: completing it")
	}
	path := filepath.Join(c.DataDir, credentialsFile)

	// The tenant, with its keys and (unless a kill came in between) its
	// Management API.
	t, err := store.Tenant(ctx, "default")
	if errors.Is(err, signet.ErrNotFound) {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s exists but the database is empty; remove it or point --data-dir elsewhere", path)
		}
		hosts := []string{publicHost}
		if _, port, err := net.SplitHostPort(listenAddr); err == nil {
			if loop := "127.0.0.1:" + port; loop != publicHost {
				hosts = append(hosts, loop)
			}
		}
		if t, err = ring.CreateTenant(ctx, "default", hosts, "", keyring.ActorSystem); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := step("tenant"); err != nil {
		return err
	}
	api, err := mgmt.ResourceServer(ctx, store, "default")
	if errors.Is(err, signet.ErrNotFound) {
		if api, err = createManagementAPI(ctx, store, ring, t); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := step("management-api"); err != nil {
		return err
	}

	// The administrative client and its grant of the whole Management API.
	var (
		client       signet.Client
		clientSecret string
	)
	cs, err := store.Clients(ctx, "default")
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(cs, func(cl signet.Client) bool { return cl.Name == bootstrapClientName }); i >= 0 {
		client = cs[i]
	} else {
		if client, clientSecret, err = createClient(ctx, store, "default", bootstrapClientName, "", nil); err != nil {
			return err
		}
	}
	if err := step("client"); err != nil {
		return err
	}
	gs, err := store.ClientGrants(ctx, "default", signet.GrantFilter{ClientID: client.ClientID, Audience: api.Identifier})
	if err != nil {
		return err
	}
	if len(gs) == 0 {
		scopes := make([]string, len(api.Scopes))
		for i, s := range api.Scopes {
			scopes[i] = s.Value
		}
		now := time.Now().UTC()
		g := signet.ClientGrant{Tenant: "default", ID: secret.GrantID(), ClientID: client.ClientID, Audience: api.Identifier,
			Scope: scopes, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateClientGrant(ctx, g); err != nil {
			return err
		}
	}
	if err := step("grant"); err != nil {
		return err
	}

	// The dashboard administrator.
	dash, err := bootstrapAdmin(ctx, store, ring.Scheme(), t.Hosts[0])
	if err != nil && !errors.Is(err, errAdminExists) {
		return err
	}
	if err := step("admin"); err != nil {
		return err
	}

	// The credentials file, written once: a kill after it was written
	// leaves one naming this client.
	switch old, err := readCredentials(path); {
	case err == nil && old.ClientID == client.ClientID:
		return markDone()
	case err == nil:
		return fmt.Errorf("%s names client %s, not this database's admin client %s; remove it or point --data-dir elsewhere", path, old.ClientID, client.ClientID)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w; remove it or point --data-dir elsewhere", err)
	}
	if clientSecret == "" {
		if clientSecret, err = newClientSecret(ctx, store, client); err != nil {
			return err
		}
		log.Warn("the admin client's secret was lost with the unfinished setup: it has a new one", "client_id", client.ClientID)
	}
	if dash.Password == "" {
		if dash, err = newAdminPassword(ctx, store, ring.Scheme(), t.Hosts[0]); err != nil {
			return err
		}
		log.Warn("the dashboard administrator's password was lost with the unfinished setup: it has a new one", "email", dash.Email)
	}
	creds := credentials{ClientID: client.ClientID, ClientSecret: clientSecret, TokenURL: ring.Issuer(t.Hosts[0]) + "oauth/token",
		Audience: api.Identifier, Dashboard: dash}
	if err := writeCredentials(c.DataDir, path, creds, false); err != nil {
		return err
	}
	if err := step("credentials"); err != nil {
		return err
	}
	if err := markDone(); err != nil {
		return err
	}
	log.Info("bootstrapped tenant default", "hosts", t.Hosts, "admin_client_id", client.ClientID, "credentials", path, "resumed", resumed)
	return nil
}

// createManagementAPI creates tenant t's built-in Management API, as
// keyring.Ring.CreateTenant does (a kill may have come between the two).
func createManagementAPI(ctx context.Context, store signet.Store, ring *keyring.Ring, t signet.Tenant) (signet.ResourceServer, error) {
	now := time.Now().UTC()
	rs := signet.ResourceServer{
		Tenant:        t.Name,
		ID:            secret.ResourceServerID(),
		Name:          keyring.ManagementAPIName,
		Identifier:    keyring.ManagementAudienceOf(ring.Issuer(t.Hosts[0])),
		Scopes:        keyring.ManagementScopes,
		SigningAlg:    t.Algorithm,
		TokenLifetime: signet.DefaultTokenLifetime,
		System:        true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := store.CreateResourceServer(ctx, rs); err != nil {
		return signet.ResourceServer{}, fmt.Errorf("management api: %w", err)
	}
	return rs, nil
}

// newClientSecret gives client a new secret and returns it.
func newClientSecret(ctx context.Context, store signet.Store, client signet.Client) (string, error) {
	sec, digest := secret.New()
	_, err := store.UpdateClient(ctx, client.Tenant, client.ClientID, func(cl *signet.Client) error {
		cl.SecretHash, cl.UpdatedAt = digest, time.Now().UTC()
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("new admin client secret: %w", err)
	}
	return sec, nil
}

// readCredentials reads a credentials file. Returns an error matching
// fs.ErrNotExist if there is none.
func readCredentials(path string) (credentials, error) {
	var c credentials
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// writeCredentials writes creds to path (mode 0600) whole or not at all:
// into a synced temporary file first, then linked into place, which fails
// if path exists, or with replace renamed over it; then the directory is
// synced.
func writeCredentials(dir, path string, creds credentials, replace bool) error {
	b, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if replace {
			err = os.Rename(tmp.Name(), path)
		} else {
			err = os.Link(tmp.Name(), path)
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("write %s: sync directory: %w", path, err)
		}
	}
	return nil
}

// upgradeManagementAPIs gives every tenant's built-in Management API the
// scopes Signet has defined since the tenant was created (see
// mgmt.API.Upgrade). The bootstrap administrative client was granted every
// Management API scope so that it can do anything, so it gains them too,
// first, unless an administrator has narrowed its grant. It is the first
// client of tenant "default" (bootstrap creates it before anything serves),
// recognised by its name; if it was deleted or renamed no grant changes.
// Other clients' grants never change: an administrator grants the new
// scopes through the Management API. Safe on several replicas starting at
// once.
func upgradeManagementAPIs(ctx context.Context, store signet.Store, management *mgmt.API) error {
	cs, err := store.Clients(ctx, "default")
	if err != nil && !errors.Is(err, signet.ErrNotFound) {
		return fmt.Errorf("upgrade management api: %w", err)
	}
	if len(cs) > 0 && cs[0].Name == bootstrapClientName {
		if _, err := management.GrantNewScopes(ctx, "default", cs[0].ClientID); err != nil && !errors.Is(err, signet.ErrNotFound) {
			return fmt.Errorf("upgrade management api: %w", err)
		}
	}
	return management.UpgradeAll(ctx)
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

// errSameHost stops a tenant update that has nothing to change.
var errSameHost = errors.New("primary host unchanged")

// followPublicURL makes the public URL's host (--public-url, or
// http://localhost:<port> by default) tenant "default"'s primary host on
// every start, so that a data directory restarted on another port or
// behind a new name is reachable there. When the stored primary host
// differs, it is replaced by the new one; the other hosts stay, except
// that the loopback alias the first start added beside a default public
// URL (127.0.0.1:<old port> beside localhost:<old port>) becomes
// 127.0.0.1:<new port>. The old primary host is dropped: an operator who
// wants to keep it adds it back with `signet tenants update --add-host`.
// The change is audited as tenant.updated by keyring.ActorSystem and
// logged at WARN.
//
// The built-in Management API's identifier follows the primary host
// (<issuer>api/v2/, as keyring.Ring.ManagementAudience derives it; the
// store moves the grants for it along) and so do the URLs in
// admin-credentials.json. Tokens issued before the change name the old
// issuer and audience and are refused: clients get new ones.
//
// Each part checks what is stored inside its own transaction and writes
// only if it differs, so replicas starting with the same public URL do
// nothing after the first, and a start interrupted in between completes
// the rest next time. Replicas started with different public URLs would
// move the host at each start: they must share one. A tenant "default"
// that does not exist is left alone; a host owned by another tenant is
// logged and left alone. Returns other store errors.
func followPublicURL(ctx context.Context, c *config, store signet.Store, ring *keyring.Ring, publicHost, listenAddr string, log *slog.Logger) error {
	var oldPrimary string
	t, err := store.UpdateTenant(ctx, "default", keyring.ActorSystem, func(t *signet.Tenant) error {
		oldPrimary = t.Hosts[0]
		if oldPrimary == publicHost {
			return errSameHost
		}
		t.Hosts = movedHosts(t.Hosts, publicHost, listenAddr)
		return nil
	})
	switch {
	case errors.Is(err, errSameHost):
		oldPrimary = ""
	case errors.Is(err, signet.ErrNotFound):
		return nil
	case errors.Is(err, signet.ErrConflict):
		log.Warn("the public URL's host belongs to another tenant: tenant default keeps its hosts", "host", publicHost, "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("follow the public url: %w", err)
	default:
		log.Warn("tenant default's primary host follows the public URL: tokens issued for the old host must be fetched again",
			"old", oldPrimary, "new", publicHost, "hosts", t.Hosts)
	}

	// The Management API's identifier, and the grants for it.
	api, err := mgmt.ResourceServer(ctx, store, "default")
	if errors.Is(err, signet.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("follow the public url: %w", err)
	}
	want := keyring.ManagementAudienceOf(ring.Issuer(publicHost))
	var oldAPI string
	_, err = store.UpdateResourceServer(ctx, "default", api.ID, func(rs *signet.ResourceServer) error {
		if rs.Identifier == want {
			return errSameHost
		}
		oldAPI = rs.Identifier
		rs.Identifier, rs.UpdatedAt = want, time.Now().UTC()
		return nil
	})
	switch {
	case errors.Is(err, errSameHost):
	case errors.Is(err, signet.ErrConflict):
		log.Warn("the Management API's identifier cannot follow the public URL: another API of tenant default has it", "identifier", want, "err", err)
	case err != nil:
		return fmt.Errorf("follow the public url: management api: %w", err)
	default:
		log.Warn("tenant default's Management API identifier follows the public URL", "old", oldAPI, "new", want)
	}
	if oldPrimary != "" {
		followCredentials(c, ring.Issuer(oldPrimary), ring.Issuer(publicHost), log)
	}
	return nil
}

// movedHosts returns hosts with primary first in place of hosts[0]: the
// rest keep their order, the loopback alias that bootstrap added beside a
// default public URL moves to listenAddr's port, and no host repeats.
func movedHosts(hosts []string, primary, listenAddr string) []string {
	oldLoop := ""
	if h, port, err := net.SplitHostPort(hosts[0]); err == nil && h == "localhost" {
		oldLoop = "127.0.0.1:" + port
	}
	newLoop := ""
	if _, port, err := net.SplitHostPort(listenAddr); err == nil {
		newLoop = "127.0.0.1:" + port
	}
	out := []string{primary}
	for _, h := range hosts[1:] {
		if h == oldLoop && newLoop != "" {
			h = newLoop
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// followCredentials rewrites the URLs of admin-credentials.json that name
// the old issuer, if the file exists, so that it still gets tokens. The
// file is replaced whole (a synced temporary file renamed into place) and
// keeps mode 0600. A failure is logged: the server serves without it.
func followCredentials(c *config, oldIssuer, newIssuer string, log *slog.Logger) {
	path := filepath.Join(c.DataDir, credentialsFile)
	creds, err := readCredentials(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	changed := false
	for _, u := range []*string{&creds.TokenURL, &creds.Audience, &creds.Dashboard.URL} {
		if rest, ok := strings.CutPrefix(*u, oldIssuer); ok {
			*u, changed = newIssuer+rest, true
		}
	}
	if err == nil && changed {
		err = writeCredentials(c.DataDir, path, creds, true)
	}
	if err != nil {
		log.Warn("could not update the URLs in the credentials file: take token_url and audience from the new public URL", "path", path, "err", err)
		return
	}
	if changed {
		log.Info("the credentials file names the new public URL", "path", path)
	}
}
