package secret_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/secret"
)

func TestID(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := secret.ClientID()
		if !re.MatchString(id) {
			t.Fatalf("ID(32) = %q, want 32 characters of [A-Za-z0-9]", id)
		}
		if seen[id] {
			t.Fatalf("ID(32) repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewAndEqual(t *testing.T) {
	s, d := secret.New()
	if len(s) != 43 {
		t.Errorf("secret length = %d, want 43 (256 bits, base64url)", len(s))
	}
	tests := []struct {
		name   string
		digest []byte
		secret string
		want   bool
	}{
		{"match", d, s, true},
		{"other secret", d, s[:42] + "x", false},
		{"empty secret", d, "", false},
		{"empty digest", nil, s, false},
		{"short digest", d[:16], s, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := secret.Equal(tt.digest, tt.secret); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIdentifiers checks the shapes of the identifiers Signet hands out:
// Auth0's 32-character client ids and cgr_ grant ids.
func TestIdentifiers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     string
		prefix string
		n      int
	}{
		{"client", secret.ClientID(), "", 32},
		{"resource server", secret.ResourceServerID(), "", 24},
		{"grant", secret.GrantID(), "cgr_", 16},
	} {
		rest, ok := strings.CutPrefix(tc.id, tc.prefix)
		if !ok || len(rest) != tc.n || strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Errorf("%s id %q: want %q and %d characters of [A-Za-z0-9]", tc.name, tc.id, tc.prefix, tc.n)
		}
	}
}
