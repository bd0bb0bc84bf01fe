// Package ringtest builds a real keyring.Ring on a fresh SQLite store for
// tests: a database in the test's temporary directory, a sealer with a random
// master key, a key pool and the Ring itself, all closed when the test ends.
// There are no mocks; every part is the one Signet runs in production.
//
//	func TestRotate(t *testing.T) {
//		env := ringtest.New(t, ringtest.Options{PoolSize: 2})
//		if _, err := env.Ring.CreateTenant(t.Context(), "acme", []string{"acme.test"}, "", "test"); err != nil {
//			t.Fatal(err)
//		}
//		…
//	}
//
// Env.Serve creates a tenant served by the real internal/server on a
// loopback port, with the handlers a test mounts; Env.CreateUser and
// Env.AdminClient store a user with a password and a client granted the
// whole Management API. Clock, Buffer and FastPasswords are the small
// fixtures those tests share: a settable clock, a log buffer safe for
// concurrent writes and cheap Argon2id parameters.
//
// RSA keys are slow to generate, so a package with many tests can share one
// pool filled in the background across all of them, started by Main and
// handed to New through Options.Pool.
package ringtest
