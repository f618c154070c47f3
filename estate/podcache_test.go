package estate

import (
	"fmt"
	appsv1 "k8s.io/api/apps/v1"
	"reflect"
	"testing"
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
	x.Usage = map[string]PodUsage{"fintech-prod/svc-1-rs-0": {Containers: map[string]Resources{"app": {CPU: 5}}}}
	check("new usage poll")
}
