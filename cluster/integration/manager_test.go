package integration

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

func manager(t *testing.T) *cluster.Manager {
	t.Helper()
	return managerWith(t, nil)
}

// managerWith is manager with the REST configs and HTTP clients of its sessions passed
// through conns, when not nil.
func managerWith(t *testing.T, conns *connections) *cluster.Manager {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &lc.Kubeconfig
	o := cluster.ManagerOptions{Flags: flags, Config: config.Default(), UserAgent: "vigil-tests", Logger: quiet(),
		Tune: func(o *cluster.Options) { o.Heartbeat, o.MinBuildInterval = time.Second, 50*time.Millisecond }}
	if conns != nil {
		o.WrapConfig, o.WrapClient = conns.wrapConfig, conns.wrapClient
	}
	m, err := cluster.NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// connections records the transports under the sessions' clients so that the test can close
// their idle keep-alive connections: then every connection goroutine left (net/http's and
// http2's read and write loops, a reader blocked on a socket) belongs to a request still
// open, such as a watch a stopped session did not end.
type connections struct {
	mu         sync.Mutex
	transports []http.RoundTripper
	clients    []*http.Client
}

func (c *connections) wrapConfig(cfg *rest.Config) *rest.Config {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		c.mu.Lock()
		c.transports = append(c.transports, rt)
		c.mu.Unlock()
		return rt
	})
	return cfg
}

func (c *connections) wrapClient(hc *http.Client) *http.Client {
	c.mu.Lock()
	c.clients = append(c.clients, hc)
	c.mu.Unlock()
	return hc
}

// closeIdle closes the idle connections of every recorded transport and client.
func (c *connections) closeIdle(t *testing.T) {
	t.Helper()
	type closeIdler interface{ CloseIdleConnections() }
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.transports {
		for rt != nil {
			if ci, ok := rt.(closeIdler); ok {
				ci.CloseIdleConnections()
				break
			}
			w, ok := rt.(utilnet.RoundTripperWrapper)
			if !ok {
				t.Fatalf("cannot close the idle connections of a %T", rt)
			}
			rt = w.WrappedRoundTripper()
		}
	}
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
	}
}

// waitManager reads the Manager's subscription until ok accepts a snapshot.
func waitManager(t *testing.T, ch <-chan estate.Snapshot, what string, ok func(estate.Snapshot) bool) estate.Snapshot {
	t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		select {
		case snap, open := <-ch:
			if !open {
				t.Fatalf("subscription closed while waiting for %s", what)
			}
			if ok(snap) {
				return snap
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestSwitchContextWithoutLeaks switches local-1 → local-2 → local-1 through
// one subscription, checks generations, then stops: no goroutine of the
// sessions (informers, pollers, loops) may survive.
func TestSwitchContextWithoutLeaks(t *testing.T) {
	before := goleak.IgnoreCurrent()
	conns := &connections{}
	m := managerWith(t, conns)
	ch, _ := m.Subscribe()
	if _, err := m.Switch(context.Background(), "local-1"); err != nil {
		t.Fatal(err)
	}
	waitManager(t, ch, "local-1 synced", func(s estate.Snapshot) bool { return s.Context == "local-1" && s.Generation == 1 && s.Synced })
	contexts, err := m.Contexts()
	if err != nil || len(contexts) < 4 {
		t.Fatalf("Contexts() = %+v, %v", contexts, err)
	}
	for _, c := range contexts {
		if c.Current != (c.Name == "local-1") {
			t.Errorf("context %s Current=%v", c.Name, c.Current)
		}
	}
	if _, err := m.Switch(context.Background(), "no-such-context"); err == nil {
		t.Fatal("Switch to an unknown context succeeded")
	}
	if name, gen := m.Current(); name != "local-1" || gen != 1 {
		t.Fatalf("after a failed switch Current() = %s %d, want local-1 1 still running", name, gen)
	}
	if _, err := m.Switch(context.Background(), "local-2"); err != nil {
		t.Fatal(err)
	}
	snap := waitManager(t, ch, "local-2 synced", func(s estate.Snapshot) bool { return s.Context == "local-2" && s.Synced })
	if snap.Generation != 2 {
		t.Errorf("local-2 generation = %d, want 2", snap.Generation)
	}
	if _, err := m.Switch(context.Background(), "local-1"); err != nil {
		t.Fatal(err)
	}
	waitManager(t, ch, "local-1 again", func(s estate.Snapshot) bool { return s.Context == "local-1" && s.Generation == 3 && s.Synced })
	m.Stop()
	if _, open := <-ch; open {
		// drain the last buffered snapshot, then the channel must close
		if _, open := <-ch; open {
			t.Error("subscription still open after Stop")
		}
	}
	// With the idle keep-alive connections closed, nothing of the sessions may remain:
	// no ignore by function, so a watch left open (its connection's loops, its reader
	// blocked on the socket) or a loop waiting on the rate limiter fails here. goleak
	// retries for a while, which lets cancelled goroutines unwind.
	conns.closeIdle(t)
	if len(conns.transports) == 0 {
		t.Fatal("no transport was recorded: the leak check would not see the sessions' connections")
	}
	goleak.VerifyNone(t, before)
}

// TestFleetSummary summarises every context at once by short LISTs:
// both clusters reachable with their Down services, the reviewers too.
func TestFleetSummary(t *testing.T) {
	m := manager(t)
	defer m.Stop()
	start := time.Now()
	sum := m.Fleet(context.Background())
	t.Logf("fleet of %d contexts in %s", len(sum.Entries), time.Since(start))
	byName := map[string]estate.FleetEntry{}
	for _, e := range sum.Entries {
		byName[e.Context] = e
		t.Logf("%s: reachable=%v err=%q services=%d ok=%d progressing=%d degraded=%d down=%d firing=%d (%s) worst=%q took=%s",
			e.Context, e.Reachable, e.Err, e.Services, e.OK, e.Progressing, e.Degraded, e.Down, e.Firing, e.AlertsErr, e.Worst, e.Took)
	}
	for _, name := range []string{"local-1", "local-2"} {
		e := byName[name]
		if !e.Reachable || e.Services == 0 || e.Down == 0 || e.OK == 0 || e.Checked.IsZero() {
			t.Errorf("%s = %+v, want reachable with OK and Down services", name, e)
		}
		if e.Firing != -1 || e.AlertsErr == "" {
			t.Errorf("%s alerts = %d %q, want unavailable without a configured Prometheus", name, e.Firing, e.AlertsErr)
		}
	}
	if e := byName["local-1-reviewer"]; !e.Reachable {
		t.Errorf("local-1-reviewer = %+v, want reachable (view may list workloads)", e)
	}
}
