package postgres_test

import (
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signet.Store {
		return open(t, freshDSN(t))
	})
}
