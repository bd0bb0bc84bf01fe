package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestKeysListGrowthWarning rotates a tenant six times with the CLI: `keys
// list` prints the keys on stdout and, from the sixth previous key on, a
// warning about the JWKS growth on stderr (never on stdout, which scripts
// parse).
func TestKeysListGrowthWarning(t *testing.T) {
	in := start(t, t.TempDir())
	list := func() (stdout, stderr string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"keys", "list", "--data-dir", in.dataDir},
			Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != 0 {
			t.Fatalf("keys list: exit %d: %s", code, errb.String())
		}
		return out.String(), errb.String()
	}
	for i := 1; i <= 6; i++ {
		if _, err := in.run("keys", "rotate"); err != nil {
			t.Fatal(err)
		}
		stdout, stderr := list()
		if got := strings.Count(stdout, " previous "); got != i {
			t.Errorf("after %d rotations keys list shows %d previous keys:\n%s", i, got, stdout)
		}
		if strings.Contains(stdout, "warning") {
			t.Errorf("after %d rotations the warning is on stdout:\n%s", i, stdout)
		}
		if i <= 5 {
			if stderr != "" {
				t.Errorf("%d previous keys: stderr %q, want nothing", i, stderr)
			}
			continue
		}
		for _, want := range []string{"signet: warning:", "6 previous signing keys, more than 5", "1.5 KB",
			"signet tenants update default --revoke-previous-after"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("6 previous keys: stderr %q lacks %q", stderr, want)
			}
		}
	}
}
