package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestKeysRotateWarnsOfYoungKey rotates with the CLI right after the first
// start, when the next key has been published for less than the JWKS
// max-age: like the API's Warning header and the dashboard's note, `keys
// rotate` says so, on stderr (stdout is for scripts). The max-age is the
// servers' --jwks-max-age, given as the same flag or SIGNET_JWKS_MAX_AGE.
func TestKeysRotateWarnsOfYoungKey(t *testing.T) {
	in := start(t, t.TempDir())
	for _, tc := range []struct {
		name   string
		args   []string
		getenv map[string]string
		warn   bool
	}{
		{"default max-age", nil, nil, true},
		{"max-age 0", []string{"--jwks-max-age", "0s"}, nil, false},
		{"max-age from the environment", nil, map[string]string{"SIGNET_JWKS_MAX_AGE": "1h"}, true},
		{"environment 0", nil, map[string]string{"SIGNET_JWKS_MAX_AGE": "0s"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"keys", "rotate", "--data-dir", in.dataDir}, tc.args...)
			code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return tc.getenv[k] }})
			if code != 0 {
				t.Fatalf("keys rotate: exit %d: %s", code, errb.String())
			}
			if !strings.Contains(out.String(), "current") || strings.Contains(out.String(), "warning") {
				t.Errorf("stdout %q: want the keys and no warning", out.String())
			}
			warned := strings.HasPrefix(errb.String(), "signet: warning: The promoted key had been published for ") &&
				strings.Contains(errb.String(), "clients that cache the JWKS may not know it yet.")
			if warned != tc.warn {
				t.Errorf("stderr %q: warning %v, want %v", errb.String(), warned, tc.warn)
			}
		})
	}
}
