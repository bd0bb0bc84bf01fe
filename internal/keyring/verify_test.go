package keyring_test

import (
	"context"
	"testing"

	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/ringtest"
)

// TestNextKeyDoesNotVerify checks that the next key, which is published but
// never signs, verifies nothing, while the current and previous keys do.
func TestNextKeyDoesNotVerify(t *testing.T) {
	ctx := context.Background()
	r := ringtest.New(t, ringtest.Options{PoolSize: 2}).Ring
	if _, err := r.CreateTenant(ctx, "acme", []string{"acme.test"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	v0, _ := r.View("acme")
	if _, ok := v0.VerifyKey(v0.Keyset.Next().KID); ok {
		t.Error("the next key verifies")
	}
	if _, ok := v0.VerifyKey(v0.Current.KID); !ok {
		t.Error("the current key does not verify")
	}
	if _, err := r.Rotate(ctx, "acme", keyring.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	v1, _ := r.View("acme")
	for _, kid := range []string{v0.Current.KID, v0.Keyset.Next().KID} {
		if _, ok := v1.VerifyKey(kid); !ok {
			t.Errorf("%s (now previous or current) does not verify", kid)
		}
	}
	if _, ok := v1.VerifyKey(v1.Keyset.Next().KID); ok {
		t.Error("the new next key verifies")
	}
}
