package integration

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
)

// proxy is a TCP forwarder with a fixed address whose backend can change:
// vigil's configured Prometheus URL stays the same while the real
// Prometheus behind it is stopped and a new one started. stop and resume
// make its address refuse connections for a while, as a server that is
// down does.
type proxy struct {
	addr    string
	mu      sync.Mutex
	ln      net.Listener
	backend string
	conns   map[net.Conn]bool // accepted, open
}

func newProxy(t *testing.T) *proxy {
	p := &proxy{addr: "127.0.0.1:0"}
	p.resume(t)
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.stop)
	return p
}

// stop closes the listener and the open connections: connections to the
// address are refused.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns { // kept-alive connections end too
		c.Close()
	}
}

// resume listens on the address again, if stopped.
func (p *proxy) resume(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
}

func (p *proxy) set(rawURL string) {
	u, _ := url.Parse(rawURL)
	p.mu.Lock()
	p.backend = u.Host
	p.mu.Unlock()
}

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	p.mu.Lock()
	backend := p.backend
	if p.conns == nil {
		p.conns = map[net.Conn]bool{}
	}
	p.conns[c] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	b, err := net.DialTimeout("tcp", backend, 2*time.Second)
	if err != nil {
		return
	}
	defer b.Close()
	go func() { _, _ = io.Copy(b, c) }()
	_, _ = io.Copy(c, b)
}

func (p *proxy) url() string { return "http://" + p.addr }

// TestPrometheusDownAndBackUp: real Prometheus and Alertmanager; the seed's
// alerts fire and join to services; Prometheus stops ("alerts
// unavailable", everything else keeps updating); a new one comes up behind
// the same URL and alerts are back without restarting the session.
func TestPrometheusDownAndBackUp(t *testing.T) {
	prom, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { prom.Stop() }()
	pp, ap := newProxy(t), newProxy(t)
	pp.set(prom.URL)
	ap.set(prom.AlertmanagerURL)

	s := start(t, "local-1", func(o *cluster.Options) {
		o.Settings.Prometheus, o.Settings.Alertmanager = pp.url(), ap.url()
	})
	snap := waitSnap(t, s, 150*time.Second, "HighErrorRate firing on user-service", func(s estate.Snapshot) bool {
		us, _ := service(s, "fintech-prod", "user-service")
		for _, a := range us.Alerts {
			if a.Name == "HighErrorRate" && a.State == "firing" {
				return true
			}
		}
		return false
	})
	if !snap.Alerts.Prometheus.Available || !snap.Alerts.Alertmanager.Available || snap.Alerts.Firing == 0 || len(snap.Alerts.Rules) == 0 {
		t.Errorf("alerts = %+v", snap.Alerts.Prometheus)
	}

	prom.Stop()
	down := waitSnap(t, s, 60*time.Second, "alerts unavailable", func(s estate.Snapshot) bool {
		return !s.Alerts.Prometheus.Available && hasProblem(s, "alerts unavailable: Prometheus")
	})
	if !down.Synced || len(down.Services) == 0 || !down.Conn.Connected {
		t.Errorf("with Prometheus down the rest stopped: synced=%v services=%d conn=%+v", down.Synced, len(down.Services), down.Conn)
	}
	t.Logf("while down: %q", down.Alerts.Prometheus.Err)

	prom, err = lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	pp.set(prom.URL)
	ap.set(prom.AlertmanagerURL)
	waitSnap(t, s, 60*time.Second, "Prometheus back", func(s estate.Snapshot) bool {
		return s.Alerts.Prometheus.Available && s.Alerts.Prometheus.Err == "" && !hasProblem(s, "alerts unavailable: Prometheus")
	})
}

// TestAPIServerRestart stops the apiserver process: the session says
// disconnected and the data age grows; after the restart it recovers by
// itself (same Session, same informers).
func TestAPIServerRestart(t *testing.T) {
	s := start(t, "local-2", nil)
	before := waitSnap(t, s, 90*time.Second, "synced", func(s estate.Snapshot) bool { return s.Synced && s.Conn.Connected })
	if err := lc.Kill(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = lc.Restart()
		}
	}()
	down := waitSnap(t, s, 60*time.Second, "disconnected", func(s estate.Snapshot) bool { return !s.Conn.Connected })
	aged := waitSnap(t, s, 30*time.Second, "data age growing", func(s estate.Snapshot) bool {
		return !s.Conn.Connected && s.Taken.Sub(s.Conn.LastContact) > 3*time.Second
	})
	t.Logf("down: %q; data age %s at %s", down.Conn.Reason, aged.Taken.Sub(aged.Conn.LastContact).Round(time.Second), aged.Taken.Format(time.TimeOnly))
	if len(aged.Services) != len(before.Services) {
		t.Errorf("services while down = %d, want the last known %d", len(aged.Services), len(before.Services))
	}
	if err := lc.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	back := waitSnap(t, s, 120*time.Second, "reconnected", func(s estate.Snapshot) bool {
		return s.Conn.Connected && s.Conn.LastContact.After(aged.Taken) && s.Synced
	})
	if len(back.Services) == 0 {
		t.Error("no services after the restart")
	}
}
