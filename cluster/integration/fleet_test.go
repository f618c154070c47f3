package integration

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// TestFleetRowMatchesTheSession is differential (issue 20): after a change that leaves a
// Deployment's new pods unschedulable (the nodeSelector patch on local-2), the fleet
// row of the context (one LIST pass, cluster.FleetSnapshot) counts the services by health
// exactly as a live session of that context does, and both count that Deployment as not OK,
// which the test decides from the pods it reads itself with client-go (its new pods are not
// scheduled; PodScheduled=False).
func TestFleetRowMatchesTheSession(t *testing.T) {
	const ctxName, ns, name = "local-2", "fintech-staging", "notification-service"
	cfg, err := lc.RESTConfig(ctxName)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	patch := func(sel string) {
		t.Helper()
		body := fmt.Sprintf(`{"spec":{"template":{"spec":{"nodeSelector":%s}}}}`, sel)
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	patch(`{"disk":"nonexistent"}`)
	t.Cleanup(func() { patch("null") })

	// The API's view: the Deployment's pods include some that cannot be scheduled.
	deadline := time.Now().Add(90 * time.Second)
	for {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.Set(d.Spec.Selector.MatchLabels).String()})
		if err != nil {
			t.Fatal(err)
		}
		unscheduled := 0
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
					unscheduled++
				}
			}
		}
		if unscheduled > 0 {
			t.Logf("%s/%s: %d of %d pods unschedulable", ns, name, unscheduled, len(pods.Items))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: no unschedulable pod after the patch", ns, name)
		}
		time.Sleep(500 * time.Millisecond)
	}

	s := start(t, ctxName, nil)
	counts := func(services []estate.Service) (estate.FleetEntry, estate.Health) {
		var e estate.FleetEntry
		e.CountHealth(services)
		var h estate.Health
		for _, svc := range services {
			if svc.Namespace == ns && svc.Name == name {
				h = svc.Health
			}
		}
		return e, h
	}
	var diff string
	for attempt := 0; attempt < 10; attempt++ {
		snap := waitSnap(t, s, 90*time.Second, "a synced snapshot", func(snap estate.Snapshot) bool { return snap.Synced })
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		fleet, err := cluster.FleetSnapshot(fctx, cfg, config.Default().For(ctxName))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		se, sh := counts(snap.Services)
		fe, fh := counts(fleet.Services)
		row := func(e estate.FleetEntry) string {
			return fmt.Sprintf("services %d ok %d progressing %d degraded %d down %d unknown %d", e.Services, e.OK, e.Progressing, e.Degraded, e.Down, e.Unknown)
		}
		diff = ""
		if row(se) != row(fe) {
			diff += fmt.Sprintf("session %s\nfleet   %s\n", row(se), row(fe))
		}
		if sh.Status == estate.StatusOK || fh.Status == estate.StatusOK || sh.Status != fh.Status {
			diff += fmt.Sprintf("%s/%s with unschedulable pods: session %s (%s), fleet %s (%s)\n", ns, name, sh.Status, sh.Reason, fh.Status, fh.Reason)
		}
		if diff == "" {
			t.Logf("session and fleet agree: %s; %s/%s %s (%s)", row(se), ns, name, sh.Status, sh.Reason)
			return
		}
		time.Sleep(time.Second) // the two reads may straddle a change
	}
	t.Errorf("fleet row and session differ:\n%s", strings.TrimSpace(diff))
}

// TestFleetPassLeavesNoConnection: a fleet pass (cluster.FleetSnapshot, as
// the Contexts screen runs it for every other context on each refresh)
// closes the connections it opened when it ends, rather than keeping one
// per context, with its buffers, for client-go's 90 s idle timeout. Counted
// in /proc: this process's established TCP connections to the context's API
// server, before and after. The config is made distinct (no compression) so
// that no other client's cached transport, and connection, is reused.
func TestFleetPassLeavesNoConnection(t *testing.T) {
	const ctxName = "local-2-reviewer"
	cfg, err := lc.RESTConfig(ctxName)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DisableCompression = true
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.ParseUint(u.Port(), 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	before := connectionsTo(t, uint16(port))
	fleetPassOn(t, cfg, ctxName)
	if after := connectionsTo(t, uint16(port)); after > before {
		t.Errorf("%d connection(s) to %s before the pass, %d after: the pass left its own open", before, u.Host, after)
	}
}

// TestFleetPassLeavesNothingReachable: once a pass has returned, nothing
// keeps its connections reachable, so their TLS and HTTP/2 buffers go at
// the next collection. client-go's HTTP/2 kept each one reachable for 30 s
// after it was closed (golang.org/x/net/http2's read-idle health-check
// timer, never stopped), which the fleet benchmark's heap figure measured.
func TestFleetPassLeavesNothingReachable(t *testing.T) {
	const ctxName = "local-2-reviewer"
	cfg, err := lc.RESTConfig(ctxName)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var dialed []weak.Pointer[net.TCPConn]
	base := &net.Dialer{Timeout: 30 * time.Second}
	cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		c, dialErr := base.DialContext(ctx, network, address)
		if tc, ok := c.(*net.TCPConn); ok {
			mu.Lock()
			dialed = append(dialed, weak.Make(tc))
			mu.Unlock()
		}
		return c, dialErr
	}
	fleetPassOn(t, cfg, ctxName)
	mu.Lock()
	conns := slices.Clone(dialed)
	mu.Unlock()
	if len(conns) == 0 {
		t.Fatal("the pass dialed nothing through the config's Dial")
	}
	// The connections' goroutines end a moment after they are closed.
	reachable := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		runtime.GC()
		reachable = 0
		for _, w := range conns {
			if w.Value() != nil {
				reachable++
			}
		}
		if reachable == 0 || time.Now().After(deadline) {
			break
		}
	}
	if reachable > 0 {
		t.Errorf("%d of the pass's %d connection(s) still reachable 5 s after it returned", reachable, len(conns))
	}
}

// fleetPassOn runs one fleet pass (cluster.FleetSnapshot, read-only) on
// ctxName with cfg and fails unless it listed services.
func fleetPassOn(t *testing.T, cfg *rest.Config, ctxName string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := cluster.FleetSnapshot(ctx, readonly.WrapConfig(cfg), config.Default().For(ctxName))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Services) == 0 {
		t.Fatalf("the pass listed no services on %s", ctxName)
	}
}

// connectionsTo counts this process's established TCP connections to port:
// the sockets of /proc/self/fd looked up in /proc/self/net/tcp and tcp6.
func connectionsTo(t *testing.T, port uint16) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "01" || !mine[f[9]] {
				continue
			}
			_, rport, _ := strings.Cut(f[2], ":")
			if p, err := strconv.ParseUint(rport, 16, 16); err == nil && uint16(p) == port {
				n++
			}
		}
	}
	return n
}
