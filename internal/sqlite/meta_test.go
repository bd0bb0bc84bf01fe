package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/storetest"
)

func TestMetaStore(t *testing.T) {
	storetest.RunMeta(t, func(t *testing.T) signet.Store {
		return open(t, filepath.Join(t.TempDir(), "signet.db"))
	})
}
