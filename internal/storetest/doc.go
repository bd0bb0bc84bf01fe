// Package storetest is the conformance suite for signet.Store: every backend
// runs it from its own tests, as file systems run testing/fstest.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) signet.Store {
//			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { db.Close() })
//			return db
//		})
//	}
//
// Beyond the documented errors of each method the suite pins down what the
// Store interface leaves to the backend but callers rely on: times come back
// in UTC with at least microsecond precision, creations for an unknown tenant
// fail with ErrTenantNotFound, the same client id, resource-server identifier
// or idempotency key may be used in two tenants, Watch blocks until its
// context is done, and concurrent UpdateKeyset calls on one tenant all
// succeed, one after the other, without the caller retrying.
//
// RunUsers, RunAdmins and RunMeta check the UserStore, AdminStore and
// MetaStore parts: InitMeta keeps the first value of concurrent callers, and
// Lock excludes every other holder of the name until released.
package storetest
