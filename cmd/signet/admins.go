package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/dashboard"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/throttle"
)

// dashboardCredentials is the "dashboard" part of admin-credentials.json:
// where and as whom the first administrator signs in.
type dashboardCredentials struct {
	URL      string `json:"url"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// admins runs `signet admins …`.
func admins(ctx context.Context, cmd command, args []string, env Env) error {
	sub := strings.TrimPrefix(cmd.name, "admins ")
	var (
		c         config
		fromStdin bool
	)
	_, err := c.parse(cmd.name, args, env, func(fs *flag.FlagSet) {
		if sub == "create" || sub == "password" {
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input instead of generating one")
		}
	})
	if err != nil {
		return err
	}
	store, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var as signet.AdminStore = store
	out := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	defer out.Flush()

	// readPassword returns the password to set and whether it was generated.
	readPassword := func() (string, bool, error) {
		if !fromStdin {
			return newPassword(), true, nil
		}
		if env.Stdin == nil {
			return "", false, errors.New("--password-stdin: no standard input")
		}
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", false, fmt.Errorf("--password-stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if len(pw) < minPassword {
			return "", false, fmt.Errorf("--password-stdin: the password must have at least %d characters", minPassword)
		}
		return pw, false, nil
	}
	// byEmail finds the administrator named by the first argument.
	byEmail := func() (signet.Admin, error) {
		email, err := signet.NormalizeEmail(c.args[0])
		if err != nil {
			return signet.Admin{}, err
		}
		a, err := as.AdminByEmail(ctx, email)
		if errors.Is(err, signet.ErrAdminNotFound) {
			return signet.Admin{}, fmt.Errorf("no administrator %s", email)
		}
		return a, err
	}

	switch sub {
	case "create":
		pw, generated, err := readPassword()
		if err != nil {
			return err
		}
		a, err := createAdmin(ctx, as, c.args[0], pw, []string{c.Tenant})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "email\t%s\ntenants\t%s\n", a.Email, strings.Join(a.Tenants, " "))
		if generated {
			fmt.Fprintf(out, "password\t%s\n", pw)
			fmt.Fprintln(out, "The password is shown only now; store it safely.")
		}
	case "list":
		list, err := as.Admins(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "EMAIL\tTENANTS\tCREATED\tLAST SIGN-IN")
		for _, a := range list {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", a.Email, orDash(strings.Join(a.Tenants, " ")), stamp(a.CreatedAt), stamp(a.LastSignInAt))
		}
	case "grant", "ungrant":
		a, err := byEmail()
		if err != nil {
			return err
		}
		a, err = as.UpdateAdmin(ctx, a.ID, func(a *signet.Admin) error {
			for _, t := range c.args[1:] {
				if sub == "grant" {
					a.Tenants = append(a.Tenants, t)
				} else {
					a.Tenants = slices.DeleteFunc(a.Tenants, func(g string) bool { return g == t })
				}
			}
			a.UpdatedAt = time.Now().UTC()
			return nil
		})
		if errors.Is(err, signet.ErrTenantNotFound) {
			return fmt.Errorf("no tenant %s", strings.Join(c.args[1:], " or "))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "email\t%s\ntenants\t%s\n", a.Email, orDash(strings.Join(a.Tenants, " ")))
	case "password":
		a, err := byEmail()
		if err != nil {
			return err
		}
		pw, generated, err := readPassword()
		if err != nil {
			return err
		}
		hash, err := password.Hash(pw)
		if err != nil {
			return err
		}
		if _, err := as.UpdateAdmin(ctx, a.ID, func(a *signet.Admin) error {
			a.PasswordHash, a.UpdatedAt = hash, time.Now().UTC()
			return nil
		}); err != nil {
			return err
		}
		n, err := as.DeleteAdminSessions(ctx, a.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "email\t%s\nsigned out\t%d sessions\n", a.Email, n)
		if generated {
			fmt.Fprintf(out, "password\t%s\n", pw)
			fmt.Fprintln(out, "The password is shown only now; store it safely.")
		}
	case "delete":
		a, err := byEmail()
		if err != nil {
			return err
		}
		if err := as.DeleteAdmin(ctx, a.ID); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted\t%s\n", a.Email)
	}
	return nil
}

// minPassword is the shortest password an operator may set.
const minPassword = 12

// newPassword returns a generated password: 24 characters of [A-Za-z0-9],
// about 143 bits.
func newPassword() string { return secret.ID(24) }

// createAdmin creates an administrator with password pw granted tenants.
// Returns EINVALID for a bad e-mail, ErrConflict if it is taken, and
// ErrTenantNotFound for an unknown tenant.
func createAdmin(ctx context.Context, as signet.AdminStore, email, pw string, tenants []string) (signet.Admin, error) {
	norm, err := signet.NormalizeEmail(email)
	if err != nil {
		return signet.Admin{}, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return signet.Admin{}, err
	}
	now := time.Now().UTC()
	a := signet.Admin{ID: "adm_" + secret.ID(20), Email: norm, PasswordHash: hash,
		Tenants: signet.NormalizeGrants(tenants), CreatedAt: now, UpdatedAt: now}
	if err := as.CreateAdmin(ctx, a); err != nil {
		switch {
		case errors.Is(err, signet.ErrConflict):
			return signet.Admin{}, fmt.Errorf("an administrator %s already exists", norm)
		case errors.Is(err, signet.ErrTenantNotFound):
			return signet.Admin{}, fmt.Errorf("no tenant %s", strings.Join(tenants, " or "))
		}
		return signet.Admin{}, err
	}
	return a, nil
}

// errAdminExists is returned by bootstrapAdmin when the administrator it
// would create exists.
var errAdminExists = errors.New("the bootstrap administrator exists")

// bootstrapAdmin creates the first dashboard administrator,
// admin@<public hostname>, granted tenant "default", with a generated
// password, and returns how to sign in. Returns errAdminExists if there is
// one with that e-mail.
func bootstrapAdmin(ctx context.Context, store signet.Store, scheme, publicHost string) (dashboardCredentials, error) {
	email := bootstrapAdminEmail(publicHost)
	if _, err := store.AdminByEmail(ctx, email); err == nil {
		return dashboardCredentials{URL: scheme + "://" + publicHost + "/dashboard/", Email: email}, errAdminExists
	} else if !errors.Is(err, signet.ErrNotFound) {
		return dashboardCredentials{}, fmt.Errorf("dashboard administrator: %w", err)
	}
	pw := newPassword()
	a, err := createAdmin(ctx, store, email, pw, []string{"default"})
	if err != nil {
		return dashboardCredentials{}, fmt.Errorf("dashboard administrator: %w", err)
	}
	return dashboardCredentials{URL: scheme + "://" + publicHost + "/dashboard/", Email: a.Email, Password: pw}, nil
}

// newAdminPassword gives the bootstrap administrator a new generated
// password and returns how to sign in.
func newAdminPassword(ctx context.Context, store signet.Store, scheme, publicHost string) (dashboardCredentials, error) {
	a, err := store.AdminByEmail(ctx, bootstrapAdminEmail(publicHost))
	if err != nil {
		return dashboardCredentials{}, fmt.Errorf("dashboard administrator: %w", err)
	}
	pw := newPassword()
	hash, err := password.Hash(pw)
	if err != nil {
		return dashboardCredentials{}, err
	}
	if _, err := store.UpdateAdmin(ctx, a.ID, func(a *signet.Admin) error {
		a.PasswordHash, a.UpdatedAt = hash, time.Now().UTC()
		return nil
	}); err != nil {
		return dashboardCredentials{}, fmt.Errorf("dashboard administrator: %w", err)
	}
	return dashboardCredentials{URL: scheme + "://" + publicHost + "/dashboard/", Email: a.Email, Password: pw}, nil
}

// bootstrapAdminEmail is the e-mail of the first administrator: admin@ and
// the public host's name.
func bootstrapAdminEmail(publicHost string) string {
	host := publicHost
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	email, err := signet.NormalizeEmail("admin@" + host)
	if err != nil {
		return "admin@" + host
	}
	return email
}

// dashboardHandler returns the dashboard for serve. It logs how to create
// the first administrator when there is none (a data dir from before the
// dashboard).
func dashboardHandler(ctx context.Context, c *config, store signet.Store, ring *keyring.Ring, public *url.URL, hashing *throttle.Gate, log *slog.Logger) http.Handler {
	if list, err := store.Admins(ctx); err == nil && len(list) == 0 {
		log.Info("no dashboard administrator yet: create one with `signet admins create EMAIL --tenant default`")
	}
	return dashboard.New(dashboard.Config{Ring: ring, Store: store, JWKSMaxAge: c.JWKSMaxAge,
		Secure: public.Scheme == "https", Hashing: hashing, Logger: log})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
