package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/testdata/ksm"
)

// ksmServer serves, at /metrics/<cluster>, the kube-state-metrics exposition of that cluster's
// objects, read with client-go at each scrape.
func ksmServer(t *testing.T, clients map[string]kubernetes.Interface) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, ok := clients[strings.TrimPrefix(r.URL.Path, "/metrics/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		objs, err := ksm.Read(r.Context(), cs)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var buf bytes.Buffer
		if err := ksm.Write(&buf, objs); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(buf.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fleetRules are the alert rules the fleet Prometheus evaluates over the series: a
// Deployment with fewer available replicas than it wants fires at once, labelled with its
// cluster, namespace and deployment.
const fleetRules = `groups:
- name: fleet-test
  rules:
  - alert: DeploymentReplicasMissing
    expr: kube_deployment_spec_replicas > kube_deployment_status_replicas_available
    labels: {severity: warning}
`

// fleetManager is a Manager over the local clusters' kubeconfig with cfg.
func fleetManager(t *testing.T, cfg config.Config) *cluster.Manager {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &lc.Kubeconfig
	m, err := cluster.NewManager(cluster.ManagerOptions{Flags: flags, Config: cfg, UserAgent: "vigil-tests", Logger: quiet(), FleetTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

func parseConfig(t testing.TB, yaml string) config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	return cfg
}

func fleetRow(e estate.FleetEntry) string {
	return fmt.Sprintf("reachable=%v err=%q services=%d ok=%d progressing=%d degraded=%d down=%d unknown=%d firing=%d worst=%q",
		e.Reachable, e.Err, e.Services, e.OK, e.Progressing, e.Degraded, e.Down, e.Unknown, e.Firing, e.Worst)
}

func byContext(s estate.FleetSummary) map[string]estate.FleetEntry {
	out := map[string]estate.FleetEntry{}
	for _, e := range s.Entries {
		out[e.Context] = e
	}
	return out
}

// workloadCount is what the test reads itself with client-go: the Deployments and
// StatefulSets in the default watched namespaces.
func workloadCount(t *testing.T, cs kubernetes.Interface) int {
	t.Helper()
	n := 0
	for _, ns := range config.DefaultNamespaces {
		d, err := cs.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := cs.AppsV1().StatefulSets(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n += len(d.Items) + len(s.Items)
	}
	return n
}

// TestFleetSourcesAgree is differential (issue 17): the Contexts screen's summary from a fleet
// Prometheus (PromQL over kube-state-metrics series, config fleet.prometheus) equals, row for
// row, the summary from one LIST pass per context, on local-1 and local-2 as seeded and again
// after a Deployment of local-2 is scaled up onto a nodeSelector no node has. The series are
// written by the test harness (ksm_test.go) from the objects it reads with client-go, served
// over httptest and scraped by the real Prometheus with a cluster label per cluster; alerts
// come from a rule Prometheus evaluates over them, read by the LIST rows through
// /api/v1/alerts and by the Prometheus rows as ALERTS series. local-1-reviewer's rows map to
// cluster local-1 (fleet.cluster); local-2-reviewer's to a cluster with no series, which fails
// that row alone.
func TestFleetSourcesAgree(t *testing.T) {
	ctx := context.Background()
	clients := map[string]kubernetes.Interface{"local-1": lc.Client(t, "local-1"), "local-2": lc.Client(t, "local-2")}
	srv := ksmServer(t, clients)
	prom := ksm.StartPrometheus(t, srv.URL, []string{"local-1", "local-2"}, fleetRules)

	common := `alertLabels:
  service: [deployment, statefulset, service, app]
contexts:
  local-1: {prometheus: PROM, alertLabels: {match: {cluster: local-1}}}
  local-2: {prometheus: PROM, alertLabels: {match: {cluster: local-2}}}
`
	listCfg := parseConfig(t, strings.ReplaceAll(common, "PROM", prom))
	promCfg := parseConfig(t, strings.ReplaceAll(common+`  local-1-reviewer: {fleet: {cluster: local-1}}
  local-2-reviewer: {fleet: {cluster: nowhere}}
fleet: {prometheus: PROM}
`, "PROM", prom))
	list, viaProm := fleetManager(t, listCfg), fleetManager(t, promCfg)

	// Until Prometheus has scraped both clusters and evaluated the rule once.
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows := byContext(viaProm.Fleet(ctx))
		if rows["local-1"].Reachable && rows["local-2"].Reachable && rows["local-2"].Firing > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fleet Prometheus has no series or alerts after 60s: local-1 %s; local-2 %s", fleetRow(rows["local-1"]), fleetRow(rows["local-2"]))
		}
		time.Sleep(time.Second)
	}

	agree := func(when string) map[string]estate.FleetEntry {
		t.Helper()
		var diff string
		for attempt := 0; attempt < 20; attempt++ {
			start := time.Now()
			l := byContext(list.Fleet(ctx))
			tookList := time.Since(start)
			start = time.Now()
			p := byContext(viaProm.Fleet(ctx))
			tookProm := time.Since(start)
			diff = ""
			for _, c := range []string{"local-1", "local-2"} {
				if l[c].Source != estate.FleetFromList || p[c].Source != estate.FleetFromPrometheus {
					t.Fatalf("%s: sources %q and %q, want %q and %q", c, l[c].Source, p[c].Source, estate.FleetFromList, estate.FleetFromPrometheus)
				}
				if !l[c].Reachable || l[c].Firing < 0 {
					t.Fatalf("%s by LIST: %s, want reachable with alerts", c, fleetRow(l[c]))
				}
				if want := workloadCount(t, clients[c]); l[c].Services != want {
					diff += fmt.Sprintf("%s: %d services by LIST, client-go reads %d Deployments and StatefulSets\n", c, l[c].Services, want)
				}
				if fleetRow(l[c]) != fleetRow(p[c]) {
					diff += fmt.Sprintf("%s\n  LIST       %s\n  prometheus %s\n", c, fleetRow(l[c]), fleetRow(p[c]))
				}
			}
			if r := p["local-1-reviewer"]; r.Source != estate.FleetFromPrometheus || fleetRow(r) != fleetRow(p["local-1"]) {
				diff += fmt.Sprintf("local-1-reviewer (fleet.cluster local-1) by prometheus: %s, want local-1's %s\n", fleetRow(r), fleetRow(p["local-1"]))
			}
			if r := p["local-2-reviewer"]; r.Reachable || !strings.Contains(r.Err, `no kube-state-metrics series with cluster="nowhere"`) || strings.Contains(r.Err, "\n") {
				diff += fmt.Sprintf("local-2-reviewer (fleet.cluster nowhere) by prometheus: %s, want that row alone failed in one line\n", fleetRow(r))
			}
			if diff == "" {
				for _, c := range []string{"local-1", "local-2"} {
					t.Logf("%s, %s: both sources: %s", when, c, fleetRow(p[c]))
				}
				t.Logf("%s: LIST pass %s, prometheus pass %s (attempt %d)", when, tookList.Round(time.Millisecond), tookProm.Round(time.Millisecond), attempt+1)
				return p
			}
			time.Sleep(time.Second) // the two reads may straddle a change or a scrape
		}
		t.Fatalf("%s: the fleet sources differ:\n%s", when, diff)
		return nil
	}
	before := agree("as seeded")

	// The change: local-2's notification-service, fully ready, gets one more replica and a
	// nodeSelector no node has; its new pods cannot be scheduled.
	const ns, name = "fintech-staging", "notification-service"
	cs := clients["local-2"]
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Replicas == nil || d.Status.ReadyReplicas != *d.Spec.Replicas || d.Status.UpdatedReplicas != *d.Spec.Replicas {
		t.Fatalf("%s/%s is not fully rolled out before the change (%+v): the seed changed", ns, name, d.Status)
	}
	replicas := *d.Spec.Replicas
	patch := func(body string) {
		t.Helper()
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	patch(fmt.Sprintf(`{"spec":{"replicas":%d,"template":{"spec":{"nodeSelector":{"disk":"nonexistent"}}}}}`, replicas+1))
	t.Cleanup(func() {
		patch(fmt.Sprintf(`{"spec":{"replicas":%d,"template":{"spec":{"nodeSelector":null}}}}`, replicas))
	})
	deadline = time.Now().Add(90 * time.Second)
	for {
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
			t.Logf("%s/%s: %d of %d pods unschedulable (client-go)", ns, name, unscheduled, len(pods.Items))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: no unschedulable pod 90s after the patch", ns, name)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Both sources must see it (one more service in trouble) and still agree.
	var after map[string]estate.FleetEntry
	for attempt := 0; ; attempt++ {
		after = agree("after the unschedulable scale-up")
		b, a := before["local-2"], after["local-2"]
		if a.Degraded+a.Down == b.Degraded+b.Down+1 {
			break
		}
		if attempt == 10 {
			t.Fatalf("local-2 after the change: %s; before: %s; want one more Degraded or Down service", fleetRow(a), fleetRow(b))
		}
		time.Sleep(time.Second)
	}
	if fleetRow(after["local-1"]) != fleetRow(before["local-1"]) {
		t.Logf("local-1 changed meanwhile (its simulated services move): %s → %s", fleetRow(before["local-1"]), fleetRow(after["local-1"]))
	}
}

// TestFleetPrometheusDown: with the fleet Prometheus unreachable, every context it serves gets
// a row that says so in one line, and the summary still lists every context.
func TestFleetPrometheusDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	_ = l.Close() // nothing listens there now
	m := fleetManager(t, parseConfig(t, "fleet: {prometheus: "+url+"}\n"))
	sum := m.Fleet(context.Background())
	if len(sum.Entries) != 4 {
		t.Fatalf("%d entries, want the 4 contexts: %+v", len(sum.Entries), sum.Entries)
	}
	for _, e := range sum.Entries {
		t.Logf("%s: %s", e.Context, e.Err)
		if e.Source != estate.FleetFromPrometheus || e.Reachable || !strings.Contains(e.Err, "prometheus "+url) ||
			!strings.Contains(e.Err, "connection refused") || strings.Contains(e.Err, "\n") {
			t.Errorf("%s = %s (source %q), want one line naming the Prometheus and the refused connection", e.Context, fleetRow(e), e.Source)
		}
	}
}
