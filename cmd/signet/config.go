package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/postgres"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/sqlite"
)

// errUsage means the flag package has already explained the problem.
var errUsage = errors.New("usage")

// config is every setting; each flag has a SIGNET_* environment equivalent.
type config struct {
	Addr       string
	PublicURL  string
	DataDir    string
	Database   string
	JWKSMaxAge time.Duration
	Resync     time.Duration
	// PublishDelay is keyring.Config.PublishDelay.
	PublishDelay time.Duration
	// MaxStaleness is keyring.Config.MaxStaleness.
	MaxStaleness time.Duration
	LogFormat    string
	LogLevel     string
	TLSCert      string
	TLSKey       string
	Tenant       string
	// args are the positional arguments.
	args []string
}

// flags registers the common flags on fs; serve adds the server's flags.
func (c *config) flags(fs *flag.FlagSet, server bool) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.PublicURL, "public-url", "", "public base URL of the default tenant (default http://localhost:<port of --addr>, https with --tls-cert)")
	fs.StringVar(&c.DataDir, "data-dir", "./signet-data", "directory for the SQLite database, master key and admin credentials")
	fs.StringVar(&c.Database, "database", "", "database DSN: a SQLite file path or sqlite:PATH (default <data-dir>/signet.db), or a postgres:// URL shared by replicas")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	if server {
		fs.DurationVar(&c.JWKSMaxAge, "jwks-max-age", 5*time.Minute, "Cache-Control max-age of the JWKS")
		fs.DurationVar(&c.Resync, "resync", 5*time.Minute, "how often every tenant is reloaded from the database in full (a safety net behind the change feed)")
		fs.DurationVar(&c.PublishDelay, "publish-delay", 2*time.Second, "without acknowledgements (SQLite, or --max-staleness 0), how long a new current key must have been published before this replica signs with it (until then the previous key signs); replicas on PostgreSQL wait instead until every live replica publishes it; 0 for a single process")
		fs.DurationVar(&c.MaxStaleness, "max-staleness", 5*time.Second, "how long this replica may go without confirming that it has seen every key change (change feed down, refreshes failing) before it stops signing and /readyz fails; 0 never stops")
		fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
		fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file for --tls-cert")
	} else {
		fs.StringVar(&c.Tenant, "tenant", "default", "tenant to act on")
	}
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + envName(f.Name) + ")" })
}

// applyEnv sets every flag that has a SIGNET_* variable in the environment;
// flags given on the command line override it afterwards.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && err == nil {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, serr)
			}
		}
	})
	return err
}

func envName(flagName string) string {
	return "SIGNET_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args into c. It returns errUsage after printing help.
func (c *config) parse(name string, args []string, env Env, server bool, extra func(fs *flag.FlagSet)) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	c.flags(fs, server)
	if err := applyEnv(fs, env.Getenv); err != nil {
		return nil, err
	}
	if extra != nil {
		extra(fs)
	}
	// Flags may follow positional arguments ("tenants create acme --host h"):
	// parse again after each positional one.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	c.args = positional
	if c.TLSCert != "" && c.TLSKey == "" || c.TLSCert == "" && c.TLSKey != "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	return fs, nil
}

// publicURL returns the public base URL (no trailing slash) given the
// address the server listens on.
func (c *config) publicURL(listenAddr string) (*url.URL, error) {
	raw := c.PublicURL
	if raw == "" {
		_, port, err := net.SplitHostPort(listenAddr)
		if err != nil {
			return nil, fmt.Errorf("--addr %q: %w", listenAddr, err)
		}
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		raw = scheme + "://localhost:" + port
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("--public-url %q: want http(s)://host[:port] with no path", raw)
	}
	u.Path = ""
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", c.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
}

// openStore opens the configured store.
func (c *config) openStore(ctx context.Context) (signet.Store, error) {
	dsn := c.Database
	switch {
	case dsn == "":
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		dsn = filepath.Join(c.DataDir, "signet.db")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		// Replicas share the database; the data dir still holds the admin
		// credentials and, without SIGNET_MASTER_KEY, the master key.
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return db, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(dsn, "sqlite:")
	}
	db, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// sealer loads the master key from SIGNET_MASTER_KEY or <data-dir>/master.key
// (created on first use).
func (c *config) sealer(env Env, log *slog.Logger) (*seal.Sealer, error) {
	fromEnv := env.Getenv("SIGNET_MASTER_KEY")
	key, created, err := seal.LoadKey(fromEnv, filepath.Join(c.DataDir, "master.key"))
	if err != nil && fromEnv != "" {
		return nil, fmt.Errorf("SIGNET_MASTER_KEY: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	path := filepath.Join(c.DataDir, "master.key")
	if created && log != nil {
		log.Info("master key created", "path", path)
	}
	if fi, err := os.Stat(path); err == nil && fromEnv == "" && fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("the master key file is readable by other users; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	return seal.New(key)
}
