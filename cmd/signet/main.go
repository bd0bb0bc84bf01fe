// Command signet is Signet's one binary: `signet serve` runs the server;
// `signet tenants|clients|keys …` are operator commands on the same store.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// Env is the program's environment, injectable for tests.
type Env struct {
	Stdout, Stderr io.Writer
	// Stdin is read by `signet admins … --password-stdin`; nil means none.
	Stdin  io.Reader
	Getenv func(string) string
	// Ready, if set, is called with the listening address once serve accepts connections.
	Ready func(addr string)
	// afterBootstrapStep, if set, is called after each step of the first
	// start's setup; an error stops serve there, as a kill would (tests).
	afterBootstrapStep func(step string) error
}

const usage = `Usage: signet <command> [flags]

Commands:
  serve                         run the server
  tenants create NAME [--host H]...   create a tenant (default host NAME.<public host>)
  tenants update NAME [--add-host H] [--remove-host H] [--rotation-period D]
                 [--revoke-previous-after D] [--min-next-age D]
                                change a tenant's hosts or automatic rotation policy
  tenants list                  list tenants and their policies
  clients create --name N [--audience A --scopes "s1 s2"]
                                create a machine-to-machine application granted scopes on
                                API A; prints its secret once
  clients list                  list applications
  clients saml CLIENT_ID [--audience A] [--recipient URL] [--sign-response] [--wsfed] ...
                                make an application a SAML 2.0 SP (and WS-Fed RP); prints
                                its sign-on and metadata URLs
  apis create --identifier A [--name N] [--scopes "s1 s2"]
                                create an API (resource server) whose tokens have audience A
  apis list                     list APIs, the built-in Management API included
  keys list                     list the tenant's signing keys
  keys rotate [--revoke-current]
                                rotate the tenant's signing key
  keys revoke KID               revoke a previous signing key
  admins create|list|grant|ungrant|password|delete
                                dashboard administrators ("signet admins" for more)
  users create|list|password|block|unblock|delete
                                users who sign in to applications ("signet users" for more)
  loadtest --url URL...         load replicas while rotating; verify every token (-h for flags)

Operator commands take --tenant (default "default"), --data-dir, --database and
--public-url; run "signet <command> -h" for all flags.
`

// Main runs the program with args (without the program name) and returns its
// exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = serve(ctx, rest, env)
	case "loadtest":
		err = runLoadtest(ctx, rest, env)
	case "tenants", "clients", "apis", "keys":
		err = operate(ctx, cmd, rest, env)
	case "admins":
		err = admins(ctx, rest, env)
	case "users":
		err = users(ctx, rest, env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "signet: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(env.Stderr, "signet: %v\n", err)
		return 1
	}
	return 0
}
