package estate

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestIncrementalBuildMatchesFull: builds that reuse what earlier builds
// derived (pods changed, added, removed, moved to a new usage poll) give the
// snapshot a build from scratch gives.
func TestIncrementalBuildMatchesFull(t *testing.T) {
	var objs Objects
	for d := range 3 {
		name := fmt.Sprintf("svc-%d", d)
		objs.Deployments = append(objs.Deployments, deployment("fintech-prod", name, 4, 4, 4))
		rs := name + "-rs"
		objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", rs, ownedBy("Deployment", name))})
		for p := range 4 {
			objs.Pods = append(objs.Pods, pod("fintech-prod", fmt.Sprintf("%s-%d", rs, p), ownedBy("ReplicaSet", rs), true))
		}
	}
	x := Extras{Pods: NewPodCache()}
	check := func(step string) {
		t.Helper()
		var incr, full Snapshot
		Assemble(&incr, objs, x, testNow)
		x2 := x
		x2.Pods = nil
		Assemble(&full, objs, x2, testNow)
		if !reflect.DeepEqual(incr.Services, full.Services) {
			t.Fatalf("%s: incremental build differs from a full one:\n%+v\n%+v", step, incr.Services, full.Services)
		}
	}
	check("first")
	check("unchanged")
	objs.Pods[1] = pod("fintech-prod", objs.Pods[1].Name, ownedBy("ReplicaSet", "svc-0-rs"), false, crashing(3, "OOMKilled"))
	check("one pod changed")
	objs.Pods = append(objs.Pods[:5], objs.Pods[6:]...)
	check("one pod removed")
	objs.Pods = append(objs.Pods, pod("fintech-prod", "svc-2-rs-new", ownedBy("ReplicaSet", "svc-2-rs"), true))
	check("one pod added")
	x.Usage = PodUsages{"fintech-prod": {"svc-1-rs-0": {Containers: []ContainerUsage{{Name: "app", Resources: Resources{CPU: 5}}}}}}
	check("new usage poll")
}

// TestParallelGroupingEqualsPlain: a build with enough new pods to derive
// them on every core (parallelDerive) shows each pod with the info
// PodInfoOf derives from it, in each workload's pods in name order, with
// the usage of the build.
func TestParallelGroupingEqualsPlain(t *testing.T) {
	var objs Objects
	usage := PodUsages{}
	byName := map[string]*corev1.Pod{}
	for d := range 60 {
		name := fmt.Sprintf("svc-%02d", d)
		objs.Deployments = append(objs.Deployments, deployment("fintech-prod", name, 50, 50, 50))
		rs := name + "-rs"
		objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", rs, ownedBy("Deployment", name))})
		for p := range 50 {
			po := pod("fintech-prod", fmt.Sprintf("%s-%02d", rs, (p*17)%50), ownedBy("ReplicaSet", rs), p%7 != 0)
			if p%3 == 0 {
				po.Status.ContainerStatuses = []corev1.ContainerStatus{crashing(int32(p), "OOMKilled")}
				usage.Set(po.Namespace, po.Name, PodUsage{Containers: []ContainerUsage{{Name: "app", Resources: Resources{CPU: int64(p)}}}})
			}
			objs.Pods = append(objs.Pods, po)
			byName[po.Name] = po
		}
	}
	if len(objs.Pods) < parallelDerive {
		t.Fatalf("%d pods: fewer than parallelDerive (%d)", len(objs.Pods), parallelDerive)
	}
	var snap Snapshot
	Assemble(&snap, objs, Extras{Pods: NewPodCache(), Usage: usage}, testNow)
	shown := 0
	for _, s := range snap.Services {
		if !slices.IsSortedFunc(s.Pods, func(a, b PodInfo) int { return strings.Compare(a.Name, b.Name) }) {
			t.Fatalf("%s: pods not in name order", s.Key())
		}
		for _, got := range s.Pods {
			if want := PodInfoOf(byName[got.Name], usage); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: pod %s is\n%+v\nPodInfoOf gives\n%+v", s.Key(), got.Name, got, want)
			}
			shown++
		}
	}
	if shown != len(objs.Pods) {
		t.Fatalf("%d pods shown, %d listed", shown, len(objs.Pods))
	}
}
