package cluster

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/testdata/ksm"
)

// genCluster generates a cluster's objects from seed: Deployments and StatefulSets in every
// state health derivation tells apart (scaled to zero, none ready, some ready, rolling out,
// paused, past the progress deadline, not yet observed), pods Running, Pending, Failed or
// terminating, ready or not, unschedulable, waiting in a failing reason or not, OOM-killed
// recently or long ago, old or not yet started, and HPAs at their maximum or unable to scale;
// in two watched namespaces and one that is not.
func genCluster(seed uint64, now time.Time) ksm.Objects {
	r := rand.New(rand.NewPCG(seed, 17))
	var o ksm.Objects
	nss := []string{"fintech-prod", "fintech-staging", "kube-system"}
	for _, ns := range nss {
		o.Namespaces = append(o.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, CreationTimestamp: metav1.NewTime(now.Add(-48 * time.Hour))}})
	}
	controller := true
	ages := []time.Duration{-10 * time.Minute, 10 * time.Minute, time.Hour} // not yet started, past every grace
	waiting := []string{"", "", "", "CrashLoopBackOff", "ImagePullBackOff", "ContainerCreating", "CreateContainerError", "ErrImagePull"}
	pod := func(ns, name, ownerKind, ownerName string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(fmt.Sprintf("uid-%s-%s", ns, name)),
			CreationTimestamp: metav1.NewTime(now.Add(-ages[r.IntN(len(ages))]).Truncate(time.Second)),
			OwnerReferences:   []metav1.OwnerReference{{Kind: ownerKind, Name: ownerName, Controller: &controller}}}}
		p.Status.Phase = []corev1.PodPhase{corev1.PodRunning, corev1.PodRunning, corev1.PodRunning, corev1.PodPending, corev1.PodFailed}[r.IntN(5)]
		if r.IntN(10) == 0 {
			t := metav1.NewTime(now.Add(-5 * time.Second).Truncate(time.Second))
			p.DeletionTimestamp = &t
		}
		if r.IntN(8) == 0 {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable})
		} else if r.IntN(6) > 0 {
			st := corev1.ConditionTrue
			if r.IntN(3) == 0 {
				st = corev1.ConditionFalse
			}
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: st})
		}
		cs := corev1.ContainerStatus{Name: "app", RestartCount: int32(r.IntN(4))}
		if w := waiting[r.IntN(len(waiting))]; w != "" {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w}
		}
		switch r.IntN(6) {
		case 0:
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", FinishedAt: metav1.NewTime(now.Add(-5 * time.Minute).Truncate(time.Second))}
		case 1:
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", FinishedAt: metav1.NewTime(now.Add(-2 * time.Hour).Truncate(time.Second))}
		case 2:
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", FinishedAt: metav1.NewTime(now.Add(-time.Minute).Truncate(time.Second))}
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
		if r.IntN(12) == 0 {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting[3+r.IntN(len(waiting)-3)]}}}}
		}
		return p
	}
	for i := range 24 {
		ns := nss[r.IntN(len(nss))]
		name := fmt.Sprintf("svc-%02d", i)
		want := int32(r.IntN(4))
		gen := int64(1 + r.IntN(3))
		d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: gen, Labels: map[string]string{"app": name}}}
		d.Spec.Replicas = &want
		d.Spec.Paused = r.IntN(10) == 0
		d.Status.ObservedGeneration = []int64{0, gen - 1, gen, gen, gen}[r.IntN(5)]
		d.Status.ReadyReplicas = int32(r.IntN(int(want) + 2))
		d.Status.UpdatedReplicas = int32(r.IntN(int(want) + 1))
		d.Status.AvailableReplicas = min(d.Status.ReadyReplicas, int32(r.IntN(int(want)+2)))
		if r.IntN(3) == 0 { // the common case: everything in order
			d.Status.ObservedGeneration, d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = gen, want, want, want
		}
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}
		if r.IntN(10) == 0 {
			d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"})
		}
		o.Deployments = append(o.Deployments, d)
		rs := appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-7d9f", OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: name, Controller: &controller}}}}
		rs.Spec.Replicas = &want
		o.ReplicaSets = append(o.ReplicaSets, rs)
		for j := range r.IntN(int(want) + 2) {
			o.Pods = append(o.Pods, pod(ns, fmt.Sprintf("%s-7d9f-%d", name, j), "ReplicaSet", rs.Name))
		}
		if r.IntN(4) == 0 {
			maxR := int32(1 + r.IntN(5))
			h := autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: name, APIVersion: "apps/v1"}, MaxReplicas: maxR}}
			h.Status.CurrentReplicas = maxR - int32(r.IntN(2))
			if r.IntN(3) == 0 {
				h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetResourceMetric"}}
			}
			o.HPAs = append(o.HPAs, h)
		}
	}
	for i := range 6 {
		ns := nss[r.IntN(len(nss))]
		name := fmt.Sprintf("db-%d", i)
		want := int32(r.IntN(4))
		st := appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}}
		st.Spec.Replicas = &want
		st.Status.ObservedGeneration = int64(r.IntN(2))
		st.Status.ReadyReplicas = int32(r.IntN(int(want) + 1))
		st.Status.UpdatedReplicas = int32(r.IntN(int(want) + 1))
		o.StatefulSets = append(o.StatefulSets, st)
		for j := range r.IntN(int(want) + 1) {
			o.Pods = append(o.Pods, pod(ns, fmt.Sprintf("%s-%d", name, j), "StatefulSet", name))
		}
	}
	return o
}

// watchedObjects is what a LIST pass of the namespaces s watches reads of o.
func watchedObjects(o ksm.Objects, s config.Settings) estate.Objects {
	watched := map[string]bool{}
	for _, ns := range s.Namespaces {
		watched[ns] = true
	}
	var objs estate.Objects
	for i := range o.Deployments {
		if watched[o.Deployments[i].Namespace] {
			objs.Deployments = append(objs.Deployments, &o.Deployments[i])
		}
	}
	for i := range o.StatefulSets {
		if watched[o.StatefulSets[i].Namespace] {
			objs.StatefulSets = append(objs.StatefulSets, &o.StatefulSets[i])
		}
	}
	for i := range o.ReplicaSets {
		if watched[o.ReplicaSets[i].Namespace] {
			objs.ReplicaSets = append(objs.ReplicaSets, &o.ReplicaSets[i])
		}
	}
	for i := range o.Pods {
		if watched[o.Pods[i].Namespace] {
			objs.Pods = append(objs.Pods, &o.Pods[i])
		}
	}
	for i := range o.HPAs {
		if watched[o.HPAs[i].Namespace] {
			objs.HPAs = append(objs.HPAs, &o.HPAs[i])
		}
	}
	objs.SortObjects()
	return objs
}

// services lists every service's health, one per line, in the snapshot's order.
func services(snap estate.Snapshot) string {
	var b strings.Builder
	for _, s := range snap.Services {
		fmt.Fprintf(&b, "%s/%s %s %s (%d/%d ready)\n", s.Namespace, s.Name, s.Kind, s.Health.Status, s.Ready, s.Desired)
	}
	return b.String()
}

// TestPromFleetMatchesObjects is a property test of the Prometheus fleet source (issue 17):
// for generated clusters (seeded), the health of every service and the fleet row derived
// from kube-state-metrics series, as the real Prometheus serves them after scraping the test
// harness's exposition of the objects (testdata/ksm), equal what the LIST source derives from
// the objects themselves, alerts included (a rule Prometheus evaluates over the series, read
// by the LIST side through /api/v1/alerts as a LIST pass does).
func TestPromFleetMatchesObjects(t *testing.T) {
	start := time.Now()
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	clusters := map[string]ksm.Objects{}
	var names []string
	for _, seed := range seeds {
		name := fmt.Sprintf("gen-%d", seed)
		clusters[name] = genCluster(seed, start)
		names = append(names, name)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, ok := clusters[strings.TrimPrefix(r.URL.Path, "/metrics/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		if err := ksm.Write(&buf, o); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(buf.Bytes())
	}))
	defer srv.Close()
	prom := ksm.StartPrometheus(t, srv.URL, names, `groups:
- name: fleet-test
  rules:
  - alert: DeploymentReplicasMissing
    expr: kube_deployment_spec_replicas > kube_deployment_status_replicas_available
    labels: {severity: warning}
`)
	pf, err := NewPromFleet(prom, config.DefaultClusterLabel, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	settings := func(cluster string) config.Settings {
		s := config.Default().For(cluster)
		s.Namespaces = []string{"fintech-prod", "fintech-staging"}
		s.Prometheus = prom
		s.AlertLabels.Service = []string{"deployment", "statefulset", "app"}
		s.AlertLabels.Match = map[string]string{"cluster": cluster}
		return s
	}
	targets := make([]FleetTarget, len(names))
	for i, n := range names {
		targets[i] = FleetTarget{Context: n, Settings: settings(n)}
	}
	ctx := context.Background()
	var diff string
	for attempt := 0; attempt < 30; attempt++ {
		now := time.Now()
		snaps, errs := pf.Snapshots(ctx, targets, now)
		diff = ""
		for i, n := range names {
			if errs[i] != nil {
				diff += fmt.Sprintf("%s: %v\n", n, errs[i])
				continue
			}
			s := settings(n)
			want := assembleFleet(watchedObjects(clusters[n], s), pollAlertsOnce(ctx, s), s, now)
			we := estate.FleetEntryFromSnapshot(estate.FleetEntry{Context: n, Firing: -1}, want, now)
			ge := estate.FleetEntryFromSnapshot(estate.FleetEntry{Context: n, Firing: -1}, snaps[i], now)
			if we.Firing <= 0 {
				diff += fmt.Sprintf("%s: the LIST side sees %d firing alerts, want some (the rule has not fired yet?)\n", n, we.Firing)
			}
			if w, g := services(want), services(snaps[i]); w != g {
				diff += fmt.Sprintf("%s services\n--- from the objects ---\n%s--- from prometheus ---\n%s", n, w, g)
			}
			row := func(e estate.FleetEntry) string {
				return fmt.Sprintf("services=%d ok=%d progressing=%d degraded=%d down=%d unknown=%d firing=%d worst=%q", e.Services, e.OK, e.Progressing, e.Degraded, e.Down, e.Unknown, e.Firing, e.Worst)
			}
			if row(we) != row(ge) {
				diff += fmt.Sprintf("%s row\n  objects    %s\n  prometheus %s\n", n, row(we), row(ge))
			}
			if attempt > 0 && diff == "" && i == len(names)-1 {
				t.Logf("%s: %s", n, row(ge))
			}
		}
		if diff == "" {
			for i, n := range names {
				e := estate.FleetEntryFromSnapshot(estate.FleetEntry{}, snaps[i], now)
				t.Logf("%s: services=%d ok=%d progressing=%d degraded=%d down=%d unknown=%d firing=%d", n, e.Services, e.OK, e.Progressing, e.Degraded, e.Down, e.Unknown, e.Firing)
			}
			return
		}
		time.Sleep(time.Second) // until every cluster is scraped and the rule evaluated
	}
	t.Fatalf("the Prometheus fleet source differs from the objects:\n%s", diff)
}
