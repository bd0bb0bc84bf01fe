package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// flagGroup names a group of the common flags a command takes.
type flagGroup uint

const (
	// flagsStore: --data-dir, --database and the --db-*-timeout flags.
	flagsStore flagGroup = 1 << iota
	// flagsTenant: --tenant.
	flagsTenant
	// flagsPublic: --public-url.
	flagsPublic
	// flagsAddr: --addr (serve's listener; the port of the default public URL).
	flagsAddr
	// flagsServe: serve's own flags, the log flags among them.
	flagsServe
)

// command is one command of the binary: its name, synopsis, help and the
// common flags it takes. A command's own flags are registered by its run
// function (see config.parse).
type command struct {
	name    string // "keys rotate"
	args    string // positional arguments of the synopsis: "KID"
	minArgs int
	maxArgs int    // -1: any number
	summary string // one line for the lists
	about   string // the help's description
	example string
	flags   flagGroup
	// creates: the command may create the data dir, the SQLite database and
	// the master key; every other command needs them to exist.
	creates bool
	// master: the command reads the master key.
	master bool
}

// operatorFlags are the flags of the commands on one tenant's data.
const operatorFlags = flagsStore | flagsTenant

// commandTable lists every command, groups in the order of the usage.
var commandTable = []command{
	{name: "serve", summary: "run the server",
		about: `Runs the server: the tenants' OpenID Connect, SAML and WS-Fed endpoints, the
Auth0-compatible Management API and the dashboard. The first start makes the data
dir, the database, the master key, the tenant "default" (its host is the public
URL's) and admin-credentials.json, which holds a Management API client and the
first dashboard administrator.`,
		example: "signet serve --addr 127.0.0.1:8080\nSIGNET_MASTER_KEY=$(cat master.key) signet serve --database postgres://signet@db/signet",
		flags:   flagsStore | flagsPublic | flagsAddr | flagsServe, creates: true, master: true},

	{name: "tenants create", args: "NAME", minArgs: 1, maxArgs: 1,
		summary: "create a tenant (default host NAME.<public host>)",
		about: `Creates a tenant with its own signing keys, Management API and hosts. Without
--host its host is NAME.<host of the public URL>. On a fresh data dir it makes the
database and the master key, as serve's first start does.`,
		example: "signet tenants create acme --host auth.acme.example",
		flags:   flagsStore | flagsPublic | flagsAddr, creates: true, master: true},
	{name: "tenants update", args: "NAME", minArgs: 1, maxArgs: 1,
		summary: "change a tenant's hosts or automatic rotation policy",
		about:   "Changes a tenant's hosts or its automatic rotation policy. Flags not given keep their value.",
		example: "signet tenants update default --rotation-period 720h --revoke-previous-after 168h",
		flags:   flagsStore, master: true},
	{name: "tenants list", summary: "list tenants and their policies",
		about:   "Lists every tenant with its algorithm, rotation policy and hosts.",
		example: "signet tenants list --data-dir /var/lib/signet",
		flags:   flagsStore},

	{name: "clients create", summary: "create a machine-to-machine application; prints its secret once",
		about: `Creates a machine-to-machine application (client credentials) and, with
--audience, grants it --scopes on that API. The secret is printed once.`,
		example: `signet clients create --tenant acme --name ops --audience http://acme.localhost:8080/api/v2/ --scopes "read:signing_keys"`,
		flags:   operatorFlags},
	{name: "clients list", summary: "list applications",
		about:   "Lists the tenant's applications.",
		example: "signet clients list --tenant acme",
		flags:   operatorFlags},
	{name: "clients saml", args: "CLIENT_ID", minArgs: 1, maxArgs: 1,
		summary: "make an application a SAML 2.0 SP (and WS-Fed RP)",
		about: `Replaces the application's SAML (and WS-Fed) settings with the flags' and prints
its sign-on and metadata URLs.`,
		example: "signet clients saml CLIENT_ID --recipient https://sp.example/acs --wsfed",
		flags:   operatorFlags | flagsPublic},

	{name: "apis create", summary: "create an API (resource server)",
		about:   "Creates an API (resource server) whose tokens have the audience --identifier.",
		example: `signet apis create --identifier https://api.example --scopes "read:data write:data"`,
		flags:   operatorFlags},
	{name: "apis list", summary: "list APIs, the built-in Management API included",
		about:   "Lists the tenant's APIs, the built-in Management API included.",
		example: "signet apis list --tenant acme",
		flags:   operatorFlags},

	{name: "keys list", summary: "list the tenant's signing keys",
		about:   "Lists the tenant's signing keys: current, next, previous and revoked.",
		example: "signet keys list --tenant acme",
		flags:   operatorFlags},
	{name: "keys rotate", summary: "rotate the tenant's signing key",
		about: `Rotates the tenant's signing key: the next key becomes current, the current one
previous, and a new next key is published. With --revoke-current the key that was
current is revoked in the same step (its tokens stop verifying).`,
		example: "signet keys rotate --tenant acme --revoke-current",
		flags:   operatorFlags, master: true},
	{name: "keys revoke", args: "KID", minArgs: 1, maxArgs: 1,
		summary: "revoke a previous signing key",
		about: `Revokes a previous signing key: tokens it signed stop verifying. The current key
is revoked with "signet keys rotate --revoke-current" instead.`,
		example: "signet keys revoke KID --tenant acme",
		flags:   operatorFlags, master: true},

	{name: "admins create", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "create a dashboard administrator granted --tenant",
		about: `Creates a dashboard administrator granted --tenant. Prints a generated password
once, or reads one line from standard input with --password-stdin.`,
		example: "signet admins create ops@example.com --tenant default",
		flags:   flagsStore | flagsTenant},
	{name: "admins list", summary: "list administrators and their tenants",
		about:   "Lists the dashboard administrators and the tenants granted to them.",
		example: "signet admins list",
		flags:   flagsStore},
	{name: "admins grant", args: "EMAIL TENANT...", minArgs: 2, maxArgs: -1,
		summary: "let an administrator manage more tenants",
		about:   "Grants an administrator more tenants.",
		example: "signet admins grant ops@example.com acme",
		flags:   flagsStore},
	{name: "admins ungrant", args: "EMAIL TENANT...", minArgs: 2, maxArgs: -1,
		summary: "take tenants away from an administrator",
		about:   "Takes tenants away from an administrator.",
		example: "signet admins ungrant ops@example.com acme",
		flags:   flagsStore},
	{name: "admins password", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "set a new password and sign out every session",
		about: `Sets a new password (generated and printed once, unless read from standard input)
and signs out every session of the administrator.`,
		example: "signet admins password ops@example.com --password-stdin < pw.txt",
		flags:   flagsStore},
	{name: "admins delete", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "delete an administrator and sign out its sessions",
		about:   "Deletes an administrator and signs out its sessions.",
		example: "signet admins delete ops@example.com",
		flags:   flagsStore},

	{name: "users create", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "create a user; prints a generated password once",
		about: `Creates a user who signs in to the tenant's applications. Prints a generated
password once, or reads one line from standard input with --password-stdin.`,
		example: `signet users create alice@example.com --name "Alice" --email-verified`,
		flags:   operatorFlags},
	{name: "users list", summary: "list the tenant's users",
		about:   "Lists the tenant's users.",
		example: "signet users list --tenant acme",
		flags:   operatorFlags},
	{name: "users password", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "set a new password; ends the user's sessions",
		about: `Sets a new password (generated and printed once, unless read from standard input),
ends the user's sessions and revokes their refresh tokens.`,
		example: "signet users password alice@example.com --password-stdin < pw.txt",
		flags:   operatorFlags},
	{name: "users block", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "refuse the user's sign-ins and tokens; ends their sessions",
		about:   "Refuses the user's sign-ins and tokens and ends their sessions.",
		example: "signet users block alice@example.com",
		flags:   operatorFlags},
	{name: "users unblock", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "allow the user again",
		about:   "Allows a blocked user to sign in again.",
		example: "signet users unblock alice@example.com",
		flags:   operatorFlags},
	{name: "users delete", args: "EMAIL", minArgs: 1, maxArgs: 1,
		summary: "delete the user, their sessions and refresh tokens",
		about:   "Deletes the user, their sessions and refresh tokens.",
		example: "signet users delete alice@example.com",
		flags:   operatorFlags},

	{name: "loadtest", maxArgs: 0, summary: "load replicas while rotating; verify every token",
		about:   loadtestAbout,
		example: "signet loadtest --url http://127.0.0.1:8080 --credentials signet-data/admin-credentials.json --rotate-every 2s"},
}

// groupAbout describes each group of commands in its help.
var groupAbout = map[string]string{
	"tenants": "Tenants are isolated issuers: each has its own hosts, signing keys, applications and users.",
	"clients": "Applications (clients) of a tenant.",
	"apis":    "APIs (resource servers) of a tenant: the audiences of its access tokens.",
	"keys":    "A tenant's signing keys.",
	"admins":  "Dashboard administrators sign in at /dashboard/ and manage the tenants granted to them.",
	"users":   "Users of a tenant sign in to its applications on the login page (OpenID Connect, SAML, WS-Fed).",
}

// lookup returns the command named name.
func lookup(name string) (command, bool) {
	i := slices.IndexFunc(commandTable, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return commandTable[i], true
}

// groupOf returns the commands of group ("keys"), in table order.
func groupOf(group string) []command {
	var cs []command
	for _, c := range commandTable {
		if strings.HasPrefix(c.name, group+" ") {
			cs = append(cs, c)
		}
	}
	return cs
}

// synopsis is the command line of c's usage.
func (c command) synopsis() string {
	s := "signet " + c.name
	if c.args != "" {
		s += " " + c.args
	}
	return s + " [flags]"
}

// writeUsage writes the top-level usage.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: signet <command> [flags]\n\nCommands:\n")
	for _, c := range commandTable {
		line := "  " + c.name
		if c.args != "" {
			line += " " + c.args
		}
		fmt.Fprintf(w, "%-32s %s\n", line, c.summary)
	}
	fmt.Fprint(w, "\nRun \"signet <command> --help\" for a command's flags, environment and an example;\n"+
		"\"signet keys --help\" lists a group's commands.\n")
}

// writeGroupHelp writes the help of a group of commands.
func writeGroupHelp(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: signet %s <command> [flags]\n\n%s\n\nCommands:\n", group, groupAbout[group])
	for _, c := range groupOf(group) {
		line := "  " + c.name
		if c.args != "" {
			line += " " + c.args
		}
		fmt.Fprintf(w, "%-32s %s\n", line, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"signet %s <command> --help\" for a command's flags and an example.\n", group)
}

// writeHelp writes c's help with the flags of fs.
func (c command) writeHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis(), c.about)
	if fs != nil {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fmt.Fprint(w, "\nEnvironment:\n")
	if c.master {
		fmt.Fprint(w, "  SIGNET_MASTER_KEY\n    \tthe master key (32 bytes, base64) that seals the private signing keys,\n"+
			"    \tinstead of <data-dir>/master.key\n")
	}
	if c.name == "loadtest" {
		fmt.Fprint(w, "  SIGNET_CLIENT_SECRET\n    \tthe client secret, instead of --client-secret\n")
	} else {
		fmt.Fprint(w, "  SIGNET_<FLAG>\n    \tthe flags above marked (env …); the command line wins\n")
	}
	if c.flags&flagsStore != 0 && !c.creates {
		fmt.Fprint(w, "\nThe database must exist: run \"signet serve\" (or \"signet tenants create\") first.\n")
	}
	fmt.Fprintf(w, "\nExample:\n  %s\n", strings.ReplaceAll(c.example, "\n", "\n  "))
}

// errHelp means help was asked for and printed: exit status 0.
var errHelp = errors.New("help")

// usageError is a command line that cannot run: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError for command name that points at its help.
func usagef(name, format string, args ...any) error {
	return &usageError{fmt.Sprintf("%s: %s (see \"signet %s --help\")", name, fmt.Sprintf(format, args...), name)}
}

// parseFlags parses args with fs for command c: flags may follow positional
// arguments. It returns the positional arguments, errHelp after printing
// c's help on -h or --help, and a *usageError for an unknown flag, a bad
// value or the wrong number of arguments.
func (c command) parseFlags(fs *flag.FlagSet, args []string, env Env) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var positional []string
	if strings.Contains(c.args, "KID") {
		// A kid is base64url and starts with "-" one time in 64: the flag
		// package would take it for an unknown flag.
		var rest []string
		for _, a := range args {
			if isKID(a) && strings.HasPrefix(a, "-") {
				positional = append(positional, a)
			} else {
				rest = append(rest, a)
			}
		}
		args = rest
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.writeHelp(env.Stdout, fs)
				return nil, errHelp
			}
			msg, _ := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
			if msg != err.Error() {
				msg = "unknown flag " + msg
			}
			return nil, usagef(c.name, "%s", msg)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case c.maxArgs >= 0 && len(positional) > c.maxArgs:
		return nil, usagef(c.name, "unexpected argument %q", positional[c.maxArgs])
	case len(positional) < c.minArgs:
		missing := strings.Fields(c.args)
		return nil, usagef(c.name, "missing %s", strings.Join(missing[min(len(positional), len(missing)-1):], " "))
	}
	return positional, nil
}

// groupCommand resolves `signet GROUP SUB …` to the command and its
// arguments. It returns errHelp after printing the group's help, and a
// *usageError for a missing or unknown subcommand.
func groupCommand(group string, args []string, env Env) (command, []string, error) {
	if len(args) == 0 {
		return command{}, nil, &usageError{fmt.Sprintf("%s: missing command: one of %s (see \"signet %s --help\")", group, subNames(group), group)}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		writeGroupHelp(env.Stdout, group)
		return command{}, nil, errHelp
	}
	c, ok := lookup(group + " " + args[0])
	if !ok {
		return command{}, nil, &usageError{fmt.Sprintf("%s: unknown command %q: want one of %s (see \"signet %s --help\")", group, args[0], subNames(group), group)}
	}
	return c, args[1:], nil
}

// subNames lists the subcommands of group: "list, rotate or revoke".
func subNames(group string) string {
	var names []string
	for _, c := range groupOf(group) {
		names = append(names, strings.TrimPrefix(c.name, group+" "))
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// isKID reports whether s has the shape of a kid: an RFC 7638 thumbprint,
// 43 characters of base64url (SHA-256, unpadded).
func isKID(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, r := range s {
		if !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
