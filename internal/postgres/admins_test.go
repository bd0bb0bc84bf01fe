package postgres_test

import (
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/storetest"
)

func TestAdminStore(t *testing.T) {
	storetest.RunAdmins(t, func(t *testing.T) signet.Store {
		return open(t, freshDSN(t))
	})
}
