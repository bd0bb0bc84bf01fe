package pgtest

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Mode is what a Proxy does with traffic.
type Mode int

// Proxy modes.
const (
	// Pass forwards traffic both ways.
	Pass Mode = iota
	// Refuse resets every connection, open or new, as a server that is down
	// or a firewall that rejects.
	Refuse
	// Blackhole forwards nothing, as a network that drops every packet:
	// connections stay open and what is sent is held, as TCP keeps
	// retransmitting it. When the proxy passes again, held data is
	// delivered — unless its sender reset the connection meanwhile (closed
	// it with SO_LINGER 0), which in TCP discards what was never
	// acknowledged: then the connection is closed and the data dropped.
	Blackhole
)

// Proxy forwards TCP connections from a loopback port to a server, as the
// network path to it, and can refuse or black-hole that traffic.
type Proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	cond     *sync.Cond
	mode     Mode
	holdWhen func([]byte) bool // black-hole from the first chunk it matches
	links    map[*link]bool
	closed   bool
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
}

// NewProxy starts a proxy to dsn's host (a postgres:// URL) and returns it
// with dsn pointing at the proxy. It stops at the end of the test.
func NewProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := StartProxy(t, "127.0.0.1:0", u.Host)
	u.Host = p.Addr()
	return p, u.String()
}

// StartProxy listens on addr ("127.0.0.1:0" for any port) and forwards to
// target, in Pass mode, until Close or the end of the test.
func StartProxy(t testing.TB, addr, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]bool{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set switches the proxy to m. Refuse resets every open connection.
func (p *Proxy) Set(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.holdWhen = m, nil
	if m == Refuse {
		for l := range p.links {
			reset(l.client)
			reset(l.server)
		}
	}
	p.cond.Broadcast()
}

// BlackholeWhen switches the proxy to Blackhole as soon as a client sends
// a chunk that match reports true for; that chunk is the first held. It
// injects a fault at an exact point of the protocol, such as the moment
// a COMMIT is sent.
func (p *Proxy) BlackholeWhen(match func(chunk []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdWhen = match
}

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for l := range p.links {
		l.client.Close()
		l.server.Close()
	}
	p.cond.Broadcast()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.mode == Refuse || p.closed
		p.mu.Unlock()
		if refuse {
			reset(c)
			continue
		}
		// A black-holed network lets no SYN through; this connection's
		// start-up messages are held instead, which a client's connect
		// timeout sees the same way.
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			reset(c)
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		p.links[l] = true
		p.mu.Unlock()
		var wg sync.WaitGroup
		wg.Go(func() { p.pipe(c, s, true) })
		wg.Go(func() { p.pipe(s, c, false) })
		go func() {
			wg.Wait()
			p.mu.Lock()
			delete(p.links, l)
			p.mu.Unlock()
		}()
	}
}

// pipe copies from src to dst while the mode allows; fromClient says which
// way it goes.
func (p *Proxy) pipe(src, dst net.Conn, fromClient bool) {
	keep := false // leave dst open
	defer func() {
		src.Close()
		if !keep {
			dst.Close()
		}
	}()
	var (
		mu    sync.Mutex
		held  [][]byte // read, not yet delivered
		ended error    // src's read error, once it ended
		more  = make(chan struct{}, 1)
		// reads counts src's reads that returned, recorded those whose
		// result is in held and ended: a reset a read consumed is known
		// once recorded catches up with reads.
		reads, recorded atomic.Int64
	)
	go func() {
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			reads.Add(1)
			mu.Lock()
			if n > 0 {
				held = append(held, buf[:n])
			}
			if err != nil {
				ended = err
			}
			mu.Unlock()
			recorded.Add(1)
			select {
			case more <- struct{}{}:
			default:
			}
			p.mu.Lock()
			p.cond.Broadcast()
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	resetBySender := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return isReset(ended)
	}
	for range more {
		for {
			mu.Lock()
			chunks, end := held, ended
			held = nil
			mu.Unlock()
			if len(chunks) == 0 && end == nil {
				break
			}
			p.mu.Lock()
			if fromClient && p.holdWhen != nil && p.mode == Pass && slices.ContainsFunc(chunks, p.holdWhen) {
				p.mode, p.holdWhen = Blackhole, nil
			}
			// Hold the data until the proxy passes again.
			dropped, waited := false, false
			for p.mode == Blackhole && !p.closed {
				waited = true
				if dropped = resetBySender(); dropped {
					break
				}
				p.cond.Wait()
			}
			if waited && !dropped {
				// The sender's reset arrived while the data was held:
				// either it is still in src (peek sees it) or src's
				// reader consumed it, perhaps between the last check and
				// the peek (then its read has returned: wait until it is
				// recorded, and look again).
				dropped = peekReset(src)
				for recorded.Load() < reads.Load() {
					time.Sleep(time.Millisecond)
				}
				dropped = dropped || resetBySender()
			}
			mode, closed := p.mode, p.closed
			p.mu.Unlock()
			switch {
			case closed || mode == Refuse:
				return
			case dropped:
				// TCP discarded the unacknowledged data with the reset,
				// and the reset itself was lost: the other end stays
				// open until its own timeouts end it.
				keep = true
				return
			}
			for _, c := range chunks {
				if _, err := dst.Write(c); err != nil {
					return
				}
			}
			switch {
			case isReset(end):
				reset(dst)
				return
			case end != nil:
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				return
			}
		}
	}
}

// isReset reports whether err is a connection reset by the peer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}

// peekReset reports whether c has received a TCP reset, without reading.
func peekReset(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	reset := false
	rc.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		reset = errors.Is(err, syscall.ECONNRESET)
	})
	return reset
}

// reset closes c with a TCP reset.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// Hold black-holes every connection, open or new: Set(Blackhole).
func (p *Proxy) Hold() { p.Set(Blackhole) }

// Release delivers what was held and forwards again: Set(Pass).
func (p *Proxy) Release() { p.Set(Pass) }
