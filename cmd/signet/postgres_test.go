package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signet-auth/signet/internal/postgres/pgtest"
)

// TestServePostgres runs serve on a fresh PostgreSQL database: bootstrap,
// a token, rotate and revoke through the Management API, the JWKS checked
// with go-jose, and a restart that keeps the keys.
func TestServePostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	dir := t.TempDir()
	in := start(t, dir, "--database", dsn)
	creds := in.credentials()
	before := in.token(creds)
	ks := in.keys(before)
	if len(ks) != 2 || state(ks[0]) != "current" || state(ks[1]) != "next" {
		t.Fatalf("fresh tenant keys = %d, want current then next", len(ks))
	}
	oldCurrent, oldNext := *ks[0].KID, *ks[1].KID

	status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", before, nil)
	if status != 201 {
		t.Fatalf("rotate = %d %s", status, body)
	}
	var rotated struct{ KID string }
	json.Unmarshal(body, &rotated)
	if rotated.KID != oldNext {
		t.Fatalf("rotate answered kid %s, want the former next key %s", rotated.KID, oldNext)
	}
	after := in.token(creds)
	if kidOf(t, after) != oldNext {
		t.Fatalf("token after rotation signed by %s, want %s", kidOf(t, after), oldNext)
	}
	set := in.jwks()
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS after rotation has %d keys, want 3", len(set.Keys))
	}
	for name, tok := range map[string]string{"before": before, "after": after} {
		if err := verify(set, tok); err != nil {
			t.Errorf("go-jose rejects the token issued %s the rotation: %v", name, err)
		}
	}

	status, body, _ = in.call("PUT", "/api/v2/keys/signing/"+oldCurrent+"/revoke", after, nil)
	if status != 200 {
		t.Fatalf("revoke = %d %s", status, body)
	}
	if status, _, _ := in.call("GET", "/api/v2/keys/signing", before, nil); status != 401 {
		t.Errorf("token of a revoked key: %d, want 401", status)
	}
	if _, err := os.Stat(filepath.Join(dir, "signet.db")); err == nil {
		t.Error("a SQLite database was created although --database names PostgreSQL")
	}
	want := in.keys(after)
	if code := in.stop(); code != 0 {
		t.Fatalf("graceful shutdown exit code = %d\n%s", code, in.logs.String())
	}

	// A second start on the same database keeps the keys and does not
	// bootstrap again.
	in2 := start(t, dir, "--database", dsn, "--addr", in.addr)
	got := in2.keys(in2.token(creds))
	if len(got) != len(want) || *got[0].KID != *want[0].KID {
		t.Errorf("after a restart: %d keys, first %s; want %d, first %s", len(got), *got[0].KID, len(want), *want[0].KID)
	}
	if strings.Contains(in2.logs.String(), "bootstrapped") {
		t.Error("the second start bootstrapped again")
	}
}

// replica is a serve process (Main) of TestReplicasBootstrapTogether.
type replica struct {
	dir, addr string
	logs      *syncBuffer
}

// TestReplicasBootstrapTogether starts three replicas at once on one empty
// database: one bootstraps, the others find its tenant and serve it; a
// rotation through one reaches another's JWKS within a second.
func TestReplicasBootstrapTogether(t *testing.T) {
	dsn := pgtest.Database(t)
	masterKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	const public = "signet.test" // every replica serves the same public URL
	env := func(k string) string {
		if k == "SIGNET_MASTER_KEY" {
			return masterKey
		}
		return ""
	}

	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg       sync.WaitGroup
		replicas = make([]*replica, 3)
		codes    = make(chan int, len(replicas))
		ready    = make(chan struct{}, len(replicas))
	)
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	for i := range replicas {
		r := &replica{dir: t.TempDir(), logs: &syncBuffer{}}
		replicas[i] = r
		var once sync.Once
		wg.Go(func() {
			codes <- Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", r.dir, "--database", dsn,
				"--public-url", "http://" + public, "--log-format", "json"},
				Env{Stdout: r.logs, Stderr: r.logs, Getenv: env, Ready: func(addr string) {
					once.Do(func() { r.addr = addr; ready <- struct{}{} })
				}})
		})
	}
	for range replicas {
		select {
		case <-ready:
		case code := <-codes:
			for i, r := range replicas {
				t.Logf("replica %d:\n%s", i, r.logs.String())
			}
			t.Fatalf("a replica exited with %d during the concurrent first start", code)
		case <-time.After(60 * time.Second):
			t.Fatal("the replicas did not all start")
		}
	}

	var creds []credentials
	for _, r := range replicas {
		b, err := os.ReadFile(filepath.Join(r.dir, credentialsFile))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		var c credentials
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		creds = append(creds, c)
	}
	if len(creds) != 1 {
		t.Fatalf("%d replicas wrote admin credentials, want exactly one", len(creds))
	}
	lost := 0
	for _, r := range replicas {
		if strings.Contains(r.logs.String(), "bootstrapped by another replica") {
			lost++
		}
	}
	t.Logf("replicas that lost the race to bootstrap and found the tenant there: %d of %d", lost, len(replicas))

	// Rotate through replica 1 with a token from replica 2; replica 0's JWKS
	// publishes the new next key within a second.
	client := hostClient(public)
	cc := clientcredentials.Config{ClientID: creds[0].ClientID, ClientSecret: creds[0].ClientSecret,
		TokenURL: "http://" + replicas[2].addr + "/oauth/token", EndpointParams: map[string][]string{"audience": {creds[0].Audience}}}
	tok, err := cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, client))
	if err != nil {
		t.Fatalf("client credentials through replica 2: %v", err)
	}
	req, _ := http.NewRequest("POST", "http://"+replicas[1].addr+"/api/v2/keys/signing/rotate", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("rotate through replica 1 = %d %s", resp.StatusCode, body)
	}
	rotatedAt := time.Now()
	var rotated struct{ KID string }
	json.Unmarshal(body, &rotated)

	for {
		resp, err := client.Get("http://" + replicas[0].addr + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Current, next and the previous key: the rotation has arrived.
		if len(set.Keys) == 3 && set.Keys[0].KeyID == rotated.KID {
			t.Logf("replica 0 published the rotation %v after replica 1 answered", time.Since(rotatedAt))
			break
		}
		if time.Since(rotatedAt) > time.Second {
			t.Fatalf("replica 0's JWKS did not change within a second of the rotation through replica 1 (%d keys)", len(set.Keys))
		}
		time.Sleep(10 * time.Millisecond)
	}

	cancel()
	for range replicas {
		if code := <-codes; code != 0 {
			t.Errorf("a replica stopped with exit code %d", code)
		}
	}
}
