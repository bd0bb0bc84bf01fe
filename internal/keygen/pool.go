package keygen

import (
	"context"
	"crypto"
	"fmt"
)

// Pool keeps pre-generated keys ready, a few per algorithm, so that a
// rotation takes a key at once instead of generating an RSA key on its
// request path. Run fills it in the background; Get takes from it. A Pool is
// safe for concurrent use and hands out each key exactly once.
type Pool struct {
	ready  map[string]chan crypto.Signer // per algorithm; never written after NewPool
	refill chan struct{}                 // wakes Run; capacity 1
}

// NewPool returns an empty pool that keeps up to size keys ready for each
// algorithm of Algorithms. A size below 1 disables pooling: Get always
// generates inline. Nothing is generated until Run runs.
func NewPool(size int) *Pool {
	size = max(size, 0)
	p := &Pool{
		ready:  make(map[string]chan crypto.Signer),
		refill: make(chan struct{}, 1),
	}
	for _, alg := range Algorithms() {
		p.ready[alg] = make(chan crypto.Signer, size)
	}
	return p
}

// Run fills the pool and refills it whenever Get takes a key, until ctx is
// done. It blocks; run it in its own goroutine. Key generation itself cannot
// be interrupted, so Run may return up to one generation time after ctx is
// done.
func (p *Pool) Run(ctx context.Context) {
	for {
		for _, alg := range Algorithms() {
			ch := p.ready[alg]
			for len(ch) < cap(ch) {
				if ctx.Err() != nil {
					return
				}
				k, err := Generate(alg)
				if err != nil {
					break // only a failing random source; Get will report it
				}
				select {
				case ch <- k:
				default: // filled meanwhile by another Run; drop the spare
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.refill:
		}
	}
}

// Get returns a ready key for alg if there is one, and otherwise generates
// one inline; either way it signals Run to refill.
// Returns ctx's error if ctx is done before a key must be generated, and an
// error matching signet.ErrInvalid for an unsupported algorithm.
func (p *Pool) Get(ctx context.Context, alg string) (crypto.Signer, error) {
	ch, ok := p.ready[alg]
	if !ok {
		return Generate(alg) // the error for an unsupported alg
	}
	select {
	case k := <-ch:
		p.wake()
		return k, nil
	default:
	}
	p.wake()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return Generate(alg)
}

// Ready returns how many keys for alg are ready now.
func (p *Pool) Ready(alg string) int {
	return len(p.ready[alg])
}

func (p *Pool) wake() {
	select {
	case p.refill <- struct{}{}:
	default:
	}
}
