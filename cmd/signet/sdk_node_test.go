package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeSDK runs Auth0's own Node SDK (npm auth0, ManagementClient) against
// the real server over HTTPS: list, get, rotate, revoke, and the errors it maps.
// .ci/run installs the SDK with `npm ci --prefix cmd/signet/testdata/node-sdk`;
// elsewhere the test skips when Node.js or the SDK is missing (under CI it fails).
func TestNodeSDK(t *testing.T) {
	dir := filepath.Join("testdata", "node-sdk")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "auth0"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Node.js and the auth0 SDK are needed under CI: %v", err)
		}
		t.Skipf("Node.js or the SDK is missing (npm ci --prefix %s): %v", dir, err)
	}

	tmp := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, tmp)
	in := start(t, filepath.Join(tmp, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	creds := in.credentials()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "sdk.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"DOMAIN="+strings.TrimPrefix(in.base, "http://"),
		"CLIENT_ID="+creds.ClientID,
		"CLIENT_SECRET="+creds.ClientSecret,
		"NODE_EXTRA_CA_CERTS="+certFile,
	)
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node sdk.mjs: %v\n%s\nserver log:\n%s", err, stderr, in.logs.String())
	}
	type key struct {
		KID       string     `json:"kid"`
		Current   bool       `json:"current"`
		Next      bool       `json:"next"`
		Previous  bool       `json:"previous"`
		Revoked   bool       `json:"revoked"`
		RevokedAt *time.Time `json:"revoked_at"`
	}
	var got struct {
		Before, After, Final                                 []key
		Get, GetFingerprint, Rotated, OldNext                string
		Revoked, OldCurrent                                  string
		StaleTokenStatus, UnknownStatus, RevokeCurrentStatus int
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("sdk output: %v\n%s", err, b)
	}
	if len(got.Before) != 2 || !got.Before[0].Current || !got.Before[1].Next {
		t.Errorf("list before rotation = %+v, want current then next", got.Before)
	}
	if got.Get != got.OldCurrent || len(got.GetFingerprint) != 59 {
		t.Errorf("get = %q (fingerprint %q), want %q", got.Get, got.GetFingerprint, got.OldCurrent)
	}
	if got.Rotated != got.OldNext {
		t.Errorf("rotate answered %q, want the former next key %q", got.Rotated, got.OldNext)
	}
	if len(got.After) != 3 || got.After[0].KID != got.OldNext || !got.After[2].Previous {
		t.Errorf("list after rotation = %+v", got.After)
	}
	if got.Revoked != got.OldCurrent {
		t.Errorf("revoke answered %q, want %q", got.Revoked, got.OldCurrent)
	}
	if got.StaleTokenStatus != 401 {
		t.Errorf("the SDK's token signed by the revoked key got %d, want 401", got.StaleTokenStatus)
	}
	if n := len(got.Final); n != 3 || !got.Final[2].Revoked || got.Final[2].RevokedAt == nil {
		t.Errorf("final list = %+v, want the revoked key last with revoked_at", got.Final)
	}
	if got.UnknownStatus != 404 || got.RevokeCurrentStatus != 409 {
		t.Errorf("unknown kid = %d (want 404), revoke current = %d (want 409)", got.UnknownStatus, got.RevokeCurrentStatus)
	}
}
