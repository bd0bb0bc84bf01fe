package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/secret"
)

// stringsFlag collects a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// durationFlag is a duration flag that knows whether it was given.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string { return f.d.String() }
func (f *durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

// operate runs the operator commands of the groups tenants, clients, apis
// and keys.
func operate(ctx context.Context, cmd command, args []string, env Env) (err error) {
	var (
		c             config
		hosts         stringsFlag
		alg           string
		name          string
		audience      string
		scopes        string
		revokeCurrent bool
		removeHosts   stringsFlag
		period        durationFlag
		grace         durationFlag
		minNextAge    durationFlag
		jwksMaxAge    time.Duration
		samlF         samlFlags
	)
	defer func() {
		if errors.Is(err, signet.ErrTenantNotFound) {
			name := c.Tenant
			if strings.HasPrefix(cmd.name, "tenants ") && len(c.args) > 0 {
				name = c.args[0]
			}
			err = fmt.Errorf("no tenant %s", name)
		}
	}()
	_, err = c.parse(cmd.name, args, env, func(fs *flag.FlagSet) {
		switch cmd.name {
		case "tenants create":
			fs.Var(&hosts, "host", "a host (host[:port]) that reaches the tenant; repeatable")
			fs.StringVar(&alg, "alg", signet.DefaultAlgorithm, "signing algorithm: RS256 or ES256")
		case "tenants update":
			fs.Var(&hosts, "add-host", "add a host that reaches the tenant; repeatable")
			fs.Var(&removeHosts, "remove-host", "remove a host (not the primary one); repeatable")
			fs.Var(&period, "rotation-period", "rotate automatically this long after the last rotation (0 = manual only)")
			fs.Var(&grace, "revoke-previous-after", "revoke previous keys this long after they stopped signing (0 = never)")
			fs.Var(&minNextAge, "min-next-age", "never promote on schedule a next key published for less than this (the JWKS max-age applies too)")
		case "clients create":
			fs.StringVar(&name, "name", "", "application name (required)")
			fs.StringVar(&audience, "audience", "", "grant the client access to this API identifier")
			fs.StringVar(&scopes, "scopes", "", "space-separated scopes to grant for --audience")
		case "clients saml":
			samlF.register(fs)
		case "apis create":
			fs.StringVar(&name, "name", "", "API name (default: the identifier)")
			fs.StringVar(&audience, "identifier", "", "API identifier: the audience of its tokens (required)")
			fs.StringVar(&scopes, "scopes", "", "space-separated scopes the API defines")
		case "keys rotate":
			fs.BoolVar(&revokeCurrent, "revoke-current", false, "revoke the key that was current in the same step")
			fs.DurationVar(&jwksMaxAge, "jwks-max-age", jwksMaxAgeDefault(env), "the servers' --jwks-max-age: warn when the promoted key was published for less (env "+envName("jwks-max-age")+")")
		}
	})
	if err != nil {
		return err
	}
	// Flags that must be given are checked before the store is opened.
	switch {
	case cmd.name == "clients create" && name == "":
		return usagef(cmd.name, "--name is required")
	case cmd.name == "clients create" && audience == "" && strings.TrimSpace(scopes) != "":
		return usagef(cmd.name, "--scopes needs --audience")
	case cmd.name == "apis create" && audience == "":
		return usagef(cmd.name, "--identifier is required")
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080" // the port of the default public URL
	}
	public, err := c.publicURL(c.Addr)
	if err != nil {
		return err
	}
	store, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var ring *keyring.Ring
	if cmd.master {
		log, err := c.logger(env.Stderr)
		if err != nil {
			return err
		}
		sealer, err := c.sealer(ctx, env, store, log)
		if err != nil {
			return err
		}
		ring = keyring.New(keyring.Config{Store: store, Sealer: sealer, Pool: keygen.NewPool(0), Scheme: public.Scheme, JWKSMaxAge: jwksMaxAge})
	}
	out := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	defer out.Flush()

	switch cmd.name {
	case "tenants create":
		tname := c.args[0]
		if len(hosts) == 0 {
			hosts = stringsFlag{tname + "." + public.Host}
		}
		t, err := ring.CreateTenant(ctx, tname, hosts, alg, keyring.ActorCLI)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "created tenant %s\nissuer\t%s\njwks\t%s.well-known/jwks.json\n", t.Name, ring.Issuer(t.Hosts[0]), ring.Issuer(t.Hosts[0]))
	case "tenants update":
		t, err := ring.UpdateTenant(ctx, c.args[0], keyring.ActorCLI, func(t *signet.Tenant) error {
			for _, h := range removeHosts {
				i := slices.Index(t.Hosts, strings.ToLower(h))
				if i < 0 {
					return signet.Errorf(signet.EINVALID, "Tenant %s has no host %q.", t.Name, h)
				}
				t.Hosts = slices.Delete(t.Hosts, i, i+1)
			}
			t.Hosts = append(t.Hosts, hosts...)
			if period.set {
				t.Policy.RotationPeriod = period.d
			}
			if grace.set {
				t.Policy.RevokePreviousAfter = grace.d
			}
			if minNextAge.set {
				t.Policy.MinNextAge = minNextAge.d
			}
			return nil
		})
		if err != nil {
			return err
		}
		printTenants(out, []signet.Tenant{t})
	case "tenants list":
		ts, err := store.Tenants(ctx)
		if err != nil {
			return err
		}
		printTenants(out, ts)
	case "clients create":
		var sc []string
		if scopes != "" {
			sc = strings.Fields(scopes)
		}
		cl, sec, err := createClient(ctx, store, c.Tenant, name, audience, sc)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "client_id\t%s\nclient_secret\t%s\n", cl.ClientID, sec)
		fmt.Fprintln(out, "The secret is shown only now; store it safely.")
	case "clients list":
		cs, err := store.Clients(ctx, c.Tenant)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "CLIENT ID\tNAME\tAPP TYPE\tCREATED")
		for _, cl := range cs {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", cl.ClientID, cl.Name, cl.AppType, stamp(cl.CreatedAt))
		}
	case "clients saml":
		t, err := store.Tenant(ctx, c.Tenant)
		if err != nil {
			return err
		}
		return clientsSAML(ctx, store, c.Tenant, public.Scheme+"://"+t.Hosts[0]+"/", c.args[0], samlF, out)
	case "apis create":
		if name == "" {
			name = audience
		}
		t, err := store.Tenant(ctx, c.Tenant)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		rs := signet.ResourceServer{Tenant: c.Tenant, ID: secret.ResourceServerID(), Name: name, Identifier: audience,
			SigningAlg: t.Algorithm, TokenLifetime: signet.DefaultTokenLifetime, CreatedAt: now, UpdatedAt: now}
		for _, sc := range strings.Fields(scopes) {
			rs.Scopes = append(rs.Scopes, signet.Scope{Value: sc})
		}
		if err := store.CreateResourceServer(ctx, rs); err != nil {
			return err
		}
		fmt.Fprintf(out, "id\t%s\nidentifier\t%s\n", rs.ID, rs.Identifier)
	case "apis list":
		rss, err := store.ResourceServers(ctx, c.Tenant)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "ID\tIDENTIFIER\tNAME\tSCOPES")
		for _, rs := range rss {
			var sc []string
			for _, s := range rs.Scopes {
				sc = append(sc, s.Value)
			}
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", rs.ID, rs.Identifier, rs.Name, strings.Join(sc, " "))
		}
	case "keys list":
		ks, err := store.Keyset(ctx, c.Tenant)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "KID\tALG\tSTATE\tCREATED\tCURRENT SINCE\tCURRENT UNTIL\tREVOKED")
		for _, k := range ks.Sorted() {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, k.State,
				stamp(k.CreatedAt), stamp(k.CurrentSince), stamp(k.CurrentUntil), stamp(k.RevokedAt))
		}
		if w := ks.GrowthWarning(); w != "" {
			fmt.Fprintf(env.Stderr, "signet: warning: %s\nsignet: set the policy with: signet tenants update %s --revoke-previous-after DURATION\n", w, c.Tenant)
		}
	case "keys rotate":
		rot, err := ring.Rotate(ctx, c.Tenant, keyring.RotateOptions{RevokeCurrent: revokeCurrent, Actor: keyring.ActorCLI})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "current\t%s\nnext\t%s\n", rot.Current.KID, rot.Next.KID)
		if revokeCurrent {
			fmt.Fprintf(out, "revoked\t%s\n", rot.Previous.KID)
		} else {
			fmt.Fprintf(out, "previous\t%s\n", rot.Previous.KID)
		}
		if rot.Warning != "" { // the API's Warning header, the dashboard's note
			fmt.Fprintf(env.Stderr, "signet: warning: %s\n", rot.Warning)
		}
	case "keys revoke":
		k, err := ring.Revoke(ctx, c.Tenant, c.args[0], keyring.ActorCLI)
		switch {
		case errors.Is(err, signet.ErrRevokeCurrent):
			return fmt.Errorf("%s is the current signing key and cannot be revoked: rotate first (signet keys rotate --tenant %s), "+
				"or rotate and revoke it in one step with signet keys rotate --tenant %s --revoke-current", c.args[0], c.Tenant, c.Tenant)
		case errors.Is(err, signet.ErrRevokeNext):
			return fmt.Errorf("%s is the next signing key and has never signed: it cannot be revoked; "+
				"rotate twice to replace it (signet keys rotate --tenant %s)", c.args[0], c.Tenant)
		case err != nil:
			return err
		}
		fmt.Fprintf(out, "revoked\t%s\n", k.KID)
	default:
		return fmt.Errorf("unknown command %q", cmd.name)
	}
	return nil
}

// jwksMaxAgeDefault is the default of keys rotate's --jwks-max-age: the
// SIGNET_JWKS_MAX_AGE the servers may read, else serve's own default.
func jwksMaxAgeDefault(env Env) time.Duration {
	if d, err := time.ParseDuration(env.Getenv(envName("jwks-max-age"))); err == nil {
		return d
	}
	return defaultJWKSMaxAge
}

func printTenants(out io.Writer, ts []signet.Tenant) {
	fmt.Fprintln(out, "NAME\tALG\tROTATION PERIOD\tREVOKE PREVIOUS AFTER\tMIN NEXT AGE\tHOSTS")
	for _, t := range ts {
		p := t.Policy
		fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Algorithm, orNever(p.RotationPeriod, "manual"),
			orNever(p.RevokePreviousAfter, "never"), p.MinNextAge, strings.Join(t.Hosts, " "))
	}
}

func orNever(d time.Duration, zero string) string {
	if d == 0 {
		return zero
	}
	return d.String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// createClient creates a machine-to-machine client in tenant and, if audience
// is set, grants it scopes on that API. It returns the client and its secret,
// which is not stored anywhere.
func createClient(ctx context.Context, store signet.Store, tenant, name, audience string, scopes []string) (signet.Client, string, error) {
	if audience != "" {
		rs, err := store.ResourceServerByIdentifier(ctx, tenant, audience)
		if errors.Is(err, signet.ErrNotFound) {
			return signet.Client{}, "", fmt.Errorf("tenant %s has no API %s (see signet apis list)", tenant, audience)
		}
		if err != nil {
			return signet.Client{}, "", fmt.Errorf("api %s: %w", audience, err)
		}
		for _, s := range scopes {
			if !slices.ContainsFunc(rs.Scopes, func(d signet.Scope) bool { return d.Value == s }) {
				return signet.Client{}, "", fmt.Errorf("api %s does not define scope %q", audience, s)
			}
		}
	}
	now := time.Now().UTC()
	sec, digest := secret.New()
	cl := signet.Client{
		Tenant: tenant, ClientID: secret.ClientID(), Name: name, AppType: "non_interactive",
		SecretHash: digest, GrantTypes: []string{"client_credentials"}, CreatedAt: now, UpdatedAt: now,
	}
	if err := store.CreateClient(ctx, cl); err != nil {
		return signet.Client{}, "", err
	}
	if audience != "" {
		g := signet.ClientGrant{Tenant: tenant, ID: secret.GrantID(), ClientID: cl.ClientID, Audience: audience,
			Scope: scopes, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateClientGrant(ctx, g); err != nil {
			return signet.Client{}, "", err
		}
	}
	return cl, sec, nil
}
