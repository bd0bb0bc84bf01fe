package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// RunMeta runs the conformance suite of signet.MetaStore against the stores
// open returns. Each call of open must return a fresh, empty store.
func RunMeta(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("Meta", func(t *testing.T) { testMeta(t, open) })
	t.Run("InitMetaConcurrent", func(t *testing.T) { testInitMetaConcurrent(t, open) })
	t.Run("Lock", func(t *testing.T) { testLock(t, open) })
}

func testMeta(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	ctx := t.Context()
	if v, err := s.Meta(ctx, "check"); !errors.Is(err, signet.ErrNotFound) {
		t.Fatalf("Meta(unset) = %q, %v; want ErrNotFound", v, err)
	}
	for i, tt := range []struct{ value, want string }{
		{"first", "first"},
		{"second", "first"}, // a stored value never changes
		{"", "first"},
	} {
		got, err := s.InitMeta(ctx, "check", tt.value)
		if err != nil || got != tt.want {
			t.Errorf("InitMeta #%d (%q) = %q, %v; want %q", i, tt.value, got, err, tt.want)
		}
	}
	if v, err := s.Meta(ctx, "check"); err != nil || v != "first" {
		t.Errorf("Meta = %q, %v; want first", v, err)
	}
	long := fmt.Sprintf("%0300d", 7)
	if got, err := s.InitMeta(ctx, "other", long); err != nil || got != long {
		t.Errorf("InitMeta(other, 300 chars) = %d chars, %v", len(got), err)
	}
	if v, err := s.Meta(ctx, "check"); err != nil || v != "first" {
		t.Errorf("Meta(check) after another name = %q, %v", v, err)
	}
}

// testInitMetaConcurrent: of many concurrent InitMeta calls for one name,
// one stores its value and every call returns it.
func testInitMetaConcurrent(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	const n = 20
	got := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.InitMeta(t.Context(), "race", fmt.Sprintf("value-%02d", i))
		})
	}
	close(start)
	wg.Wait()
	stored, err := s.Meta(t.Context(), "race")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil || got[i] != stored {
			t.Errorf("caller %d: InitMeta = %q, %v; want the stored %q", i, got[i], errs[i], stored)
		}
	}
}

func testLock(t *testing.T, open func(t *testing.T) signet.Store) {
	s := open(t)
	ctx := t.Context()
	unlock, err := s.Lock(ctx, "bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	// While held, another Lock of the name waits until its context ends.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if u, err := s.Lock(short, "bootstrap"); err == nil {
		u()
		t.Fatal("a second Lock of a held lock succeeded")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock = %v, want context.DeadlineExceeded", err)
	}
	cancel()
	// Another name is another lock.
	other, err := s.Lock(ctx, "other")
	if err != nil {
		t.Fatalf("Lock(other) while bootstrap is held: %v", err)
	}
	other()
	unlock()
	unlock() // a second call does nothing

	// Many callers: at most one holds the lock at a time, all get it.
	const n = 8
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			u, err := s.Lock(ctx, "bootstrap")
			if err != nil {
				t.Error(err)
				return
			}
			now := inside.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			time.Sleep(time.Millisecond) // widen the window an exclusion bug would use
			inside.Add(-1)
			u()
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d callers held the lock at once, want 1", most.Load())
	}
}
