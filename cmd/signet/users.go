package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/secret"
)

// users runs `signet users …`.
func users(ctx context.Context, cmd command, args []string, env Env) error {
	sub := strings.TrimPrefix(cmd.name, "users ")
	var (
		c         config
		fromStdin bool
		name      string
		verified  bool
	)
	_, err := c.parse(cmd.name, args, env, func(fs *flag.FlagSet) {
		if sub == "create" || sub == "password" {
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input instead of generating one")
		}
		if sub == "create" {
			fs.StringVar(&name, "name", "", "the user's full name")
			fs.BoolVar(&verified, "email-verified", false, "mark the email address as verified")
		}
	})
	if err != nil {
		return err
	}
	// The password is read and hashed before the database is touched.
	var hash, generated string
	if sub == "create" || sub == "password" {
		pw := newPassword()
		if fromStdin {
			if pw, err = readPasswordLine(env); err != nil {
				return err
			}
		} else {
			generated = pw
		}
		if hash, err = password.Hash(pw); err != nil {
			return err
		}
	}
	store, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var us signet.UserStore = store
	out := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	defer out.Flush()

	if sub == "list" {
		fmt.Fprintln(out, "USER ID\tEMAIL\tNAME\tVERIFIED\tBLOCKED\tLOGINS\tLAST LOGIN")
		for page := 0; ; page++ {
			list, _, err := us.Users(ctx, c.Tenant, signet.UserFilter{Page: page, PerPage: 100})
			if err != nil {
				return err
			}
			for _, u := range list {
				fmt.Fprintf(out, "%s\t%s\t%s\t%t\t%t\t%d\t%s\n", u.ID, u.Email, u.Name, u.EmailVerified, u.Blocked, u.LoginsCount, stamp(u.LastLogin))
			}
			if len(list) < 100 {
				return nil
			}
		}
	}
	email, err := signet.NormalizeEmail(c.args[0])
	if err != nil {
		return err
	}
	if sub == "create" {
		now := time.Now().UTC()
		u := signet.User{Tenant: c.Tenant, ID: secret.UserID(), Email: email, EmailVerified: verified, Name: name,
			PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		if err := us.CreateUser(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(out, "user_id\t%s\nemail\t%s\n", u.ID, u.Email)
		if generated != "" {
			fmt.Fprintf(out, "password\t%s\n", generated)
			fmt.Fprintln(out, "The password is shown only now; hand it to the user safely.")
		}
		return nil
	}

	u, err := us.UserByEmail(ctx, c.Tenant, email)
	if errors.Is(err, signet.ErrNotFound) {
		return fmt.Errorf("tenant %s has no user %s", c.Tenant, email)
	}
	if err != nil {
		return err
	}
	switch sub {
	case "delete":
		if err := us.DeleteUser(ctx, c.Tenant, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted\t%s\n", u.ID)
		return nil
	case "password", "block", "unblock":
		u, err = us.UpdateUser(ctx, c.Tenant, u.ID, func(u *signet.User) error {
			switch sub {
			case "password":
				u.PasswordHash = hash
			case "block":
				u.Blocked = true
			case "unblock":
				u.Blocked = false
			}
			u.UpdatedAt = time.Now().UTC()
			return nil
		})
		if err != nil {
			return err
		}
		if sub != "unblock" {
			if err := us.EndUserSessions(ctx, c.Tenant, u.ID, time.Now()); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "user_id\t%s\nblocked\t%s\n", u.ID, strconv.FormatBool(u.Blocked))
		if generated != "" {
			fmt.Fprintf(out, "password\t%s\n", generated)
			fmt.Fprintln(out, "The password is shown only now; hand it to the user safely.")
		}
	}
	return nil
}

// readPasswordLine reads a user's password from the first line of standard
// input. Returns an error without input or for a password shorter than
// mgmt.MinPasswordLength characters.
func readPasswordLine(env Env) (string, error) {
	if env.Stdin == nil {
		return "", errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if utf8.RuneCountInString(pw) < mgmt.MinPasswordLength {
		return "", fmt.Errorf("--password-stdin: the password must have at least %d characters", mgmt.MinPasswordLength)
	}
	if len(pw) > password.MaxLength {
		return "", fmt.Errorf("--password-stdin: the password must have at most %d bytes", password.MaxLength)
	}
	return pw, nil
}
