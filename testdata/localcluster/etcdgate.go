package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EtcdDelayFile is the file, in a cluster's directory (DIR/local-N), whose content is the
// milliseconds the etcd gate (--etcd-gate) holds each chunk the apiserver sends to etcd: a
// slow etcd, switched on and off by writing it while the cluster runs. Absent or empty is 0.
const EtcdDelayFile = "etcd-delay-ms"

// useEtcdGate is --etcd-gate.
var useEtcdGate bool

// etcdGate is a TCP proxy between an apiserver and its etcd that delays what the apiserver
// sends by the milliseconds in its delay file (re-read at most every 100 ms).
type etcdGate struct {
	ln        net.Listener
	target    string
	delayPath string

	mu     sync.Mutex
	read   time.Time
	delay  time.Duration
	closed bool
	conns  map[net.Conn]bool
}

// startEtcdGate listens on a free loopback port and forwards to 127.0.0.1:etcdPort.
func startEtcdGate(dir string, etcdPort int) (*etcdGate, int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, fmt.Errorf("etcd gate: %w", err)
	}
	g := &etcdGate{ln: ln, target: "127.0.0.1:" + strconv.Itoa(etcdPort), delayPath: filepath.Join(dir, EtcdDelayFile), conns: map[net.Conn]bool{}}
	go g.serve()
	return g, ln.Addr().(*net.TCPAddr).Port, nil
}

func (g *etcdGate) currentDelay() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.read) > 100*time.Millisecond {
		g.read, g.delay = time.Now(), 0
		if b, err := os.ReadFile(g.delayPath); err == nil {
			if ms, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && ms > 0 {
				g.delay = time.Duration(ms) * time.Millisecond
			}
		}
	}
	return g.delay
}

func (g *etcdGate) track(c net.Conn, on bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if on && g.closed {
		return false
	}
	if on {
		g.conns[c] = true
	} else {
		delete(g.conns, c)
	}
	return true
}

func (g *etcdGate) serve() {
	for {
		in, err := g.ln.Accept()
		if err != nil {
			return
		}
		go g.pipe(in)
	}
}

func (g *etcdGate) pipe(in net.Conn) {
	out, err := net.Dial("tcp", g.target)
	if err != nil {
		_ = in.Close()
		return
	}
	if !g.track(in, true) || !g.track(out, true) {
		_ = in.Close()
		_ = out.Close()
		return
	}
	defer func() {
		_ = in.Close()
		_ = out.Close()
		g.track(in, false)
		g.track(out, false)
	}()
	done := make(chan struct{}, 2)
	go func() { // etcd → apiserver as it comes
		_, _ = io.Copy(in, out)
		done <- struct{}{}
	}()
	go func() { // apiserver → etcd, each chunk held by the delay
		buf := make([]byte, 32<<10)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				if d := g.currentDelay(); d > 0 {
					time.Sleep(d)
				}
				if _, werr := out.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	<-done
}

// close stops accepting and ends every proxied connection.
func (g *etcdGate) close() {
	_ = g.ln.Close()
	g.mu.Lock()
	g.closed = true
	for c := range g.conns {
		_ = c.Close()
	}
	g.mu.Unlock()
}
