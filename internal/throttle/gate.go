package throttle

import "context"

// DefaultHashes is how many password checks a sign-in form runs at once.
const DefaultHashes = 4

// Gate bounds how many password checks run at once. Create it with NewGate;
// it is safe for concurrent use.
type Gate struct {
	slots chan struct{}
}

// NewGate returns a Gate that lets n checks run at once (DefaultHashes if
// n <= 0).
func NewGate(n int) *Gate {
	if n <= 0 {
		n = DefaultHashes
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// Enter waits for a free slot. It returns ctx.Err() if ctx ends first, and
// then holds no slot; otherwise the caller must call Leave when done.
func (g *Gate) Enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leave frees the slot Enter took.
func (g *Gate) Leave() { <-g.slots }
