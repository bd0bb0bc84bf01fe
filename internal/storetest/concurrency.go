package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// writers is how many goroutines rotate one tenant at once.
const writers = 50

// testConcurrency rotates one tenant from many goroutines at once. The store
// must serialise them: every call succeeds, without retrying, and no rotation
// is lost.
func testConcurrency(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	_, first := createTenant(t, s, "busy")

	// Keys are made before the calls, as the keyring makes them outside the
	// transaction.
	fresh := make([]signet.Key, writers)
	for i := range fresh {
		fresh[i] = newKey(fmt.Sprintf("fresh-%02d", i), base)
	}
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			_, errs[i] = s.UpdateKeyset(t.Context(), "busy", func(ks *signet.Keyset) error {
				_, err := ks.Rotate(time.Now(), fresh[i])
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: UpdateKeyset: %v", i, err)
		}
	}

	ks := keyset(t, s, "busy")
	if err := ks.Validate(); err != nil {
		t.Fatalf("keyset after %d concurrent rotations: %v", writers, err)
	}
	count := map[signet.KeyState]int{}
	for _, k := range ks.Keys {
		count[k.State]++
	}
	want := map[signet.KeyState]int{signet.StatePrevious: writers, signet.StateCurrent: 1, signet.StateNext: 1}
	for state, n := range want {
		if count[state] != n {
			t.Errorf("after %d concurrent rotations: %d %s keys, want %d", writers, count[state], state, n)
		}
	}
	if len(ks.Keys) != writers+2 {
		t.Errorf("after %d concurrent rotations: %d keys, want %d", writers, len(ks.Keys), writers+2)
	}
	for _, k := range append(first.Keys, fresh...) {
		if _, err := ks.Key(k.KID); err != nil {
			t.Errorf("key %s lost", k.KID)
		}
	}
	evs := events(t, s, "busy", signet.EventFilter{Type: signet.EventKeyRotated, Limit: 10 * writers})
	if len(evs) != writers {
		t.Errorf("got %d %s events, want %d", len(evs), signet.EventKeyRotated, writers)
	}
}
