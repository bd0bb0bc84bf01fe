package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
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

// defaultJWKSMaxAge is serve's --jwks-max-age unless told otherwise.
const defaultJWKSMaxAge = 5 * time.Minute

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
	// DashboardHost is server.Config.DashboardHosts, comma-separated.
	DashboardHost string
	// MetricsAddr, if set, serves /metrics on a listener of its own.
	MetricsAddr string
	// DBConnectTimeout, DBStatementTimeout and DBTxTimeout bound every
	// database call (postgres.Timeouts; DBTxTimeout is also SQLite's busy
	// timeout).
	DBConnectTimeout   time.Duration
	DBStatementTimeout time.Duration
	DBTxTimeout        time.Duration
	// args are the positional arguments.
	args []string
	// create lets openStore and sealer make the data dir, the SQLite
	// database and the master key (serve, tenants create); otherwise they
	// must exist.
	create bool
}

// flags registers on fs the common flags of the groups set.
func (c *config) flags(fs *flag.FlagSet, set flagGroup) {
	if set&flagsAddr != 0 {
		usage := "address to listen on"
		if set&flagsServe == 0 {
			usage = "the server's --addr: its port is the default public URL's"
		}
		fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", usage)
	}
	if set&flagsPublic != 0 {
		fs.StringVar(&c.PublicURL, "public-url", "", "public base URL of the default tenant (default http://localhost:<port of --addr>, https with --tls-cert)")
	}
	if set&flagsStore != 0 {
		fs.StringVar(&c.DataDir, "data-dir", "./signet-data", "directory for the SQLite database, master key and admin credentials")
		fs.StringVar(&c.Database, "database", "", "database DSN: a SQLite file path or sqlite:PATH (default <data-dir>/signet.db), or a postgres:// URL shared by replicas")
		fs.DurationVar(&c.DBConnectTimeout, "db-connect-timeout", postgres.DefaultConnectTimeout, "PostgreSQL: how long opening a connection may take")
		fs.DurationVar(&c.DBStatementTimeout, "db-statement-timeout", postgres.DefaultStatementTimeout, "PostgreSQL: how long a read may take (its one retry included) and the server's statement_timeout")
		fs.DurationVar(&c.DBTxTimeout, "db-tx-timeout", postgres.DefaultTxTimeout, "how long a write transaction may take, up to COMMIT's answer (PostgreSQL: its one retry included, and the server's idle_in_transaction_session_timeout; SQLite: the wait for another process's write lock)")
	}
	if set&flagsServe != 0 {
		fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
		fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
		fs.DurationVar(&c.JWKSMaxAge, "jwks-max-age", defaultJWKSMaxAge, "Cache-Control max-age of the JWKS")
		fs.DurationVar(&c.Resync, "resync", 5*time.Minute, "how often every tenant is reloaded from the database in full (a safety net behind the change feed)")
		fs.DurationVar(&c.PublishDelay, "publish-delay", 2*time.Second, "without acknowledgements (SQLite, or --max-staleness 0), how long a new current key must have been published before this replica signs with it (until then the previous key signs); replicas on PostgreSQL wait instead until every live replica publishes it; 0 for a single process")
		fs.DurationVar(&c.MaxStaleness, "max-staleness", 5*time.Second, "how long this replica may go without confirming that it has seen every key change (change feed down, refreshes failing) before it stops signing and /readyz fails; 0 never stops")
		fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
		fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file for --tls-cert")
		fs.StringVar(&c.DashboardHost, "dashboard-host", "", "host[:port] (comma-separated for several) on which /dashboard/ answers besides the tenants' hosts")
		fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "address of a plain-HTTP listener of its own for GET /metrics, which then leaves the main listener (default: on the main listener)")
	}
	if set&flagsTenant != 0 {
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

// parse parses args into c for the command named name (see commandTable):
// its common flags, from the environment and then args, and the flags extra
// registers. Returns errHelp after printing the command's help, and a
// *usageError for a command line that cannot run.
func (c *config) parse(name string, args []string, env Env, extra func(fs *flag.FlagSet)) (*flag.FlagSet, error) {
	cmd, ok := lookup(name)
	if !ok {
		return nil, &usageError{fmt.Sprintf("unknown command %q", name)}
	}
	c.create = cmd.creates
	fs := flag.NewFlagSet("signet "+name, flag.ContinueOnError)
	c.flags(fs, cmd.flags)
	if err := applyEnv(fs, env.Getenv); err != nil {
		return nil, err
	}
	if extra != nil {
		extra(fs)
	}
	positional, err := cmd.parseFlags(fs, args, env)
	if err != nil {
		return nil, err
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

// logger returns the logger --log-format and --log-level ask for; text at
// level info for commands without them.
func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if c.LogLevel == "" {
		level = slog.LevelInfo
	} else if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", c.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
}

// openStore opens the configured store: --database as a postgres:// or
// postgresql:// URL, sqlite:PATH, or a SQLite file path that names a
// directory (has a path separator) or ends in .db; by default
// <data-dir>/signet.db. Anything else (a bare word such as "signet" or
// "prod") is refused rather than made into a new database in the working
// directory.
func (c *config) openStore(ctx context.Context) (signet.Store, error) {
	dsn, err := c.sqlitePath()
	if err != nil {
		return nil, err
	}
	if dsn == "" {
		// Replicas share the database; the data dir still holds the admin
		// credentials and, without SIGNET_MASTER_KEY, the master key.
		db, err := postgres.OpenTimeouts(ctx, c.Database, postgres.Timeouts{Connect: c.DBConnectTimeout, Statement: c.DBStatementTimeout, Tx: c.DBTxTimeout})
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return db, nil
	}
	if !c.create {
		// sqlite.Open would make an empty database (and the default data
		// dir) where none is.
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no Signet database at %s: run `signet serve` first, or give --data-dir/--database", displayPath(dsn))
		} else if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	} else if c.Database == "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.SetBusyTimeout(ctx, c.DBTxTimeout); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// sqlitePath returns the SQLite file --database names, or "" for a
// PostgreSQL URL. Returns an error for a value that is neither.
func (c *config) sqlitePath() (string, error) {
	dsn := c.Database
	switch {
	case dsn == "":
		return filepath.Join(c.DataDir, "signet.db"), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "", nil
	case strings.HasPrefix(dsn, "sqlite:"):
		if p := strings.TrimPrefix(dsn, "sqlite:"); p != "" {
			return p, nil
		}
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return "", fmt.Errorf("--database: the scheme %s:// is not supported: want a postgres:// or postgresql:// URL, sqlite:PATH, or a SQLite file path", scheme)
	case strings.ContainsRune(dsn, '/') || strings.ContainsRune(dsn, filepath.Separator) || strings.HasSuffix(dsn, ".db"):
		return dsn, nil
	}
	return "", fmt.Errorf("--database %q: want a postgres:// or postgresql:// URL, sqlite:PATH, or a SQLite file path "+
		"with a directory or ending in .db (./%s.db); a bare name would make a new, empty database in the working directory", dsn, dsn)
}

// displayPath returns path as a user would type it: ./signet-data/signet.db
// for the relative signet-data/signet.db.
func displayPath(path string) string {
	if filepath.IsAbs(path) || strings.HasPrefix(path, ".") {
		return path
	}
	return "." + string(filepath.Separator) + path
}

// Names of the values cmd/signet keeps in the store's meta table.
const (
	// metaKeyCheck holds the master key's check value (seal.Sealer.Check).
	metaKeyCheck = "master_key_check"
	// metaBootstrapStarted and metaBootstrapDone mark the first start's
	// setup (see bootstrap).
	metaBootstrapStarted = "bootstrap_started"
	metaBootstrapDone    = "bootstrap_done"
)

// sealer loads the master key from SIGNET_MASTER_KEY or <data-dir>/master.key
// and verifies it against the store before anything is sealed under it:
// against the key-check value the store holds or, on a store from before
// check values, by opening one of its sealed keys, and then records the
// check value. A new key file is made only for a fresh store (no check value
// and no tenant); it is removed again if another process made the store's
// key first.
// Returns an error naming where the key came from if it is not the store's
// key, if the key file is missing while the store holds sealed keys, if the
// key is malformed, or if the store fails.
func (c *config) sealer(ctx context.Context, env Env, store signet.Store, log *slog.Logger) (*seal.Sealer, error) {
	fromEnv := env.Getenv("SIGNET_MASTER_KEY")
	path := filepath.Join(c.DataDir, "master.key")
	source := path
	if fromEnv != "" {
		source = "SIGNET_MASTER_KEY"
	}
	key, err := seal.ReadKey(fromEnv, path)
	missing := fromEnv == "" && errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		if fromEnv != "" {
			return nil, fmt.Errorf("SIGNET_MASTER_KEY: %w", err)
		}
		return nil, fmt.Errorf("master key: %w", err)
	}
	check, err := store.Meta(ctx, metaKeyCheck)
	hasCheck := err == nil
	if err != nil && !errors.Is(err, signet.ErrNotFound) {
		return nil, fmt.Errorf("master key check: %w", err)
	}
	var tenants []signet.Tenant
	if !hasCheck {
		if tenants, err = store.Tenants(ctx); err != nil {
			return nil, fmt.Errorf("master key check: %w", err)
		}
	}
	created := false
	if missing {
		if !hasCheck && len(tenants) == 0 && !c.create {
			return nil, fmt.Errorf("no master key at %s and SIGNET_MASTER_KEY is not set: run `signet serve` first, or give --data-dir", displayPath(path))
		}
		if hasCheck || len(tenants) > 0 {
			return nil, fmt.Errorf("master key file %s does not exist, but the database holds signing keys sealed under a master key%s: "+
				"restore the file from a backup, set SIGNET_MASTER_KEY, or point --data-dir at the directory that holds it "+
				"(no new key was made: keys sealed under it would open nowhere else)", path, checkKeyID(check))
		}
		if key, created, err = seal.LoadKey("", path); err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
	}
	s, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("master key (%s): %w", source, err)
	}
	if err := verifyMasterKey(ctx, store, s, check, hasCheck, tenants); err != nil {
		if created {
			os.Remove(path) // nothing was sealed under it
		}
		if errors.Is(err, seal.ErrWrongKey) {
			return nil, fmt.Errorf("the master key from %s is not the one this database's keys are sealed with (%w); nothing was written: "+
				"use the key of the database's first start (its SIGNET_MASTER_KEY or <data-dir>/master.key)", source, err)
		}
		return nil, fmt.Errorf("master key check: %w", err)
	}
	if created && log != nil {
		log.Info("master key created", "path", path, "key_id", s.KeyID())
	}
	if fi, err := os.Stat(path); err == nil && fromEnv == "" && fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("the master key file is readable by other users; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	return s, nil
}

// verifyMasterKey checks s against the store (see sealer) and records its
// check value if the store has none. Returns an error matching
// seal.ErrWrongKey if s is not the store's key.
func verifyMasterKey(ctx context.Context, store signet.Store, s *seal.Sealer, check string, hasCheck bool, tenants []signet.Tenant) error {
	if hasCheck {
		return s.Verify(check)
	}
	if len(tenants) > 0 {
		// Sealed before check values existed: one key that opens proves
		// the master key (one damaged key does not disprove it).
		if err := openOneSealedKey(ctx, store, s, tenants); err != nil {
			return err
		}
	}
	mine, err := s.Check()
	if err != nil {
		return err
	}
	stored, err := store.InitMeta(ctx, metaKeyCheck, mine)
	if err != nil {
		return err
	}
	if stored != mine { // another process recorded its key first
		return s.Verify(stored)
	}
	return nil
}

// openOneSealedKey returns nil once a sealed private key of tenants opens
// under s, and an error matching seal.ErrWrongKey if none does.
func openOneSealedKey(ctx context.Context, store signet.Store, s *seal.Sealer, tenants []signet.Tenant) error {
	tried := 0
	for _, t := range tenants {
		ks, err := store.Keyset(ctx, t.Name)
		if err != nil {
			return err
		}
		for _, k := range ks.Keys {
			if len(k.SealedPrivateKey) == 0 {
				continue
			}
			tried++
			if _, err := s.Open(k.SealedPrivateKey, seal.AD(t.Name, k.KID)); err == nil {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: none of the %d sealed keys of %d tenants opens under the key with id %s", seal.ErrWrongKey, tried, len(tenants), s.KeyID())
}

// checkKeyID returns " (id X)" for the key id a check value names, or "".
func checkKeyID(check string) string {
	if parts := strings.SplitN(check, ":", 3); len(parts) == 3 {
		return " (id " + parts[1] + ")"
	}
	return ""
}
