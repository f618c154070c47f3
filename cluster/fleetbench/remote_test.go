package fleetbench

import (
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// remoteDelay is each way's delay of the API servers' traffic in the remote runs: a 40 ms
// round trip, a cluster in another region.
const remoteDelay = 20 * time.Millisecond

// delayProxies puts a TCP proxy before each cluster's API server of kubeconfig that holds
// every chunk read, each way, for delay before writing it on (bandwidth unbounded, order
// kept), and writes a kubeconfig whose servers are the proxies. TLS passes through: the
// servers' certificates name 127.0.0.1, whatever the port. The proxies stop with the
// benchmark.
func delayProxies(b testing.TB, kubeconfig string, delay time.Duration) string {
	b.Helper()
	kc, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	var (
		wg        sync.WaitGroup
		listeners []net.Listener
	)
	b.Cleanup(func() {
		for _, ln := range listeners {
			ln.Close()
		}
		wg.Wait()
	})
	for name, c := range kc.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			b.Fatalf("cluster %s: server %q: %v", name, c.Server, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		listeners = append(listeners, ln)
		target := u.Host // u.Host is the proxy's own address below
		wg.Go(func() { serveDelayed(ln, target, delay) })
		u.Host = "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		c.Server = u.String()
	}
	out := filepath.Join(b.TempDir(), "kubeconfig-remote")
	if err := clientcmd.WriteToFile(*kc, out); err != nil {
		b.Fatal(err)
	}
	return out
}

// serveDelayed accepts on ln until it is closed, each connection relayed to target with
// delay each way.
func serveDelayed(ln net.Listener, target string, delay time.Duration) {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		conns.Go(func() {
			defer c.Close()
			s, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer s.Close()
			done := make(chan struct{})
			go func() { relayDelayed(s, c, delay); close(done) }()
			relayDelayed(c, s, delay)
			<-done
		})
	}
}

// relayDelayed copies src to dst, each chunk written delay after it was read; at src's end
// it half-closes dst.
func relayDelayed(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	chunks := make(chan chunk, 4096)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			src.Close() // nobody reads on: end the reader, and let it send what it has
			for range chunks {
			}
			return
		}
	}
	if t, ok := dst.(*net.TCPConn); ok {
		_ = t.CloseWrite()
	}
}

// remoteTimes are the whole-process runs through delayProxies, medians by key: each admin
// context alone, "all" at the default --parallel, "p4" and "pN" (every context at once).
type remoteTimes struct {
	runs    map[string][]time.Duration
	slowest string // the admin context with the slowest single median
}

func (r remoteTimes) median(key string) time.Duration { return median(r.runs[key]) }

// ratio is key's median over the slowest single context's.
func (r remoteTimes) ratio(key string) float64 {
	return r.median(key).Seconds() / r.median(r.slowest).Seconds()
}

// timeRemote runs, three times in turn, `vigil check --context local-N` for each admin
// context and `--all-contexts` at the default --parallel, at 4 and at every context at once,
// over kubeconfig (delayProxies').
func timeRemote(b *testing.B, c checker, kubeconfig string, contexts, admins []string) remoteTimes {
	r := remoteTimes{runs: map[string][]time.Duration{}}
	for range 3 {
		for _, name := range admins {
			run, _ := c.run(b, "--kubeconfig", kubeconfig, "--context", name)
			r.runs[name] = append(r.runs[name], run.wall)
		}
		for _, p := range []struct{ key, parallel string }{{"all", ""}, {"p4", "4"}, {"pN", strconv.Itoa(len(contexts))}} {
			args := []string{"--kubeconfig", kubeconfig, "--all-contexts"}
			if p.parallel != "" {
				args = append(args, "--parallel", p.parallel)
			}
			run, out := c.run(b, args...)
			verifyAllContexts(b, out, contexts)
			r.runs[p.key] = append(r.runs[p.key], run.wall)
		}
	}
	for _, name := range admins {
		if r.slowest == "" || r.median(name) > r.median(r.slowest) {
			r.slowest = name
		}
	}
	return r
}
