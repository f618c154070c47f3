// Package ksm is the test harness's kube-state-metrics.
//
// The test harness's kube-state-metrics: the series kube-state-metrics v2 would expose for a
// cluster's objects, written in the Prometheus text format from objects read with client-go,
// by the metric names, labels and values its documentation gives
// (docs/metrics/workload/{deployment,statefulset,replicaset,pod,horizontalpodautoscaler}-metrics.md,
// docs/metrics/cluster/namespace-metrics.md). kube-state-metrics itself is not served by the
// module proxy here, so the harness stands in for it; it is test code, not product code, and
// shares nothing with cluster/fleetprom.go, which reads these series back.
package ksm

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Objects are the objects of one cluster, in every namespace, as kube-state-metrics' informers hold them.
type Objects struct {
	Namespaces   []corev1.Namespace
	Deployments  []appsv1.Deployment
	StatefulSets []appsv1.StatefulSet
	ReplicaSets  []appsv1.ReplicaSet
	Pods         []corev1.Pod
	HPAs         []autoscalingv2.HorizontalPodAutoscaler
}

// Read lists, with client-go, every object the harness writes series for.
func Read(ctx context.Context, cs kubernetes.Interface) (Objects, error) {
	var o Objects
	all := metav1.ListOptions{}
	ns, err := cs.CoreV1().Namespaces().List(ctx, all)
	if err != nil {
		return o, err
	}
	o.Namespaces = ns.Items
	d, err := cs.AppsV1().Deployments("").List(ctx, all)
	if err != nil {
		return o, err
	}
	o.Deployments = d.Items
	st, err := cs.AppsV1().StatefulSets("").List(ctx, all)
	if err != nil {
		return o, err
	}
	o.StatefulSets = st.Items
	rs, err := cs.AppsV1().ReplicaSets("").List(ctx, all)
	if err != nil {
		return o, err
	}
	o.ReplicaSets = rs.Items
	pods, err := cs.CoreV1().Pods("").List(ctx, all)
	if err != nil {
		return o, err
	}
	o.Pods = pods.Items
	hpas, err := cs.AutoscalingV2().HorizontalPodAutoscalers("").List(ctx, all)
	if err != nil {
		return o, err
	}
	o.HPAs = hpas.Items
	return o, nil
}

// expo collects samples by family and writes them in the text exposition format, each
// family's samples together after its HELP and TYPE lines, as the format requires.
type expo struct {
	order    []string
	types    map[string]string
	families map[string]*strings.Builder
}

// kv is one label.
type kv struct{ k, v string }

var labelEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func (e *expo) sample(name, typ string, value float64, labels ...kv) {
	b := e.families[name]
	if b == nil {
		b = &strings.Builder{}
		e.families[name], e.types[name] = b, typ
		e.order = append(e.order, name)
	}
	b.WriteString(name)
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.k)
		b.WriteString(`="`)
		b.WriteString(labelEscape.Replace(l.v))
		b.WriteByte('"')
	}
	b.WriteString("} ")
	b.WriteString(strconv.FormatFloat(value, 'g', -1, 64))
	b.WriteByte('\n')
}

func (e *expo) writeTo(w io.Writer) error {
	for _, name := range e.order {
		if _, err := fmt.Fprintf(w, "# HELP %s kube-state-metrics series written by the vigil test harness.\n# TYPE %s %s\n%s", name, name, e.types[name], e.families[name]); err != nil {
			return err
		}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// conditionSeries is kube-state-metrics' addConditionMetrics: one series per possible status,
// 1 on the one the condition has.
func conditionSeries(e *expo, name string, status string, labels ...kv) {
	for _, s := range []string{"true", "false", "unknown"} {
		e.sample(name, "gauge", b2f(strings.EqualFold(status, s)), append(labels, kv{"status", s})...)
	}
}

// Write writes o as kube-state-metrics would, families in a fixed order. Labels of
// workloads are exposed as if kube-state-metrics ran with
// --metric-labels-allowlist=deployments=[app,app.kubernetes.io/name],statefulsets=[…].
func Write(w io.Writer, o Objects) error {
	e := &expo{types: map[string]string{}, families: map[string]*strings.Builder{}}
	sort.Slice(o.Pods, func(i, j int) bool {
		return o.Pods[i].Namespace+"/"+o.Pods[i].Name < o.Pods[j].Namespace+"/"+o.Pods[j].Name
	})
	for _, ns := range o.Namespaces {
		e.sample("kube_namespace_created", "gauge", float64(ns.CreationTimestamp.Unix()), kv{"namespace", ns.Name})
	}
	allow := func(l map[string]string) []kv {
		var out []kv
		if v, ok := l["app"]; ok {
			out = append(out, kv{"label_app", v})
		}
		if v, ok := l["app.kubernetes.io/name"]; ok {
			out = append(out, kv{"label_app_kubernetes_io_name", v})
		}
		return out
	}
	for _, d := range o.Deployments {
		id := []kv{{"namespace", d.Namespace}, {"deployment", d.Name}}
		e.sample("kube_deployment_labels", "gauge", 1, append(id, allow(d.Labels)...)...)
		e.sample("kube_deployment_created", "gauge", float64(d.CreationTimestamp.Unix()), id...)
		if d.Spec.Replicas != nil {
			e.sample("kube_deployment_spec_replicas", "gauge", float64(*d.Spec.Replicas), id...)
		}
		e.sample("kube_deployment_spec_paused", "gauge", b2f(d.Spec.Paused), id...)
		e.sample("kube_deployment_metadata_generation", "gauge", float64(d.Generation), id...)
		e.sample("kube_deployment_status_observed_generation", "gauge", float64(d.Status.ObservedGeneration), id...)
		e.sample("kube_deployment_status_replicas", "gauge", float64(d.Status.Replicas), id...)
		e.sample("kube_deployment_status_replicas_ready", "gauge", float64(d.Status.ReadyReplicas), id...)
		e.sample("kube_deployment_status_replicas_available", "gauge", float64(d.Status.AvailableReplicas), id...)
		e.sample("kube_deployment_status_replicas_unavailable", "gauge", float64(d.Status.UnavailableReplicas), id...)
		e.sample("kube_deployment_status_replicas_updated", "gauge", float64(d.Status.UpdatedReplicas), id...)
		for _, c := range d.Status.Conditions {
			conditionSeries(e, "kube_deployment_status_condition", string(c.Status), append(id, kv{"reason", c.Reason}, kv{"condition", string(c.Type)})...)
		}
	}
	for _, s := range o.StatefulSets {
		id := []kv{{"namespace", s.Namespace}, {"statefulset", s.Name}}
		e.sample("kube_statefulset_labels", "gauge", 1, append(id, allow(s.Labels)...)...)
		if s.Spec.Replicas != nil {
			e.sample("kube_statefulset_replicas", "gauge", float64(*s.Spec.Replicas), id...)
		}
		e.sample("kube_statefulset_metadata_generation", "gauge", float64(s.Generation), id...)
		e.sample("kube_statefulset_status_observed_generation", "gauge", float64(s.Status.ObservedGeneration), id...)
		e.sample("kube_statefulset_status_replicas", "gauge", float64(s.Status.Replicas), id...)
		e.sample("kube_statefulset_status_replicas_ready", "gauge", float64(s.Status.ReadyReplicas), id...)
		e.sample("kube_statefulset_status_replicas_available", "gauge", float64(s.Status.AvailableReplicas), id...)
		e.sample("kube_statefulset_status_replicas_updated", "gauge", float64(s.Status.UpdatedReplicas), id...)
	}
	for _, rs := range o.ReplicaSets {
		id := []kv{{"namespace", rs.Namespace}, {"replicaset", rs.Name}}
		if rs.Spec.Replicas != nil {
			e.sample("kube_replicaset_spec_replicas", "gauge", float64(*rs.Spec.Replicas), id...)
		}
		owners := rs.OwnerReferences
		if len(owners) == 0 {
			e.sample("kube_replicaset_owner", "gauge", 1, append(id, kv{"owner_kind", "<none>"}, kv{"owner_name", "<none>"}, kv{"owner_is_controller", "<none>"})...)
		}
		for _, ref := range owners {
			e.sample("kube_replicaset_owner", "gauge", 1, append(id, kv{"owner_kind", ref.Kind}, kv{"owner_name", ref.Name}, kv{"owner_is_controller", strconv.FormatBool(ref.Controller != nil && *ref.Controller)})...)
		}
	}
	for _, p := range o.Pods {
		id := []kv{{"namespace", p.Namespace}, {"pod", p.Name}, {"uid", string(p.UID)}}
		owners := p.OwnerReferences
		if len(owners) == 0 {
			e.sample("kube_pod_owner", "gauge", 1, append(id, kv{"owner_kind", "<none>"}, kv{"owner_name", "<none>"}, kv{"owner_is_controller", "<none>"})...)
		}
		for _, ref := range owners {
			e.sample("kube_pod_owner", "gauge", 1, append(id, kv{"owner_kind", ref.Kind}, kv{"owner_name", ref.Name}, kv{"owner_is_controller", strconv.FormatBool(ref.Controller != nil && *ref.Controller)})...)
		}
		e.sample("kube_pod_created", "gauge", float64(p.CreationTimestamp.Unix()), id...)
		if p.DeletionTimestamp != nil {
			e.sample("kube_pod_deletion_timestamp", "gauge", float64(p.DeletionTimestamp.Unix()), id...)
		}
		for _, ph := range []corev1.PodPhase{corev1.PodPending, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown, corev1.PodRunning} {
			e.sample("kube_pod_status_phase", "gauge", b2f(p.Status.Phase == ph), append(id, kv{"phase", string(ph)})...)
		}
		for _, c := range p.Status.Conditions {
			switch c.Type {
			case corev1.PodReady:
				for _, s := range []string{"true", "false", "unknown"} {
					e.sample("kube_pod_status_ready", "gauge", b2f(strings.EqualFold(string(c.Status), s)), append(id, kv{"condition", s})...)
				}
			case corev1.PodScheduled:
				for _, s := range []string{"true", "false", "unknown"} {
					e.sample("kube_pod_status_scheduled", "gauge", b2f(strings.EqualFold(string(c.Status), s)), append(id, kv{"condition", s})...)
				}
				if c.Status == corev1.ConditionFalse {
					e.sample("kube_pod_status_unschedulable", "gauge", 1, id...)
				}
			}
		}
		containerSeries(e, "kube_pod_container", id, p.Status.ContainerStatuses, true)
		containerSeries(e, "kube_pod_init_container", id, p.Status.InitContainerStatuses, false)
	}
	for _, h := range o.HPAs {
		id := []kv{{"namespace", h.Namespace}, {"horizontalpodautoscaler", h.Name}}
		ref := h.Spec.ScaleTargetRef
		e.sample("kube_horizontalpodautoscaler_info", "gauge", 1, append(id, kv{"scaletargetref_api_version", ref.APIVersion}, kv{"scaletargetref_kind", ref.Kind}, kv{"scaletargetref_name", ref.Name})...)
		e.sample("kube_horizontalpodautoscaler_spec_max_replicas", "gauge", float64(h.Spec.MaxReplicas), id...)
		if h.Spec.MinReplicas != nil {
			e.sample("kube_horizontalpodautoscaler_spec_min_replicas", "gauge", float64(*h.Spec.MinReplicas), id...)
		}
		e.sample("kube_horizontalpodautoscaler_status_current_replicas", "gauge", float64(h.Status.CurrentReplicas), id...)
		e.sample("kube_horizontalpodautoscaler_status_desired_replicas", "gauge", float64(h.Status.DesiredReplicas), id...)
		for _, c := range h.Status.Conditions {
			conditionSeries(e, "kube_horizontalpodautoscaler_status_condition", string(c.Status), append(id, kv{"condition", string(c.Type)})...)
		}
	}
	return e.writeTo(w)
}

// containerSeries writes a pod's per-container families under prefix (kube_pod_container or
// kube_pod_init_container); lastTerminated adds the last termination's reason and time, which
// kube-state-metrics gives for regular containers.
func containerSeries(e *expo, prefix string, id []kv, statuses []corev1.ContainerStatus, lastTerminated bool) {
	for _, cs := range statuses {
		c := append(append([]kv(nil), id...), kv{"container", cs.Name})
		e.sample(prefix+"_status_restarts_total", "counter", float64(cs.RestartCount), c...)
		e.sample(prefix+"_status_ready", "gauge", b2f(cs.Ready), c...)
		e.sample(prefix+"_status_waiting", "gauge", b2f(cs.State.Waiting != nil), c...)
		if w := cs.State.Waiting; w != nil {
			e.sample(prefix+"_status_waiting_reason", "gauge", 1, append(c, kv{"reason", w.Reason})...)
		}
		e.sample(prefix+"_status_running", "gauge", b2f(cs.State.Running != nil), c...)
		e.sample(prefix+"_status_terminated", "gauge", b2f(cs.State.Terminated != nil), c...)
		if t := cs.LastTerminationState.Terminated; t != nil && lastTerminated {
			e.sample(prefix+"_status_last_terminated_reason", "gauge", 1, append(c, kv{"reason", t.Reason})...)
			e.sample(prefix+"_status_last_terminated_timestamp", "gauge", float64(t.FinishedAt.Unix()), c...)
		}
	}
}
