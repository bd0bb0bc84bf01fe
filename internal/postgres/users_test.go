package postgres_test

import (
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/storetest"
)

func TestUserStore(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T) signet.Store {
		return open(t, freshDSN(t))
	})
}
