package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/sqlite"
)

// errCrash stands for a kill: bootstrap stops where it is.
var errCrash = errors.New("simulated crash")

// crashFirstStart runs the first start on dir and stops it after the
// bootstrap step named step, as a SIGKILL there would: nothing after the
// step runs, on a free port of 127.0.0.1. It returns the address, which
// the tenant's hosts name.
func crashFirstStart(t *testing.T, dir, step string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out syncBuffer
	reached := false
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := Main(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--log-format", "json"},
		Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" },
			Ready: func(string) {
				t.Error("serve became ready although its setup crashed")
				cancel()
			},
			afterBootstrapStep: func(s string) error {
				if s == step {
					reached = true
					return errCrash
				}
				return nil
			}})
	if !reached || code == 0 {
		t.Fatalf("the first start did not stop after step %q (exit %d):\n%s", step, code, out.String())
	}
	return addr
}

// TestBootstrapResumes stops the first start after each step of its setup
// (and once inside the creation of the tenant, before its Management API)
// and restarts: the restart completes the setup, so that the tenant, its
// Management API, the admin client and its grant, the administrator and
// the credentials file all exist once, and the file's secrets work.
func TestBootstrapResumes(t *testing.T) {
	type tc struct {
		step string
		// after changes the store after the crash, to stop at a point
		// inside a step.
		after func(t *testing.T, ctx context.Context, db *sqlite.DB)
	}
	var cases []tc
	for _, s := range bootstrapStepNames {
		cases = append(cases, tc{step: s})
	}
	cases = append(cases, tc{step: "tenant", after: func(t *testing.T, ctx context.Context, db *sqlite.DB) {
		rs := managementAPI(t, ctx, db, "default")
		if err := db.DeleteResourceServer(ctx, "default", rs.ID); err != nil {
			t.Fatal(err)
		}
	}})
	for _, c := range cases {
		name := c.step
		if c.after != nil {
			name += " before the management api"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			addr := crashFirstStart(t, dir, c.step)
			if c.after != nil {
				withDB(t, dir, func(ctx context.Context, db *sqlite.DB) { c.after(t, ctx, db) })
			}
			var before []byte
			if c.step == "credentials" {
				var err error
				if before, err = os.ReadFile(filepath.Join(dir, credentialsFile)); err != nil {
					t.Fatalf("the file is written before the step ends: %v", err)
				}
			}

			in := start(t, dir, "--addr", addr)
			creds := in.credentials()
			if before != nil {
				if after, _ := os.ReadFile(filepath.Join(dir, credentialsFile)); !bytes.Equal(after, before) {
					t.Error("the restart rewrote a credentials file written before the crash")
				}
			}
			// The file's client gets a Management API token that works.
			tok := in.token(creds)
			status, body, _ := in.call("GET", "/api/v2/clients", tok, nil)
			if status != 200 {
				t.Fatalf("GET /api/v2/clients = %d %s", status, body)
			}
			var clients []struct {
				Name string `json:"name"`
			}
			json.Unmarshal(body, &clients)
			admins := 0
			for _, cl := range clients {
				if cl.Name == bootstrapClientName {
					admins++
				}
			}
			if admins != 1 {
				t.Errorf("%d clients named %q, want 1: %s", admins, bootstrapClientName, body)
			}
			in.stop()

			withDB(t, dir, func(ctx context.Context, db *sqlite.DB) {
				ts, err := db.Tenants(ctx)
				if err != nil || len(ts) != 1 || ts[0].Name != "default" {
					t.Errorf("tenants = %v, %v; want default", ts, err)
				}
				rss, _ := db.ResourceServers(ctx, "default")
				system := 0
				for _, rs := range rss {
					if rs.System {
						system++
						if rs.Identifier != creds.Audience {
							t.Errorf("management api %s, credentials audience %s", rs.Identifier, creds.Audience)
						}
					}
				}
				if system != 1 {
					t.Errorf("%d management apis, want 1", system)
				}
				gs, _ := db.ClientGrants(ctx, "default", signet.GrantFilter{ClientID: creds.ClientID})
				if len(gs) != 1 {
					t.Errorf("the admin client has %d grants, want 1", len(gs))
				}
				list, _ := db.Admins(ctx)
				if len(list) != 1 || list[0].Email != creds.Dashboard.Email {
					t.Fatalf("admins = %v, want one, %s", list, creds.Dashboard.Email)
				}
				if ok, err := password.Verify(list[0].PasswordHash, creds.Dashboard.Password); !ok || err != nil {
					t.Errorf("the credentials file's dashboard password does not verify: %v", err)
				}
				if _, err := db.Meta(ctx, metaBootstrapDone); err != nil {
					t.Errorf("bootstrap not marked done: %v", err)
				}
			})
			if strings.Contains(in.logs.String(), creds.ClientSecret) || strings.Contains(in.logs.String(), creds.Dashboard.Password) {
				t.Error("a secret appears in the logs")
			}
			// A third start changes nothing.
			in = start(t, dir, "--addr", addr)
			if in.credentials() != creds {
				t.Error("a start after the completed setup rewrote the credentials")
			}
		})
	}
}

// TestBootstrapLegacyDataDir starts on a data dir set up by a version
// without bootstrap marks (its meta table emptied) from which the operator
// removed admin-credentials.json: nothing is re-created and no secret
// changes.
func TestBootstrapLegacyDataDir(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	creds := in.credentials()
	in.stop()
	deleteMeta(t, dir)
	if err := os.Remove(filepath.Join(dir, credentialsFile)); err != nil {
		t.Fatal(err)
	}
	in = start(t, dir, "--addr", in.addr)
	in.token(creds) // the old secret still works
	if _, err := os.Stat(filepath.Join(dir, credentialsFile)); !os.IsNotExist(err) {
		t.Errorf("a new credentials file was written (stat: %v)", err)
	}
}
