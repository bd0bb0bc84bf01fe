// Command signet is Signet's one binary: `signet serve` runs the server;
// `signet tenants|clients|keys …` are operator commands on the same store.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/signet-auth/signet"
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

// Main runs the program with args (without the program name) and returns its
// exit code: 0, 1 if the command failed, 2 for a command line that cannot
// run. A failure is one line on stderr.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		writeUsage(env.Stderr)
		return 2
	}
	err := run(ctx, args, env)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "signet: %s\n", ue.msg)
		return 2
	}
	fmt.Fprintf(env.Stderr, "signet: %s\n", errorLine(err))
	return 1
}

// run runs the command args name.
func run(ctx context.Context, args []string, env Env) error {
	switch name, rest := args[0], args[1:]; name {
	case "serve":
		return serve(ctx, rest, env)
	case "loadtest":
		return runLoadtest(ctx, rest, env)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 { // signet help keys [rotate]
			return run(ctx, append(rest, "--help"), env)
		}
		writeUsage(env.Stdout)
		return errHelp
	case "tenants", "clients", "apis", "keys", "admins", "users":
		cmd, rest, err := groupCommand(name, rest, env)
		if err != nil {
			return err
		}
		switch name {
		case "admins":
			return admins(ctx, cmd, rest, env)
		case "users":
			return users(ctx, cmd, rest, env)
		}
		return operate(ctx, cmd, rest, env)
	default:
		return &usageError{fmt.Sprintf("unknown command %q (see \"signet --help\")", name)}
	}
}

// errorLine is err as the one line the user reads: the message of a
// *signet.Error, said once, else err's text.
func errorLine(err error) string {
	var e *signet.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return err.Error()
}
