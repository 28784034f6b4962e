package conformance

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy is an in-process TCP proxy on one link (node i's connections to
// node j), so a test can cut or slow that link.
type proxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string // empty until the destination is known
	mode   linkMode
	delay  time.Duration
	conns  map[net.Conn]struct{}
	ready  chan struct{} // closed once target is set
	closed bool
}

type linkMode int

const (
	linkUp linkMode = iota
	// linkDown refuses: connections are closed at once, as to a dead
	// process.
	linkDown
	// linkBlackhole drops: connections stay open and nothing gets
	// through, as in a network partition.
	linkBlackhole
)

func newProxy(t testing.TB) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, conns: map[net.Conn]struct{}{}, ready: make(chan struct{})}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.target == "" {
		close(p.ready)
	}
	p.target = addr
}

// set changes the link's mode; going down or into a blackhole cuts the
// connections under way.
func (p *proxy) set(m linkMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m != linkUp {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *proxy) setDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *proxy) serve(in net.Conn) {
	defer in.Close()
	select {
	case <-p.ready:
	case <-time.After(30 * time.Second):
		return
	}
	p.mu.Lock()
	mode, target := p.mode, p.target
	p.mu.Unlock()
	switch mode {
	case linkDown:
		return
	case linkBlackhole:
		// Swallow whatever arrives until the connection is cut.
		if p.track(in) {
			io.Copy(io.Discard, in)
			p.untrack(in)
		}
		return
	}
	out, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	defer out.Close()
	if !p.track(in) || !p.track(out) {
		return
	}
	defer p.untrack(in)
	defer p.untrack(out)
	done := make(chan struct{}, 2)
	go func() { p.pipe(out, in); done <- struct{}{} }()
	go func() { p.pipe(in, out); done <- struct{}{} }()
	<-done
}

// pipe copies src to dst, delaying each chunk by the link's delay, until
// either side fails or the link changes mode.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			mode, delay := p.mode, p.delay
			p.mu.Unlock()
			if mode != linkUp {
				return
			}
			if delay > 0 {
				time.Sleep(delay)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
