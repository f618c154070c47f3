package cluster

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// FleetTarget is one context a fleet Prometheus summarises: its name and settings (watched
// namespaces, alert labels, fleet cluster label).
type FleetTarget struct {
	// Context is the kube context's name.
	Context string
	// Settings are the context's settings (config.Config.For).
	Settings config.Settings
}

// PromFleet reads the fleet summary of many contexts from kube-state-metrics series in one
// Prometheus: a fixed set of instant queries for all of them at once, whatever their number,
// instead of one LIST pass per context.
type PromFleet struct {
	// URL is the Prometheus base URL; Label the label naming each series' cluster.
	URL, Label string
	api        promv1.API
}

// NewPromFleet returns a fleet source over the Prometheus at address, whose series name their
// cluster in label, querying through hc (GET only, so read-only mode loses nothing).
func NewPromFleet(address, label string, hc *http.Client) (*PromFleet, error) {
	pc, err := newPrometheusClient(address, hc)
	if err != nil {
		return nil, fmt.Errorf("fleet prometheus %s: %w", address, err)
	}
	return &PromFleet{URL: address, Label: label, api: promv1.NewAPI(pc)}, nil
}

// The kube-state-metrics series the fleet summary is rebuilt from, by the names its
// documentation gives (docs/metrics/workload/*-metrics.md). Pods are read only when in
// trouble (troubledPods).
const (
	ksmDeployment  = `kube_deployment_(labels|spec_replicas|spec_paused|metadata_generation|status_replicas_ready|status_replicas_updated|status_replicas_available|status_observed_generation)`
	ksmStatefulSet = `kube_statefulset_(labels|replicas|metadata_generation|status_replicas_ready|status_replicas_updated|status_replicas_available|status_observed_generation)`
	ksmPod         = `kube_pod_(owner|created|deletion_timestamp|status_phase|status_ready|status_unschedulable|container_status_waiting_reason|init_container_status_waiting_reason|container_status_restarts_total|init_container_status_restarts_total|container_status_last_terminated_reason|container_status_last_terminated_timestamp)`
	ksmHPA         = `kube_horizontalpodautoscaler_(info|spec_max_replicas|spec_min_replicas|status_current_replicas|status_desired_replicas|status_condition)`
)

// fleetQueries are the PromQL queries of one pass; sel selects the clusters, ns the namespaces.
func fleetQueries(label, sel, ns string) map[string]string {
	both := sel + "," + ns
	return map[string]string{
		"clusters":     fmt.Sprintf(`group by (%s) (kube_namespace_created{%s})`, label, sel),
		"deployments":  fmt.Sprintf(`{__name__=~%q,%s}`, ksmDeployment, both),
		"deadlines":    fmt.Sprintf(`kube_deployment_status_condition{condition="Progressing",status="false",reason="ProgressDeadlineExceeded",%s} == 1`, both),
		"statefulsets": fmt.Sprintf(`{__name__=~%q,%s}`, ksmStatefulSet, both),
		"replicasets":  fmt.Sprintf(`kube_replicaset_owner{owner_kind="Deployment",owner_is_controller="true",%s}`, both),
		"pods":         fmt.Sprintf(`{__name__=~%q,%s} and on(%s,namespace,pod) (%s)`, ksmPod, both, label, troubledPods(label, both)),
		"hpas":         fmt.Sprintf(`{__name__=~%q,%s}`, ksmHPA, both),
		"alerts":       fmt.Sprintf(`ALERTS{alertstate="firing",%s}`, sel),
	}
}

// troubledPods selects the pods that can change a service's health: not ready, a container
// waiting, Failed, unschedulable, or OOM-killed (its last state). A ready pod with none of
// these counts for nothing, so it is not read: the answer grows with the trouble, not the fleet.
func troubledPods(label, sel string) string {
	on := "on(" + label + ",namespace,pod)"
	return strings.Join([]string{
		fmt.Sprintf(`(kube_pod_created{%s} unless %s (kube_pod_status_ready{condition="true",%s} == 1))`, sel, on, sel),
		fmt.Sprintf(`kube_pod_container_status_waiting_reason{%s}`, sel),
		fmt.Sprintf(`kube_pod_init_container_status_waiting_reason{%s}`, sel),
		fmt.Sprintf(`(kube_pod_status_phase{phase="Failed",%s} == 1)`, sel),
		fmt.Sprintf(`kube_pod_status_unschedulable{%s}`, sel),
		fmt.Sprintf(`kube_pod_container_status_last_terminated_reason{reason="OOMKilled",%s}`, sel),
	}, " or "+on+" ")
}

// matchAny is a label matcher for any of values, exactly.
func matchAny(label string, values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return label + "=~" + strconv.Quote(strings.Join(quoted, "|"))
}

// Snapshots summarises targets from their series at now: per target, the snapshot
// estate.Assemble builds from the objects the series describe (the derivation a live session
// and the LIST source use), or why that target has none. A failed query fails every target
// of the pass with the same one-line error; a target whose cluster has no series, or whose
// namespaces are picked by a selector, fails alone.
func (p *PromFleet) Snapshots(ctx context.Context, targets []FleetTarget, now time.Time) ([]estate.Snapshot, []error) {
	snaps := make([]estate.Snapshot, len(targets))
	errs := make([]error, len(targets))
	var clusters, namespaces []string
	for i, t := range targets {
		if len(t.Settings.Namespaces) == 0 {
			errs[i] = fmt.Errorf("namespaceSelector %q: the Prometheus fleet source needs namespaces listed (kube-state-metrics keeps no namespace labels by default)", t.Settings.NamespaceSelector)
			continue
		}
		clusters = append(clusters, t.Settings.FleetCluster(t.Context))
		namespaces = append(namespaces, t.Settings.Namespaces...)
	}
	if len(clusters) == 0 {
		return snaps, errs
	}
	slices.Sort(clusters)
	slices.Sort(namespaces)
	queries := fleetQueries(p.Label, matchAny(p.Label, slices.Compact(clusters)), matchAny("namespace", slices.Compact(namespaces)))
	results := make(map[string]model.Vector, len(queries))
	var mu sync.Mutex
	var failed error
	var wg sync.WaitGroup
	for name, q := range queries {
		wg.Go(func() {
			v, err := p.query(ctx, q, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failed == nil {
					failed = fmt.Errorf("prometheus %s: %s query: %s", p.URL, name, oneLine(Explain(err)))
				}
				return
			}
			results[name] = v
		})
	}
	wg.Wait()
	for i := range targets {
		if errs[i] == nil && failed != nil {
			errs[i] = failed
		}
	}
	if failed != nil {
		return snaps, errs
	}
	present := map[string]bool{}
	for _, s := range results["clusters"] {
		present[string(s.Metric[model.LabelName(p.Label)])] = true
	}
	byCluster := p.split(results)
	for i, t := range targets {
		if errs[i] != nil {
			continue
		}
		c := t.Settings.FleetCluster(t.Context)
		if !present[c] {
			errs[i] = fmt.Errorf("no kube-state-metrics series with %s=%q in %s (set contexts.%s.fleet.cluster to its %s label)", p.Label, c, p.URL, t.Context, p.Label)
			continue
		}
		snaps[i] = assembleFromSeries(byCluster[c], t.Settings, now)
	}
	return snaps, errs
}

func (p *PromFleet) query(ctx context.Context, q string, now time.Time) (model.Vector, error) {
	val, _, _, err := p.api.Query(ctx, q, now)
	if err != nil {
		return nil, err
	}
	v, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("want an instant vector, got a %s", val.Type())
	}
	return v, nil
}

// oneLine keeps an error to the row it is shown in.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// split files each result's series under its cluster label.
func (p *PromFleet) split(results map[string]model.Vector) map[string]map[string]model.Vector {
	out := map[string]map[string]model.Vector{}
	for name, v := range results {
		for _, s := range v {
			c := string(s.Metric[model.LabelName(p.Label)])
			if out[c] == nil {
				out[c] = map[string]model.Vector{}
			}
			out[c][name] = append(out[c][name], s)
		}
	}
	return out
}

// assembleFromSeries rebuilds, from one cluster's series, the objects a LIST pass would have
// read (only the fields health derivation looks at), in the context's watched namespaces, and
// assembles them as FleetSnapshot does.
func assembleFromSeries(series map[string]model.Vector, s config.Settings, now time.Time) estate.Snapshot {
	watched := map[string]bool{}
	for _, ns := range s.Namespaces {
		watched[ns] = true
	}
	keep := func(m model.Metric) bool { return watched[string(m["namespace"])] }
	objs := estate.Objects{}

	deployments := map[string]*appsv1.Deployment{}
	deployment := func(m model.Metric) *appsv1.Deployment {
		key := string(m["namespace"]) + "/" + string(m["deployment"])
		d := deployments[key]
		if d == nil {
			one := int32(1)
			d = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: string(m["namespace"]), Name: string(m["deployment"])}, Spec: appsv1.DeploymentSpec{Replicas: &one}}
			deployments[key] = d
		}
		return d
	}
	for _, x := range series["deployments"] {
		if !keep(x.Metric) {
			continue
		}
		d, n := deployment(x.Metric), int32(x.Value)
		switch x.Metric[model.MetricNameLabel] {
		case "kube_deployment_labels":
			d.Labels = joinLabels(x.Metric)
		case "kube_deployment_spec_replicas":
			d.Spec.Replicas = &n
		case "kube_deployment_spec_paused":
			d.Spec.Paused = n == 1
		case "kube_deployment_metadata_generation":
			d.Generation = int64(x.Value)
		case "kube_deployment_status_observed_generation":
			d.Status.ObservedGeneration = int64(x.Value)
		case "kube_deployment_status_replicas_ready":
			d.Status.ReadyReplicas = n
		case "kube_deployment_status_replicas_updated":
			d.Status.UpdatedReplicas = n
		case "kube_deployment_status_replicas_available":
			d.Status.AvailableReplicas = n
		}
	}
	for _, x := range series["deadlines"] {
		if d := deployments[string(x.Metric["namespace"])+"/"+string(x.Metric["deployment"])]; d != nil {
			d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"})
		}
	}
	for _, d := range deployments {
		objs.Deployments = append(objs.Deployments, d)
	}

	statefulsets := map[string]*appsv1.StatefulSet{}
	for _, x := range series["statefulsets"] {
		if !keep(x.Metric) {
			continue
		}
		key := string(x.Metric["namespace"]) + "/" + string(x.Metric["statefulset"])
		st := statefulsets[key]
		if st == nil {
			one := int32(1)
			st = &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: string(x.Metric["namespace"]), Name: string(x.Metric["statefulset"])}, Spec: appsv1.StatefulSetSpec{Replicas: &one}}
			statefulsets[key] = st
		}
		n := int32(x.Value)
		switch x.Metric[model.MetricNameLabel] {
		case "kube_statefulset_labels":
			st.Labels = joinLabels(x.Metric)
		case "kube_statefulset_replicas":
			st.Spec.Replicas = &n
		case "kube_statefulset_metadata_generation":
			st.Generation = int64(x.Value)
		case "kube_statefulset_status_observed_generation":
			st.Status.ObservedGeneration = int64(x.Value)
		case "kube_statefulset_status_replicas_ready":
			st.Status.ReadyReplicas = n
		case "kube_statefulset_status_replicas_updated":
			st.Status.UpdatedReplicas = n
		case "kube_statefulset_status_replicas_available":
			st.Status.AvailableReplicas = n
		}
	}
	for _, st := range statefulsets {
		objs.StatefulSets = append(objs.StatefulSets, st)
	}

	controller := true
	for _, x := range series["replicasets"] {
		if !keep(x.Metric) {
			continue
		}
		objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
			Namespace: string(x.Metric["namespace"]), Name: string(x.Metric["replicaset"]),
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: string(x.Metric["owner_name"]), Controller: &controller}},
		}})
	}

	objs.Pods = podsFromSeries(series["pods"], keep)
	objs.HPAs = hpasFromSeries(series["hpas"], keep)
	objs.SortObjects()

	alerts := estate.AlertsView{Prometheus: estate.AlertSource{URL: "fleet", Configured: true, Available: true, LastSuccess: now}}
	for _, x := range series["alerts"] {
		labels := map[string]string{}
		for k, v := range x.Metric {
			if k != model.MetricNameLabel && k != "alertstate" {
				labels[string(k)] = string(v)
			}
		}
		if !s.AlertLabels.Keeps(labels) {
			continue
		}
		alerts.Alerts = append(alerts.Alerts, estate.Alert{Name: labels["alertname"], State: "firing", Severity: labels["severity"], Labels: labels, Source: "prometheus"})
	}

	return assembleFleet(objs, alerts, s, now)
}

// joinLabels returns the workload labels alerts are joined by (app, app.kubernetes.io/name)
// from kube_*_labels, where kube-state-metrics writes them only when allowed
// (--metric-labels-allowlist), as label_app and label_app_kubernetes_io_name.
func joinLabels(m model.Metric) map[string]string {
	out := map[string]string{}
	if v := m["label_app"]; v != "" {
		out["app"] = string(v)
	}
	if v := m["label_app_kubernetes_io_name"]; v != "" {
		out["app.kubernetes.io/name"] = string(v)
	}
	return out
}

// podsFromSeries rebuilds the pods the series describe: owner, phase, Ready and PodScheduled
// conditions, containers' waiting reasons, restarts and last terminations, creation and
// deletion times.
func podsFromSeries(v model.Vector, keep func(model.Metric) bool) []*corev1.Pod {
	pods := map[string]*corev1.Pod{}
	type cKey struct {
		pod, name string
		init      bool
	}
	containers := map[cKey]*corev1.ContainerStatus{}
	container := func(p *corev1.Pod, m model.Metric, init bool) *corev1.ContainerStatus {
		k := cKey{p.Namespace + "/" + p.Name, string(m["container"]), init}
		c := containers[k]
		if c == nil {
			c = &corev1.ContainerStatus{Name: k.name}
			containers[k] = c
		}
		return c
	}
	controller := true
	var finished []model.Sample
	for _, x := range v {
		m := x.Metric
		if !keep(m) {
			continue
		}
		key := string(m["namespace"]) + "/" + string(m["pod"])
		p := pods[key]
		if p == nil {
			p = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: string(m["namespace"]), Name: string(m["pod"])}}
			pods[key] = p
		}
		switch m[model.MetricNameLabel] {
		case "kube_pod_owner":
			if m["owner_is_controller"] == "true" {
				p.OwnerReferences = []metav1.OwnerReference{{Kind: string(m["owner_kind"]), Name: string(m["owner_name"]), Controller: &controller}}
			}
		case "kube_pod_created":
			p.CreationTimestamp = metav1.NewTime(time.Unix(int64(x.Value), 0))
		case "kube_pod_deletion_timestamp":
			t := metav1.NewTime(time.Unix(int64(x.Value), 0))
			p.DeletionTimestamp = &t
		case "kube_pod_status_phase":
			if x.Value == 1 {
				p.Status.Phase = corev1.PodPhase(m["phase"])
			}
		case "kube_pod_status_ready":
			if x.Value == 1 {
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionStatus(conditionStatus(string(m["condition"])))})
			}
		case "kube_pod_status_unschedulable":
			// kube-state-metrics sets it for PodScheduled=False, whatever the reason.
			if x.Value == 1 {
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable})
			}
		case "kube_pod_container_status_waiting_reason", "kube_pod_init_container_status_waiting_reason":
			if x.Value == 1 {
				c := container(p, m, m[model.MetricNameLabel] == "kube_pod_init_container_status_waiting_reason")
				c.State.Waiting = &corev1.ContainerStateWaiting{Reason: string(m["reason"])}
			}
		case "kube_pod_container_status_restarts_total", "kube_pod_init_container_status_restarts_total":
			container(p, m, m[model.MetricNameLabel] == "kube_pod_init_container_status_restarts_total").RestartCount = int32(x.Value)
		case "kube_pod_container_status_last_terminated_reason":
			if x.Value == 1 {
				c := container(p, m, false)
				if c.LastTerminationState.Terminated == nil {
					c.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{}
				}
				c.LastTerminationState.Terminated.Reason = string(m["reason"])
			}
		case "kube_pod_container_status_last_terminated_timestamp":
			finished = append(finished, *x)
		}
	}
	for _, x := range finished {
		m := x.Metric
		c := containers[cKey{string(m["namespace"]) + "/" + string(m["pod"]), string(m["container"]), false}]
		if c == nil || c.LastTerminationState.Terminated == nil {
			continue
		}
		c.LastTerminationState.Terminated.FinishedAt = metav1.NewTime(time.Unix(int64(x.Value), 0))
	}
	keys := make([]cKey, 0, len(containers))
	for k := range containers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].name < keys[j].name })
	for _, k := range keys {
		p := pods[k.pod]
		if k.init {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, *containers[k])
		} else {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, *containers[k])
		}
	}
	out := make([]*corev1.Pod, 0, len(pods))
	for _, p := range pods {
		out = append(out, p)
	}
	return out
}

// conditionStatus maps kube-state-metrics' condition label (true, false, unknown) to the API's.
func conditionStatus(s string) corev1.ConditionStatus {
	switch s {
	case "true":
		return corev1.ConditionTrue
	case "false":
		return corev1.ConditionFalse
	}
	return corev1.ConditionUnknown
}

// hpasFromSeries rebuilds the HPAs the series describe: target, bounds, replicas, conditions.
func hpasFromSeries(v model.Vector, keep func(model.Metric) bool) []*autoscalingv2.HorizontalPodAutoscaler {
	hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	for _, x := range v {
		m := x.Metric
		if !keep(m) {
			continue
		}
		key := string(m["namespace"]) + "/" + string(m["horizontalpodautoscaler"])
		h := hpas[key]
		if h == nil {
			h = &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: string(m["namespace"]), Name: string(m["horizontalpodautoscaler"])}}
			hpas[key] = h
		}
		n := int32(x.Value)
		switch m[model.MetricNameLabel] {
		case "kube_horizontalpodautoscaler_info":
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Kind: string(m["scaletargetref_kind"]), Name: string(m["scaletargetref_name"]), APIVersion: string(m["scaletargetref_api_version"])}
		case "kube_horizontalpodautoscaler_spec_max_replicas":
			h.Spec.MaxReplicas = n
		case "kube_horizontalpodautoscaler_spec_min_replicas":
			h.Spec.MinReplicas = &n
		case "kube_horizontalpodautoscaler_status_current_replicas":
			h.Status.CurrentReplicas = n
		case "kube_horizontalpodautoscaler_status_desired_replicas":
			h.Status.DesiredReplicas = n
		case "kube_horizontalpodautoscaler_status_condition":
			if x.Value == 1 {
				h.Status.Conditions = append(h.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
					Type: autoscalingv2.HorizontalPodAutoscalerConditionType(m["condition"]), Status: conditionStatus(string(m["status"]))})
			}
		}
	}
	out := make([]*autoscalingv2.HorizontalPodAutoscaler, 0, len(hpas))
	for _, h := range hpas {
		sort.Slice(h.Status.Conditions, func(i, j int) bool { return h.Status.Conditions[i].Type < h.Status.Conditions[j].Type })
		out = append(out, h)
	}
	return out
}
