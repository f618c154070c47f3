package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	metricsv1beta1 "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/render"
)

// TestFiguresMatchTheAPI is the differential test of every figure the
// Services, detail and Autoscaling screens show: for each service of the
// seeded estate on both clusters, the figure in vigil's snapshot equals the
// same figure computed here, straight from typed client-go LISTs and
// metrics.k8s.io, through no vigil code (pods joined to workloads by owner
// UID, quantities summed with resource.Quantity, ratios rendered the way the
// screens render them).
//
// The estate moves (a crash-looping pod restarts, rollouts finish), so the
// comparison is retried: it passes once a snapshot and a set of LISTs taken
// after it agree on everything, and fails with the differences of the last
// try. The simulator's usage is deterministic per pod, so no tolerance is
// needed for it.
func TestFiguresMatchTheAPI(t *testing.T) {
	for _, ctx := range []string{"local-1", "local-2"} {
		t.Run(ctx, func(t *testing.T) {
			s := start(t, ctx, nil)
			cfg, err := lc.RESTConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			kc := kubernetes.NewForConfigOrDie(cfg)
			mc := metricsv1beta1.NewForConfigOrDie(cfg)
			dc := dynamic.NewForConfigOrDie(cfg)
			namespaces := config.Default().For(ctx).Namespaces
			waitSnap(t, s, 90*time.Second, "a synced snapshot with usage", func(s estate.Snapshot) bool {
				return s.Synced && s.Usage.Available
			})
			var diffs []string
			for try := 0; try < 30; try++ {
				if try > 0 {
					time.Sleep(time.Second)
				}
				snap := latest(t, s)
				if !snap.Usage.Available {
					continue
				}
				want := expectedFigures(t, kc, mc, dc, namespaces)
				diffs = compareFigures(snap, want)
				if len(diffs) == 0 {
					if len(want) < 5 {
						t.Fatalf("only %d services computed from the API: the estate is not seeded?", len(want))
					}
					t.Logf("%d services agree with the API after %d tries", len(want), try+1)
					return
				}
			}
			t.Fatalf("vigil's figures differ from the API's:\n%s", strings.Join(diffs, "\n"))
		})
	}
}

// latest returns the session's newest snapshot.
func latest(t *testing.T, s *cluster.Session) estate.Snapshot {
	t.Helper()
	ch, stop := s.Subscribe()
	defer stop()
	select {
	case snap := <-ch:
		return snap
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot within 10s")
	}
	return estate.Snapshot{}
}

// figures are what the screens show of one service, as text.
type figures map[string]string

// expectedFigures computes, per "namespace/name/kind", the screens' figures
// from the API objects.
func expectedFigures(t *testing.T, kc kubernetes.Interface, mc metricsv1beta1.Interface, dc dynamic.Interface, namespaces []string) map[string]figures {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]figures{}
	for _, ns := range namespaces {
		if _, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			continue // a watched namespace the estate does not have
		}
		deps, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		must(err)
		stss, err := kc.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		must(err)
		rss, err := kc.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		must(err)
		crs, err := kc.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
		must(err)
		pods, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		must(err)
		svcs, err := kc.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		must(err)
		eps, err := kc.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
		must(err)
		hpas, err := kc.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
		must(err)
		pms, err := mc.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{})
		must(err)
		vpas, err := dc.Resource(schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			vpas = &unstructured.UnstructuredList{} // not installed (local-2)
		}

		usage := map[string]map[string][2]int64{} // pod → container → cpu milli, memory bytes
		for _, pm := range pms.Items {
			usage[pm.Name] = map[string][2]int64{}
			for _, c := range pm.Containers {
				usage[pm.Name][c.Name] = [2]int64{c.Usage.Cpu().MilliValue(), c.Usage.Memory().Value()}
			}
		}
		rsOf := map[types.UID]types.UID{} // ReplicaSet UID → Deployment UID
		for _, rs := range rss.Items {
			if ref := metav1.GetControllerOf(&rs); ref != nil && ref.Kind == "Deployment" {
				rsOf[rs.UID] = ref.UID
			}
		}
		podsOf := map[types.UID][]corev1.Pod{} // workload UID → pods
		for _, p := range pods.Items {
			ref := metav1.GetControllerOf(&p)
			if ref == nil {
				continue
			}
			owner := ref.UID
			if ref.Kind == "ReplicaSet" {
				if owner = rsOf[ref.UID]; owner == "" {
					continue
				}
			}
			podsOf[owner] = append(podsOf[owner], p)
		}

		add := func(kind string, obj metav1.Object, desired, ready int32, template corev1.PodTemplateSpec, revisions []string) {
			f := figures{}
			f["ready"] = fmt.Sprintf("%d/%d", ready, desired)
			ps := podsOf[obj.GetUID()]
			f["pods"] = fmt.Sprint(len(ps))
			var restarts int32
			var cpu, mem, cpuReq, memReq, cpuLim, memLim int64
			// Usage sums the pods metrics.k8s.io has figures for, against those pods' requests
			// and limits; with none measured, requests and limits are all pods'.
			var mReq, mMemReq, mLim, mMemLim int64
			measured := 0
			var podLines []string
			for _, p := range ps {
				var podRestarts int32
				for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
					podRestarts += cs.RestartCount
				}
				restarts += podRestarts
				u, ok := usage[p.Name]
				var pc, pm, pcr, pmr, pcl, pml int64
				for _, c := range p.Spec.Containers {
					pcr += c.Resources.Requests.Cpu().MilliValue()
					pmr += c.Resources.Requests.Memory().Value()
					pcl += c.Resources.Limits.Cpu().MilliValue()
					pml += c.Resources.Limits.Memory().Value()
					pc += u[c.Name][0]
					pm += u[c.Name][1]
				}
				cpuReq, memReq, cpuLim, memLim = cpuReq+pcr, memReq+pmr, cpuLim+pcl, memLim+pml
				if ok {
					measured++
					cpu, mem, mReq, mMemReq, mLim, mMemLim = cpu+pc, mem+pm, mReq+pcr, mMemReq+pmr, mLim+pcl, mMemLim+pml
				}
				podLines = append(podLines, fmt.Sprintf("%s rst=%d cpu=%d/%d mem=%d/%d", p.Name, podRestarts, pc, pcr, pm, pmr))
			}
			sort.Strings(podLines)
			f["restarts"] = fmt.Sprint(restarts)
			f["pods detail"] = strings.Join(podLines, "; ")
			if measured > 0 {
				cpuReq, memReq, cpuLim, memLim = mReq, mMemReq, mLim, mMemLim
			}
			f["requests"] = fmt.Sprintf("cpu %dm mem %d", cpuReq, memReq)
			f["limits"] = fmt.Sprintf("cpu %dm mem %d", cpuLim, memLim)
			f["measured pods"] = fmt.Sprint(measured)
			if measured > 0 {
				f["usage"] = fmt.Sprintf("cpu %dm mem %d", cpu, mem)
				f["CPU"], f["MEM"] = render.Pct(ratio(cpu, cpuReq)), render.Pct(ratio(mem, memReq))
				f["CPU of limit"], f["MEM of limit"] = render.Pct(ratio(cpu, cpuLim)), render.Pct(ratio(mem, memLim))
			}
			f["revisions"] = strings.Join(revisions, " ")
			f["endpoints"] = readyEndpoints(ns, template.Labels, svcs.Items, eps.Items)
			f["hpa"] = hpaFigures(kind, obj.GetName(), hpas.Items)
			f["vpa"] = vpaFigures(kind, obj.GetName(), template, vpas.Items)
			out[ns+"/"+obj.GetName()+"/"+kind] = f
		}
		for _, d := range deps.Items {
			desired := int32(1)
			if d.Spec.Replicas != nil {
				desired = *d.Spec.Replicas
			}
			var revs []string
			for _, rs := range rss.Items {
				if rsOf[rs.UID] != d.UID {
					continue
				}
				n := rs.Annotations["deployment.kubernetes.io/revision"]
				mark := ""
				if n == d.Annotations["deployment.kubernetes.io/revision"] {
					mark = "*"
				}
				revs = append(revs, fmt.Sprintf("%s%s %d/%d", n, mark, rs.Status.ReadyReplicas, rs.Status.Replicas))
			}
			add("Deployment", &d, desired, d.Status.ReadyReplicas, d.Spec.Template, sortRevisions(revs))
		}
		for _, st := range stss.Items {
			desired := int32(1)
			if st.Spec.Replicas != nil {
				desired = *st.Spec.Replicas
			}
			var revs []string
			for _, cr := range crs.Items {
				if ref := metav1.GetControllerOf(&cr); ref == nil || ref.UID != st.UID {
					continue
				}
				mark := ""
				if cr.Name == st.Status.UpdateRevision {
					mark = "*"
				}
				var n, ready int
				for _, p := range podsOf[st.UID] {
					if p.Labels[appsv1.ControllerRevisionHashLabelKey] == cr.Name {
						n++
						if podReady(p) {
							ready++
						}
					}
				}
				revs = append(revs, fmt.Sprintf("%d%s %d/%d", cr.Revision, mark, ready, n))
			}
			add("StatefulSet", &st, desired, st.Status.ReadyReplicas, st.Spec.Template, sortRevisions(revs))
		}
	}
	return out
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return -1
	}
	return float64(a) / float64(b)
}

// sortRevisions orders "N… x/y" newest first by N.
func sortRevisions(revs []string) []string {
	num := func(s string) int {
		n, _ := strconv.Atoi(strings.TrimRight(strings.Fields(s)[0], "*"))
		return n
	}
	slices.SortFunc(revs, func(a, b string) int { return num(b) - num(a) })
	return revs
}

// readyEndpoints lists the Services selecting the template's labels with
// their ready and not-ready endpoint addresses.
func readyEndpoints(ns string, podLabels map[string]string, svcs []corev1.Service, eps []discoveryv1.EndpointSlice) string {
	var out []string
	for _, svc := range svcs {
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(podLabels)) {
			continue
		}
		ready, notReady := 0, 0
		for _, sl := range eps {
			if sl.Labels[discoveryv1.LabelServiceName] != svc.Name {
				continue
			}
			for _, ep := range sl.Endpoints {
				if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
					ready += len(ep.Addresses)
				} else {
					notReady += len(ep.Addresses)
				}
			}
		}
		out = append(out, fmt.Sprintf("%s %d/%d", svc.Name, ready, ready+notReady))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// hpaFigures renders the HPA targeting kind/name: replicas, bounds, and per
// metric its name and current/target ratio to two decimals.
func hpaFigures(kind, name string, hpas []autoscalingv2.HorizontalPodAutoscaler) string {
	for _, h := range hpas {
		if h.Spec.ScaleTargetRef.Kind != kind || h.Spec.ScaleTargetRef.Name != name {
			continue
		}
		minR := int32(1)
		if h.Spec.MinReplicas != nil {
			minR = *h.Spec.MinReplicas
		}
		parts := []string{fmt.Sprintf("%s %d→%d [%d-%d]", h.Name, h.Status.CurrentReplicas, h.Status.DesiredReplicas, minR, h.Spec.MaxReplicas)}
		for _, m := range h.Spec.Metrics {
			metric, r := "", "unknown"
			switch m.Type {
			case autoscalingv2.ResourceMetricSourceType:
				metric = string(m.Resource.Name)
				for _, c := range h.Status.CurrentMetrics {
					if c.Type == m.Type && c.Resource != nil && c.Resource.Name == m.Resource.Name {
						r = metricRatio(m.Resource.Target, c.Resource.Current)
					}
				}
			case autoscalingv2.PodsMetricSourceType:
				metric = m.Pods.Metric.Name
				for _, c := range h.Status.CurrentMetrics {
					if c.Type == m.Type && c.Pods != nil && c.Pods.Metric.Name == m.Pods.Metric.Name {
						r = metricRatio(m.Pods.Target, c.Pods.Current)
					}
				}
			default:
				metric = string(m.Type)
				r = "-"
			}
			parts = append(parts, metric+" "+r)
		}
		return strings.Join(parts, ", ")
	}
	return "none"
}

// metricRatio is current/target of an HPA metric, to two decimals.
func metricRatio(target autoscalingv2.MetricTarget, current autoscalingv2.MetricValueStatus) string {
	switch {
	case target.AverageUtilization != nil && current.AverageUtilization != nil:
		return fmt.Sprintf("%.2f", float64(*current.AverageUtilization)/float64(*target.AverageUtilization))
	case target.AverageValue != nil && current.AverageValue != nil:
		return fmt.Sprintf("%.2f", current.AverageValue.AsApproximateFloat64()/target.AverageValue.AsApproximateFloat64())
	case target.Value != nil && current.Value != nil:
		return fmt.Sprintf("%.2f", current.Value.AsApproximateFloat64()/target.Value.AsApproximateFloat64())
	}
	return "unknown"
}

// vpaFigures renders the VPA targeting kind/name: per recommended container
// its target next to the template's request.
func vpaFigures(kind, name string, template corev1.PodTemplateSpec, vpas []unstructured.Unstructured) string {
	for _, v := range vpas {
		tk, _, _ := unstructured.NestedString(v.Object, "spec", "targetRef", "kind")
		tn, _, _ := unstructured.NestedString(v.Object, "spec", "targetRef", "name")
		if tk != kind || tn != name {
			continue
		}
		parts := []string{v.GetName()}
		recs, _, _ := unstructured.NestedSlice(v.Object, "status", "recommendation", "containerRecommendations")
		for _, r := range recs {
			rec, _ := r.(map[string]any)
			cname, _, _ := unstructured.NestedString(rec, "containerName")
			cpu, _, _ := unstructured.NestedString(rec, "target", "cpu")
			mem, _, _ := unstructured.NestedString(rec, "target", "memory")
			var req corev1.ResourceList
			for _, c := range template.Spec.Containers {
				if c.Name == cname {
					req = c.Resources.Requests
				}
			}
			parts = append(parts, fmt.Sprintf("%s target cpu %dm mem %d request cpu %dm mem %d", cname,
				parseQ(cpu).MilliValue(), parseQ(mem).Value(), req.Cpu().MilliValue(), req.Memory().Value()))
		}
		return strings.Join(parts, "; ")
	}
	return "none"
}

func parseQ(s string) *kresource.Quantity {
	q, err := kresource.ParseQuantity(s)
	if err != nil {
		return &kresource.Quantity{}
	}
	return &q
}

// shownFigures renders the same figures from a snapshot's service, the way
// the screens read them.
func shownFigures(s estate.Service) figures {
	f := figures{}
	f["ready"] = fmt.Sprintf("%d/%d", s.Ready, s.Desired)
	f["pods"] = fmt.Sprint(s.PodCount)
	f["restarts"] = fmt.Sprint(s.Restarts)
	var podLines []string
	for _, p := range s.Pods {
		podLines = append(podLines, fmt.Sprintf("%s rst=%d cpu=%d/%d mem=%d/%d", p.Name, p.Restarts, p.Usage.CPU, p.Usage.CPURequest, p.Usage.Memory, p.Usage.MemoryRequest))
	}
	sort.Strings(podLines)
	f["pods detail"] = strings.Join(podLines, "; ")
	f["measured pods"] = fmt.Sprint(s.UsagePods)
	f["requests"] = fmt.Sprintf("cpu %dm mem %d", s.Usage.CPURequest, s.Usage.MemoryRequest)
	f["limits"] = fmt.Sprintf("cpu %dm mem %d", s.Usage.CPULimit, s.Usage.MemoryLimit)
	if s.Usage.Available {
		f["usage"] = fmt.Sprintf("cpu %dm mem %d", s.Usage.CPU, s.Usage.Memory)
		f["CPU"], f["MEM"] = render.Pct(s.Usage.CPUOfRequest()), render.Pct(s.Usage.MemoryOfRequest())
		f["CPU of limit"], f["MEM of limit"] = render.Pct(s.Usage.CPUOfLimit()), render.Pct(s.Usage.MemoryOfLimit())
	}
	var revs []string
	for _, r := range s.Revisions {
		mark := ""
		if r.Current {
			mark = "*"
		}
		revs = append(revs, fmt.Sprintf("%d%s %d/%d", r.Number, mark, r.Ready, r.Replicas))
	}
	f["revisions"] = strings.Join(revs, " ")
	var eps []string
	for _, e := range s.Endpoints {
		eps = append(eps, fmt.Sprintf("%s %d/%d", e.Name, e.Ready, e.Ready+e.NotReady))
	}
	sort.Strings(eps)
	f["endpoints"] = strings.Join(eps, " ")
	f["hpa"] = "none"
	if h := s.HPA; h.Name != "" {
		parts := []string{fmt.Sprintf("%s %d→%d [%d-%d]", h.Name, h.Current, h.Desired, h.Min, h.Max)}
		for _, m := range h.Metrics {
			r := "unknown"
			if m.Ratio >= 0 {
				r = fmt.Sprintf("%.2f", m.Ratio)
			}
			if m.Type != "Resource" && m.Type != "Pods" {
				m.Name, r = m.Type, "-"
			}
			parts = append(parts, m.Name+" "+r)
		}
		f["hpa"] = strings.Join(parts, ", ")
	}
	f["vpa"] = "none"
	if v := s.VPA; v.Name != "" {
		parts := []string{v.Name}
		for _, c := range v.Containers {
			parts = append(parts, fmt.Sprintf("%s target cpu %dm mem %d request cpu %dm mem %d", c.Name,
				c.Target.CPU, c.Target.Memory, c.Requests.CPU, c.Requests.Memory))
		}
		f["vpa"] = strings.Join(parts, "; ")
	}
	return f
}

// compareFigures lists every figure of want that the snapshot shows otherwise.
func compareFigures(snap estate.Snapshot, want map[string]figures) []string {
	var diffs []string
	shown := map[string]figures{}
	for _, s := range snap.Services {
		shown[s.Key()] = shownFigures(s)
	}
	for _, key := range slices.Sorted(maps.Keys(want)) {
		got, ok := shown[key]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: in the API, not on screen", key))
			continue
		}
		for _, field := range slices.Sorted(maps.Keys(want[key])) {
			if got[field] != want[key][field] {
				diffs = append(diffs, fmt.Sprintf("%s %s: shown %q, API %q", key, field, got[field], want[key][field]))
			}
		}
	}
	for key := range shown {
		if _, ok := want[key]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: on screen, not in the API", key))
		}
	}
	return diffs
}
