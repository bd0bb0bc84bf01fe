// Package ringtest builds a real keyring.Ring on a fresh SQLite store for
// tests: a database in the test's temporary directory, a sealer with a random
// master key, a key pool and the Ring itself, all closed when the test ends.
// There are no mocks; every part is the one Signet runs in production.
//
//	func TestRotate(t *testing.T) {
//		env := ringtest.New(t, ringtest.Options{PoolSize: 2})
//		if _, err := env.Ring.CreateTenant(t.Context(), "acme", []string{"acme.test"}, ""); err != nil {
//			t.Fatal(err)
//		}
//		…
//	}
//
// RSA keys are slow to generate, so a package with many tests can share one
// pool filled in the background across all of them, started by Main and
// handed to New through Options.Pool.
package ringtest
