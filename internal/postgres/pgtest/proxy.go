package pgtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a PostgreSQL server and can black-hole
// them: while held, it accepts connections and reads what both sides send
// but delivers nothing, as a network partition that drops packets without a
// reset does; on Release what it read is delivered and forwarding resumes.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	held  bool
	cond  *sync.Cond // signalled when held becomes false or the proxy closes
	done  bool
	conns []net.Conn
}

// NewProxy starts a proxy to the host of dsn on a loopback port and returns
// it with dsn rewritten to go through it. It is closed when tb's test ends.
func NewProxy(tb testing.TB, dsn string) (*Proxy, string) {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	tb.Cleanup(p.Close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			if p.done {
				p.mu.Unlock()
				c.Close()
				up.Close()
				return
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}()
	}
}

// pipe copies from src to dst, holding what it reads while the proxy is held.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.held && !p.done {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				src.Close()
			}
			return
		}
	}
}

// Hold black-holes every connection, open or new, until Release.
func (p *Proxy) Hold() {
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
}

// Release delivers what was held and forwards again.
func (p *Proxy) Release() {
	p.mu.Lock()
	p.held = false
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Close stops accepting and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.done = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.cond.Broadcast()
	for _, c := range conns {
		c.Close()
	}
}
