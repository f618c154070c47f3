package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// TestClusterLevelScope: the session behind the TUI and live `vigil check` (cluster.ListInventory
// and the catalogue) read the same scope, workloads in the watched namespaces and what the
// cluster-level checks look for wherever it is; and what they conclude is what the API objects
// say, read here with client-go apart from the code under test:
//
//   - on local-1, every workload an Argo CD Application in argocd (outside the watched
//     namespaces) lists as its resource, Synced, Healthy and self-healing, passes
//     ops-gitops-argocd; a log shipper and a runtime detector running as DaemonSets in namespaces
//     nobody watches, and cluster-autoscaler in kube-system, pass logs-centralized,
//     security-event-monitoring and ops-cluster-autoscaler, naming them; data-sovereignty names
//     the nodes the API lists;
//   - as the view-only reviewer, whom the API refuses Applications and Nodes cluster-wide, the
//     checks needing them are unknown with the refusal named, and no workload passes or fails
//     ops-gitops-argocd; what the reviewer may list (DaemonSets everywhere) is still judged;
//   - the session's verdicts equal the headless ones, check by check and resource by resource.
func TestClusterLevelScope(t *testing.T) {
	admin := lc.Client(t, "local-1")
	adminCfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	adminDyn := dynamic.NewForConfigOrDie(adminCfg)
	agents := deployAgents(t, admin)

	for _, tc := range []struct {
		context string
		// refused are the readings the API refuses this identity (asked below), with a
		// check that needs each.
		refused map[string]string
	}{
		{"local-1", nil},
		{"local-1-reviewer", map[string]string{checks.ResApplications: "ops-gitops-argocd", checks.ResNodes: "data-sovereignty"}},
	} {
		t.Run(tc.context, func(t *testing.T) {
			cfg, err := lc.RESTConfig(tc.context)
			if err != nil {
				t.Fatal(err)
			}
			kc := kubernetes.NewForConfigOrDie(cfg)
			dc := dynamic.NewForConfigOrDie(cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			// What the API lets this identity read, asked directly.
			_, appsErr := dc.Resource(applicationsGVR).List(ctx, metav1.ListOptions{})
			_, nodesErr := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			for key, err := range map[string]error{checks.ResApplications: appsErr, checks.ResNodes: nodesErr} {
				if _, want := tc.refused[key]; want != apierrors.IsForbidden(err) {
					t.Fatalf("%s: listing %s cluster-wide: err = %v; the test expects refused = %v", tc.context, key, err, want)
				}
			}

			want := expectedScopeVerdicts(ctx, t, admin, adminDyn, agents, tc.refused)
			s := start(t, tc.context, nil)
			var session, headless []checks.Finding
			var diff []string
			for attempt := 0; attempt < 5; attempt++ { // the seed's pods and the agents' may still be moving
				snap := waitSnap(t, s, 90*time.Second, "a synced snapshot with findings", func(snap estate.Snapshot) bool {
					return snap.Synced && snap.Findings.Synced
				})
				session = snap.Findings.Findings
				inv, err := cluster.ListInventory(ctx, cfg, config.DefaultNamespaces)
				if err != nil {
					t.Fatal(err)
				}
				inv.LoadedAlertRules = s.Inventory().LoadedAlertRules // polled by the session, fetched apart by `vigil check`
				headless = checks.Run(checks.Catalogue(), &inv)
				diff = verdictsDiff(session, headless)
				if len(diff) == 0 && len(scopeMismatches(want, headless)) == 0 {
					break
				}
				time.Sleep(2 * time.Second)
			}
			if len(diff) > 0 {
				t.Errorf("session and headless verdicts differ:\n%s", strings.Join(diff, "\n"))
			}
			for name, fs := range map[string][]checks.Finding{"headless": headless, "session": session} {
				for _, m := range scopeMismatches(want, fs) {
					t.Errorf("%s: %s", name, m)
				}
			}
			if !t.Failed() {
				t.Logf("%d expectations from the API hold; %d findings agree", len(want), len(session))
			}
		})
	}
}

var applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// agents are what deployAgents runs outside the watched namespaces.
type agents struct{ shipperNS, detectorNS string }

// deployAgents runs fluent-bit and Falco as DaemonSets in two namespaces of their own and
// cluster-autoscaler as a Deployment in kube-system, and waits until the API shows the
// DaemonSets ready on every node they are scheduled to; all go at cleanup.
func deployAgents(t *testing.T, cs kubernetes.Interface) agents {
	t.Helper()
	a := agents{shipperNS: lc.Namespace(t, "local-1"), detectorNS: lc.Namespace(t, "local-1")}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	labels := func(app string) map[string]string { return map[string]string{"app": app} }
	template := func(app, image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(app)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: image}}}}
	}
	for ns, ds := range map[string]*appsv1.DaemonSet{
		a.shipperNS:  {ObjectMeta: metav1.ObjectMeta{Name: "fluent-bit"}, Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels("fluent-bit")}, Template: template("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.1.4")}},
		a.detectorNS: {ObjectMeta: metav1.ObjectMeta{Name: "falco"}, Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels("falco")}, Template: template("falco", "docker.io/falcosecurity/falco:0.39.2")}},
	} {
		if _, err := cs.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	one := int32(1)
	ca := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cluster-autoscaler-scope-test"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels("cluster-autoscaler")},
			Template: template("cluster-autoscaler", "registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.0")}}
	if _, err := cs.AppsV1().Deployments("kube-system").Create(ctx, ca, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		_ = cs.AppsV1().Deployments("kube-system").Delete(cctx, ca.Name, metav1.DeleteOptions{})
	})
	for _, ns := range []string{a.shipperNS, a.detectorNS} {
		for {
			l, err := cs.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st := l.Items[0].Status; st.ObservedGeneration >= l.Items[0].Generation && st.DesiredNumberScheduled > 0 && st.NumberReady == st.DesiredNumberScheduled {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("DaemonSet in %s not ready on its nodes: %+v", ns, l.Items[0].Status)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return a
}

// scopeWant is one expectation: check's finding on res has status and its evidence holds each
// of evidence. A check with an expectation on the Cluster resource has that finding alone.
type scopeWant struct {
	check    string
	res      checks.Resource
	status   checks.Status
	evidence []string
}

// expectedScopeVerdicts computes, from the objects the admin clients list, what the
// cluster-level checks must say to an identity refused the readings in refused.
func expectedScopeVerdicts(ctx context.Context, t *testing.T, admin kubernetes.Interface, dc dynamic.Interface, a agents, refused map[string]string) []scopeWant {
	t.Helper()
	var want []scopeWant
	cluster := checks.Resource{Kind: "Cluster"}
	for key, check := range refused {
		want = append(want, scopeWant{check, cluster, checks.Unknown, []string{"no access to " + key}})
	}

	// ops-gitops-argocd: the workloads the Applications list, wherever the Applications are.
	if _, ok := refused[checks.ResApplications]; !ok {
		apps, err := dc.Resource(applicationsGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		passing := 0
		for _, app := range apps.Items {
			if slices.Contains(config.DefaultNamespaces, app.GetNamespace()) {
				t.Fatalf("Application %s/%s is in a watched namespace: the test needs them outside", app.GetNamespace(), app.GetName())
			}
			sync, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status")
			health, _, _ := unstructured.NestedString(app.Object, "status", "health", "status")
			selfHeal, _, _ := unstructured.NestedBool(app.Object, "spec", "syncPolicy", "automated", "selfHeal")
			if sync != "Synced" || health != "Healthy" || !selfHeal {
				continue
			}
			resources, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
			for _, r := range resources {
				m, _ := r.(map[string]any)
				kind, _ := m["kind"].(string)
				ns, _ := m["namespace"].(string)
				name, _ := m["name"].(string)
				if (kind == "Deployment" || kind == "StatefulSet") && slices.Contains(config.DefaultNamespaces, ns) {
					want = append(want, scopeWant{"ops-gitops-argocd", checks.Resource{Kind: kind, Namespace: ns, Name: name}, checks.Pass,
						[]string{"Application " + app.GetNamespace() + "/" + app.GetName()}})
					passing++
				}
			}
		}
		if passing < 4 {
			t.Fatalf("the seed's Synced, Healthy, self-healing Applications list %d workloads in the watched namespaces, want ≥ 4", passing)
		}
	}

	// The node agents: the DaemonSets the API lists everywhere, by image.
	dss, err := admin.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	agent := func(check, image, ns string) {
		for _, d := range dss.Items {
			if d.Namespace == ns && strings.Contains(d.Spec.Template.Spec.Containers[0].Image, image) {
				want = append(want, scopeWant{check, cluster, checks.Pass,
					[]string{fmt.Sprintf("DaemonSet/%s/%s", d.Namespace, d.Name), fmt.Sprintf("ready on all %d nodes", d.Status.DesiredNumberScheduled)}})
				return
			}
		}
		t.Fatalf("no %s DaemonSet in %s", image, ns)
	}
	agent("logs-centralized", "fluent-bit", a.shipperNS)
	agent("security-event-monitoring", "falco", a.detectorNS)

	// ops-cluster-autoscaler: the Deployment in kube-system, no status ConfigMap.
	if _, cmErr := admin.CoreV1().ConfigMaps("kube-system").Get(ctx, "cluster-autoscaler-status", metav1.GetOptions{}); !apierrors.IsNotFound(cmErr) {
		t.Fatalf("kube-system/cluster-autoscaler-status: %v; the test expects none", cmErr)
	}
	want = append(want, scopeWant{"ops-cluster-autoscaler", cluster, checks.Pass, []string{"Deployment/kube-system/cluster-autoscaler-scope-test"}})

	// data-sovereignty names every node the API lists.
	if _, ok := refused[checks.ResNodes]; !ok {
		nodes, nodesErr := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if nodesErr != nil {
			t.Fatal(nodesErr)
		}
		want = append(want, scopeWant{"data-sovereignty", cluster, checks.Unknown, []string{fmt.Sprintf("the %d nodes' topology.kubernetes.io/region", len(nodes.Items))}})
	}

	// The apiserver's flags: localcluster's apiserver runs in-process, so no mirror pod.
	mirror, err := admin.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "component=kube-apiserver"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mirror.Items) != 0 {
		t.Fatalf("%d kube-apiserver mirror pods; the test expects none on localcluster", len(mirror.Items))
	}
	want = append(want, scopeWant{"audit-apiserver-policy", cluster, checks.Unknown, []string{"no kube-apiserver mirror pod"}})
	return want
}

// scopeMismatches lists the expectations fs does not meet.
func scopeMismatches(want []scopeWant, fs []checks.Finding) []string {
	var out []string
	for _, w := range want {
		var of []checks.Finding
		for _, f := range fs {
			if f.Check == w.check && (f.Resource == w.res || w.res.Kind == "Cluster") {
				of = append(of, f)
			}
		}
		i := slices.IndexFunc(of, func(f checks.Finding) bool { return f.Resource == w.res })
		switch {
		case i < 0:
			out = append(out, fmt.Sprintf("%s %s: no finding, want %s", w.check, w.res, w.status))
			continue
		case w.res.Kind == "Cluster" && len(of) != 1:
			out = append(out, fmt.Sprintf("%s: %d findings, want the one on %s (%s)", w.check, len(of), w.res, w.status))
		case of[i].Status != w.status:
			out = append(out, fmt.Sprintf("%s %s: %s %q, want %s", w.check, w.res, of[i].Status, of[i].Evidence, w.status))
		}
		for _, e := range w.evidence {
			if !strings.Contains(of[i].Evidence, e) {
				out = append(out, fmt.Sprintf("%s %s: evidence %q lacks %q", w.check, w.res, of[i].Evidence, e))
			}
		}
	}
	return out
}

// verdictsDiff compares two runs' verdicts per check and resource (the evidence of a refusal
// words it differently: the session's access review, the headless list's API error).
func verdictsDiff(session, headless []checks.Finding) []string {
	key := func(f checks.Finding) string { return f.Check + " " + f.Resource.String() + " " + string(f.Status) }
	var s, h []string
	for _, f := range session {
		s = append(s, key(f))
	}
	for _, f := range headless {
		h = append(h, key(f))
	}
	var out []string
	for _, k := range s {
		if !slices.Contains(h, k) {
			out = append(out, "session only:  "+k)
		}
	}
	for _, k := range h {
		if !slices.Contains(s, k) {
			out = append(out, "headless only: "+k)
		}
	}
	return out
}
