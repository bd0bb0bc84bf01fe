package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/sqlite"
)

// cli runs Main with args in the environment env and returns its exit code,
// stdout and stderr.
func cli(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""),
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

// TestHelp asks every command and group for help: exit 0, the help on
// stdout, with the synopsis, the flags the command uses and no other,
// its environment and an example.
func TestHelp(t *testing.T) {
	own := map[string][]string{
		"serve":          {"-addr", "-public-url", "-tls-cert", "-log-level", "-jwks-max-age", "SIGNET_MASTER_KEY"},
		"tenants create": {"-host", "-alg", "-addr", "-public-url", "SIGNET_MASTER_KEY"},
		"tenants update": {"-add-host", "-remove-host", "-rotation-period", "-revoke-previous-after", "-min-next-age"},
		"clients create": {"-name", "-audience", "-scopes", "-tenant"},
		"clients saml":   {"-recipient", "-wsfed", "-mappings", "-public-url"},
		"apis create":    {"-identifier", "-scopes"},
		"keys rotate":    {"-revoke-current", "-jwks-max-age", "-tenant", "SIGNET_MASTER_KEY"},
		"keys revoke":    {"KID", "--revoke-current"},
		"admins create":  {"-password-stdin", "-tenant"},
		"users create":   {"-name", "-email-verified", "-password-stdin", "-tenant"},
		"loadtest":       {"-url", "-rotate-every", "SIGNET_CLIENT_SECRET"},
	}
	for _, cmd := range commandTable {
		for _, h := range []string{"--help", "-h"} {
			t.Run(cmd.name+" "+h, func(t *testing.T) {
				args := append(strings.Fields(cmd.name), h)
				code, out, errs := cli(nil, args...)
				if code != 0 || errs != "" {
					t.Fatalf("exit %d, stderr %q", code, errs)
				}
				want := append([]string{"Usage: signet " + cmd.name, "Example:\n  signet ", "Environment:"}, own[cmd.name]...)
				if cmd.name != "loadtest" {
					want = append(want, "-data-dir", "-database", "SIGNET_<FLAG>")
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("help lacks %q:\n%s", w, out)
					}
				}
				// Flags a command does not use are not offered.
				unused := map[string]bool{
					"-addr ":      !slices.Contains([]string{"serve", "tenants create"}, cmd.name),
					"-log-level ": cmd.name != "serve",
					"-tenant ":    cmd.flags&flagsTenant == 0,
				}
				for f, no := range unused {
					if no && strings.Contains(out, "  "+f) {
						t.Errorf("help offers %s, which %s does not use:\n%s", f, cmd.name, out)
					}
				}
			})
		}
	}
	for _, group := range []string{"tenants", "clients", "apis", "keys", "admins", "users"} {
		for _, args := range [][]string{{group, "--help"}, {group, "-h"}, {"help", group}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errs := cli(nil, args...)
				if code != 0 || errs != "" {
					t.Fatalf("exit %d, stderr %q", code, errs)
				}
				for _, c := range groupOf(group) {
					if !strings.Contains(out, c.name) {
						t.Errorf("group help lacks %q:\n%s", c.name, out)
					}
				}
			})
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		code, out, _ := cli(nil, args...)
		if code != 0 || !strings.Contains(out, "keys rotate") {
			t.Errorf("signet %s: exit %d\n%s", args[0], code, out)
		}
	}
}

// TestCommandLineErrors checks that a command line that cannot run exits
// with 2 and one line on stderr naming what is wrong, creating nothing.
func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"keys"}, "keys: missing command: one of list, rotate or revoke"},
		{[]string{"tenants"}, "tenants: missing command"},
		{[]string{"keys", "bogus"}, `keys: unknown command "bogus"`},
		{[]string{"keys", "list", "extra"}, `keys list: unexpected argument "extra"`},
		{[]string{"keys", "list", "--no-such-flag"}, "keys list: unknown flag -no-such-flag"},
		{[]string{"keys", "list", "--addr", "127.0.0.1:1"}, "keys list: unknown flag -addr"},
		{[]string{"keys", "list", "--log-level", "debug"}, "keys list: unknown flag -log-level"},
		{[]string{"keys", "revoke"}, "keys revoke: missing KID"},
		{[]string{"keys", "revoke", "a", "b"}, `keys revoke: unexpected argument "b"`},
		{[]string{"tenants", "create"}, "tenants create: missing NAME"},
		{[]string{"tenants", "list", "acme"}, `tenants list: unexpected argument "acme"`},
		{[]string{"admins", "grant", "a@example.com"}, "admins grant: missing TENANT..."},
		{[]string{"admins", "list", "--tenant", "acme"}, "admins list: unknown flag -tenant"},
		{[]string{"users", "list", "x"}, `users list: unexpected argument "x"`},
		{[]string{"clients", "create"}, "clients create: --name is required"},
		{[]string{"serve", "extra-argument"}, `serve: unexpected argument "extra-argument"`},
		{[]string{"serve", "--jwks-max-age", "soon"}, `serve: invalid value "soon" for flag -jwks-max-age`},
		{[]string{"loadtest", "extra"}, `loadtest: unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			args := tc.args
			if len(args) > 1 && args[0] != "loadtest" {
				args = append(slices.Clone(args), "--data-dir", filepath.Join(dir, "data"))
			}
			code, out, errs := cli(nil, args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stdout %q", code, out)
			}
			if !strings.HasPrefix(errs, "signet: "+tc.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting %q", errs, "signet: "+tc.want)
			}
			assertEmpty(t, dir)
		})
	}
}

// assertEmpty fails unless dir is empty.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s was created in %s", e.Name(), dir)
	}
}

// readOnly are command lines that need an existing database: every command
// but serve and tenants create.
var readOnly = [][]string{
	{"keys", "list"}, {"keys", "rotate"}, {"keys", "revoke", "KID"},
	{"tenants", "list"}, {"tenants", "update", "default", "--rotation-period", "1h"},
	{"clients", "list"}, {"clients", "create", "--name", "ops"}, {"clients", "saml", "CLIENT"},
	{"apis", "list"}, {"apis", "create", "--identifier", "https://api.example"},
	{"admins", "list"}, {"admins", "create", "a@example.com"}, {"admins", "delete", "a@example.com"},
	{"users", "list"}, {"users", "create", "u@example.com"}, {"users", "block", "u@example.com"},
}

// TestCommandsNeedADatabase runs every command but serve and tenants create
// outside a data directory: each says which database it looked for and
// creates nothing (before, ./signet-data, a master key and an empty
// database appeared).
func TestCommandsNeedADatabase(t *testing.T) {
	for _, args := range readOnly {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			for _, tc := range []struct {
				extra []string
				want  string
			}{
				{nil, "no Signet database at ./signet-data/signet.db: run `signet serve` first, or give --data-dir/--database\n"},
				{[]string{"--data-dir", "elsewhere"}, "no Signet database at ./elsewhere/signet.db:"},
				{[]string{"--database", "./x.db"}, "no Signet database at ./x.db:"},
				{[]string{"--database", "sqlite:y.db"}, "no Signet database at ./y.db:"},
			} {
				dir := t.TempDir()
				t.Chdir(dir)
				code, _, errs := cli(nil, append(slices.Clone(args), tc.extra...)...)
				if code != 1 || errs != "signet: "+tc.want && !strings.HasPrefix(errs, "signet: "+tc.want) {
					t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.extra, code, errs, tc.want)
				}
				assertEmpty(t, dir)
			}
		})
	}
}

// TestCommandsMakeNoMasterKey runs the commands that read the master key on
// a data dir whose database exists but has no tenant and no master key:
// they refuse and make no key, where before they made one.
func TestCommandsMakeNoMasterKey(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, args := range [][]string{{"keys", "rotate"}, {"keys", "revoke", "KID"}, {"tenants", "update", "default"}} {
		code, _, errs := cli(nil, append(args, "--data-dir", dir)...)
		if code != 1 || !strings.Contains(errs, "no master key at "+filepath.Join(dir, "master.key")) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
			t.Fatalf("%v made a master key", args)
		}
	}
}

// TestTenantsCreateMakesADataDir checks that tenants create, like serve's
// first start, may make the data dir, database and master key.
func TestTenantsCreateMakesADataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	if code, _, errs := cli(nil, "tenants", "create", "acme"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, f := range []string{"signet.db", "master.key"} {
		if _, err := os.Stat(filepath.Join("signet-data", f)); err != nil {
			t.Error(err)
		}
	}
	if code, out, errs := cli(nil, "tenants", "list"); code != 0 || !strings.Contains(out, "acme") {
		t.Errorf("tenants list: exit %d, %s%s", code, out, errs)
	}
}

// TestErrorsSaidOnce checks that failures are one line in the user's words,
// with one "signet:" prefix.
func TestErrorsSaidOnce(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := cli(nil, "tenants", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("tenants create: %d %s", code, errs)
	}
	code, out, errs := cli(nil, "keys", "list", "--tenant", "acme", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("keys list: %d %s", code, errs)
	}
	var current string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "current" {
			current = f[0]
		}
	}
	wrongKey := map[string]string{"SIGNET_MASTER_KEY": randomKey()}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		notWant string
	}{
		{"duplicate tenant", nil, []string{"tenants", "create", "acme"}, `Tenant "acme" already exists.`, "create tenant"},
		{"revoke the current key", nil, []string{"keys", "revoke", current, "--tenant", "acme"},
			"signet keys rotate --tenant acme --revoke-current", "POST /api"},
		// One kid in 64 starts with "-": it is a kid, not an unknown flag.
		{"revoke a kid that starts with -", nil, []string{"keys", "revoke", "-" + strings.Repeat("A", 42), "--tenant", "acme"},
			"Signing key not found.", "unknown flag"},
		{"wrong master key", wrongKey, []string{"keys", "rotate", "--tenant", "acme"},
			"the master key from SIGNET_MASTER_KEY is not the one this database's keys are sealed with", "message authentication failed"},
		{"bad e-mail", nil, []string{"users", "create", "not-an-email", "--tenant", "acme"}, `Invalid email: "not-an-email".`, "invalid:"},
		{"unknown tenant", nil, []string{"keys", "list", "--tenant", "nope"}, "no tenant nope", "Tenant not found"},
		{"unknown API", nil, []string{"clients", "create", "--name", "x", "--audience", "nope", "--tenant", "acme"},
			"tenant acme has no API nope", "not_found"},
		{"unsupported database", nil, []string{"keys", "list", "--database", "mysql://x"},
			"--database: the scheme mysql:// is not supported", "bare name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := cli(tc.env, append(tc.args, "--data-dir", dir)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.HasPrefix(errs, "signet: ") || strings.Count(errs, "signet:") != 1 || strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr %q: want one line with one \"signet:\"", errs)
			}
			if !strings.Contains(errs, tc.want) || strings.Contains(errs, tc.notWant) {
				t.Errorf("stderr %q: want %q, not %q", errs, tc.want, tc.notWant)
			}
		})
	}
}
