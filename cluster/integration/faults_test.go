package integration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// faultLabel is the label the test writes on a Deployment during a fault:
// a change that causes no other event, so a lost one is never repaired.
const faultLabel = "vigil.dev/fault-test"

// TestInjectedFaults (issue 14) puts the fault proxy between a Session and
// local-1's API server and, for each fault, switches it on, changes the
// estate through client-go straight to the API server (a scale, a label,
// a Deployment created and one deleted, so pods come and go), clears the
// fault, and requires that the same session recovers by itself within a
// deadline: connected, every namespace synced, no kind failing, and its
// Deployments (desired, ready, the label, the names of their pods) equal
// what typed LISTs from the test return — no update lost. Once its
// session is stopped, no goroutine of it or of the proxy may remain.
func TestInjectedFaults(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(cfg)
	ns := lc.Namespace(t, "local-1")
	namespaces := []string{"fintech-prod", ns}
	for _, tc := range []struct {
		f    fault
		tag  string
		idle time.Duration // Options.WatchIdle; 0: the default
	}{
		{faultLatency, "latency", 0},
		{faultDropWatches, "dropped", 0},
		{faultTooMany, "429", 0},
		{faultGone, "410", 0},
		{faultServerError, "500", 0},
		{faultStall, "stall", 0},
		// Only the streams stall: nothing fails, the session stays
		// connected; a watch silent for WatchIdle is ended. The default
		// (3 min: the API server bookmarks each watch about every minute)
		// is too long for this test, which says so by failing.
		{faultStallStreams, "streams", 4 * time.Second},
	} {
		t.Run(tc.f.String(), func(t *testing.T) {
			// The test's own client has its connection already: what
			// goleak finds below is the session's or the proxy's.
			expectedDeployments(t, kc, namespaces)
			before := goleak.IgnoreCurrent()
			p := newFaultProxy(t, cfg)
			p.latency = 700 * time.Millisecond
			conns := &connections{}
			s, err := cluster.New(cluster.Options{RESTConfig: p.kubeconfig(t), Context: "local-1-faulty",
				Namespaces: namespaces, Settings: config.Default().For("local-1"),
				MinBuildInterval: 50 * time.Millisecond, Heartbeat: time.Second, UsageInterval: 2 * time.Second,
				Logger: quiet(), WrapConfig: conns.wrapConfig, WrapClient: conns.wrapClient, WatchIdle: tc.idle})
			if err != nil {
				t.Fatal(err)
			}
			if err = s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			stopped := false
			defer func() {
				if !stopped {
					s.Stop()
				}
			}()
			runFault(t, s, p, kc, ns, namespaces, tc.f, tc.tag)
			s.Stop()
			stopped = true
			p.close()
			conns.closeIdle(t)
			goleak.VerifyNone(t, before)
		})
	}
}

// faultHold is how long each fault lasts.
const faultHold = 3 * time.Second

func runFault(t *testing.T, s *cluster.Session, p *faultProxy, kc kubernetes.Interface, ns string, namespaces []string, f fault, tag string) {
	ctx := context.Background()
	scaled, doomed, born := tag+"-scaled", tag+"-doomed", tag+"-born"
	for _, name := range []string{scaled, doomed} {
		if _, err := kc.AppsV1().Deployments(ns).Create(ctx, faultDeployment(name, 1, tag), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	base := waitSnap(t, s, 90*time.Second, "synced with the test's Deployments ready", func(s estate.Snapshot) bool {
		d, ok := service(s, ns, doomed)
		sc, ok2 := service(s, ns, scaled)
		return s.Synced && s.Conn.Connected && ok && ok2 && d.Ready == 1 && sc.Ready == 1
	})

	p.set(f)
	on := time.Now()
	scale, err := kc.AppsV1().Deployments(ns).GetScale(ctx, scaled, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 3
	if _, err = kc.AppsV1().Deployments(ns).UpdateScale(ctx, scaled, scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err = kc.AppsV1().Deployments(ns).Create(ctx, faultDeployment(born, 2, tag), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err = kc.AppsV1().Deployments(ns).Delete(ctx, doomed, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The last change causes no other event: if the session misses it,
	// nothing later repairs it.
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, faultLabel, tag+"-during")
	if _, err = kc.AppsV1().Deployments(ns).Patch(ctx, scaled, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// Watch what the session says while the fault lasts.
	during := watchDuring(s, time.Until(on.Add(faultHold)))
	p.set(faultNone)
	cleared := time.Now()
	counts, lists := p.counts()
	t.Logf("%s: fault answered %v, %d LISTs passed during it; the session said: %s", f, counts, lists, during)
	touched := 0
	for what, n := range counts {
		if strings.HasPrefix(what, f.String()) {
			touched += n
		}
	}
	if touched == 0 {
		t.Fatalf("the %s fault touched no request: the test proves nothing", f)
	}

	took, why := awaitRecovery(t, s, kc, base, namespaces, cleared)
	if why != "" {
		t.Fatalf("%s: %s", f, why)
	}
	t.Logf("%s: recovered %s after the fault cleared (fault on %s); the Deployments and their pods agree with the API",
		f, took.Round(10*time.Millisecond), cleared.Sub(on).Round(10*time.Millisecond))
}

// awaitRecovery waits up to 45 s from now for a snapshot of s that is healthy (unhealthy
// against base) and whose Deployments in namespaces equal typed LISTs, and returns how long
// after cleared it came, or why none did.
func awaitRecovery(t *testing.T, s *cluster.Session, kc kubernetes.Interface, base estate.Snapshot, namespaces []string, cleared time.Time) (time.Duration, string) {
	t.Helper()
	var diff []string
	var last estate.Snapshot
	deadline := time.Now().Add(45 * time.Second)
	ch, unsubscribe := s.Subscribe()
	defer unsubscribe()
	for time.Now().Before(deadline) {
		var snap estate.Snapshot
		select {
		case snap = <-ch:
		case <-time.After(time.Until(deadline)):
			continue
		}
		last = snap
		if why := unhealthy(snap, base); why != "" {
			diff = []string{why}
			continue
		}
		if diff = compareDeployments(snap, namespaces, expectedDeployments(t, kc, namespaces)); len(diff) == 0 {
			return time.Since(cleared), ""
		}
		time.Sleep(200 * time.Millisecond) // the estate settles: pods of the new Deployments start
	}
	return 0, fmt.Sprintf("no recovery 45s after the fault cleared (conn %+v):\n%s", last.Conn, strings.Join(diff, "\n"))
}

// unhealthy says why snap is not a recovered session's, "" when it is:
// connected, synced in every namespace, every kind as before the fault.
func unhealthy(snap, base estate.Snapshot) string {
	switch {
	case !snap.Conn.Connected:
		return "disconnected: " + snap.Conn.Reason
	case !snap.Synced:
		return "not synced"
	}
	for _, n := range snap.Namespaces {
		if !n.Synced {
			return "namespace " + n.Name + " not synced"
		}
	}
	for i, r := range snap.Resources {
		if i >= len(base.Resources) || r.Access != base.Resources[i].Access {
			return fmt.Sprintf("%s is %s (%s)", r.Resource, r.Access, r.Reason)
		}
	}
	return ""
}

// watchDuring reads the session's snapshots for d and summarises what they
// said about the connection and the kinds.
func watchDuring(s *cluster.Session, d time.Duration) string {
	ch, stop := s.Subscribe()
	defer stop()
	end := time.After(d)
	disconnected, failing := "", map[string]bool{}
	n := 0
	for {
		select {
		case snap := <-ch:
			n++
			if !snap.Conn.Connected && disconnected == "" {
				disconnected = snap.Conn.Reason
			}
			for _, r := range snap.Resources {
				if r.Access == estate.AccessFailing {
					failing[r.Resource] = true
				}
			}
		case <-end:
			out := fmt.Sprintf("%d snapshots", n)
			if disconnected != "" {
				out += ", disconnected (" + disconnected + ")"
			}
			if len(failing) > 0 {
				out += fmt.Sprintf(", %d kinds failing", len(failing))
			}
			return out
		}
	}
}

// faultDeployment is a Deployment of the test's, tagged with the fault.
func faultDeployment(name string, replicas int32, tag string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name, faultLabel: tag}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/faults:1"}}}}},
	}
}

// deploymentFacts are what the test compares of one Deployment.
type deploymentFacts struct {
	desired, ready int32
	label          string
	pods           []string
}

// expectedDeployments computes, per "namespace/name", the Deployments'
// figures from typed LISTs: pods joined by controller owner references
// through their ReplicaSets, through no vigil code.
func expectedDeployments(t *testing.T, kc kubernetes.Interface, namespaces []string) map[string]deploymentFacts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := map[string]deploymentFacts{}
	for _, ns := range namespaces {
		deps, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rss, err := kc.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rsOwner := map[types.UID]types.UID{}
		for _, rs := range rss.Items {
			if ref := metav1.GetControllerOf(&rs); ref != nil && ref.Kind == "Deployment" {
				rsOwner[rs.UID] = ref.UID
			}
		}
		podsOf := map[types.UID][]string{}
		for _, p := range pods.Items {
			if ref := metav1.GetControllerOf(&p); ref != nil && ref.Kind == "ReplicaSet" {
				if dep, ok := rsOwner[ref.UID]; ok {
					podsOf[dep] = append(podsOf[dep], p.Name)
				}
			}
		}
		for _, d := range deps.Items {
			want := deploymentFacts{desired: 1, ready: d.Status.ReadyReplicas, label: d.Labels[faultLabel], pods: podsOf[d.UID]}
			if d.Spec.Replicas != nil {
				want.desired = *d.Spec.Replicas
			}
			sort.Strings(want.pods)
			out[ns+"/"+d.Name] = want
		}
	}
	return out
}

// compareDeployments lists how snap's Deployments in namespaces differ from want.
func compareDeployments(snap estate.Snapshot, namespaces []string, want map[string]deploymentFacts) []string {
	got := map[string]deploymentFacts{}
	for _, s := range snap.Services {
		if s.Kind != "Deployment" || !slices.Contains(namespaces, s.Namespace) {
			continue
		}
		f := deploymentFacts{desired: s.Desired, ready: s.Ready, label: s.Labels[faultLabel]}
		for _, p := range s.Pods {
			f.pods = append(f.pods, p.Name)
		}
		sort.Strings(f.pods)
		got[s.Namespace+"/"+s.Name] = f
	}
	var diff []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diff = append(diff, k+": missing from the snapshot")
		case g.desired != w.desired || g.ready != w.ready || g.label != w.label || !slices.Equal(g.pods, w.pods):
			diff = append(diff, fmt.Sprintf("%s: snapshot %+v, API %+v", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, k+": in the snapshot, not in the API")
		}
	}
	sort.Strings(diff)
	return diff
}
