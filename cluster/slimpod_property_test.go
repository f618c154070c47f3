package cluster

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/estate"
)

// podGen makes random pods of a small estate: few names and values, so
// that the slimmer's pools see many equal and many nearly equal parts (the
// case where a wrong pool key shares one pod's part with another).
type podGen struct {
	r *rand.Rand
}

var (
	genQuantities = map[corev1.ResourceName][]string{
		corev1.ResourceCPU:              {"50m", "100m", "0.1", "250m", "500m", "0.5", "1", "1000m", "2", "1500m", "1e0", "2e-1"},
		corev1.ResourceMemory:           {"64Mi", "128Mi", "134217728", "256Mi", "0.5Gi", "512Mi", "1Gi", "1G", "1024Mi"},
		corev1.ResourceEphemeralStorage: {"1Gi", "2Gi"},
		"nvidia.com/gpu":                {"1", "2"},
	}
	genWaiting = []string{"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ContainerCreating", "CreateContainerConfigError", "PodInitializing"}
	genLast    = []string{"OOMKilled", "Error", "Completed"}
)

func (g podGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g podGen) resources() corev1.ResourceList {
	if g.r.IntN(5) == 0 {
		return nil
	}
	l := corev1.ResourceList{}
	for _, name := range slices.Sorted(maps.Keys(genQuantities)) { // sorted: a seed makes one estate
		values := genQuantities[name]
		if g.r.IntN(3) > 0 || name == corev1.ResourceCPU && g.r.IntN(2) == 0 {
			l[name] = kresource.MustParse(g.pick(values))
		}
	}
	return l
}

func (g podGen) containers(n int) []corev1.Container {
	cs := make([]corev1.Container, n)
	for i := range cs {
		name := g.pick([]string{"app", "proxy", "istio-proxy", "sidecar"})
		if i > 0 {
			name = fmt.Sprintf("%s-%d", name, i)
		}
		cs[i] = corev1.Container{Name: name, Image: g.pick([]string{"registry/app:1.2.3", "registry/app:1.2.4", "envoy:1.30"}),
			Resources: corev1.ResourceRequirements{Requests: g.resources(), Limits: g.resources()}}
	}
	return cs
}

func (g podGen) status(name string) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: name, Ready: g.r.IntN(3) > 0, RestartCount: int32(g.r.IntN(3) * g.r.IntN(4)),
		Image: "registry/app:1.2.3", ImageID: fmt.Sprintf("sha256:%x", g.r.Uint64()), ContainerID: fmt.Sprintf("sim://%x", g.r.Uint64())}
	switch g.r.IntN(4) {
	case 0, 1:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(testNow.Add(-time.Duration(g.r.IntN(100)) * time.Minute))}
	case 2:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: g.pick(genWaiting), Message: "back-off"}
	case 3:
		cs.State.Terminated = &corev1.ContainerStateTerminated{Reason: g.pick(genLast), ExitCode: 1}
	}
	if g.r.IntN(3) == 0 {
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: g.pick(genLast), ExitCode: 137,
			FinishedAt: metav1.NewTime(testNow.Add(-time.Duration(g.r.IntN(100)) * time.Minute))}
	}
	return cs
}

// pod makes pod i; owner is its controller (nil for a bare pod).
func (g podGen) pod(ns string, i int, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%04d", i), UID: types.UID(fmt.Sprint("uid-", i)),
		ResourceVersion: fmt.Sprint(100 + i), CreationTimestamp: metav1.NewTime(testNow.Add(-time.Duration(g.r.IntN(600)) * time.Minute)),
		Labels:      map[string]string{"app": "x", appsv1.DefaultDeploymentUniqueLabelKey: g.pick([]string{"aaa", "bbb"})},
		Annotations: map[string]string{lastApplied: "{}", "note": "n"}}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	if g.r.IntN(10) == 0 {
		p.DeletionTimestamp = &metav1.Time{Time: testNow}
	}
	p.Spec.NodeName = g.pick([]string{"node-a", "node-b", ""})
	p.Spec.Containers = g.containers(1 + g.r.IntN(3))
	if g.r.IntN(4) == 0 {
		p.Spec.InitContainers = g.containers(1)
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{g.status(p.Spec.InitContainers[0].Name)}
	}
	p.Status.Phase = corev1.PodPhase(g.pick([]string{"Running", "Running", "Pending", "Failed", "Succeeded"}))
	for _, c := range p.Spec.Containers {
		if g.r.IntN(8) > 0 {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, g.status(c.Name))
		}
	}
	ready := corev1.ConditionStatus(g.pick([]string{"True", "True", "False"}))
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodInitialized, Status: "True"}, {Type: corev1.PodReady, Status: ready, Message: "m"}}
	if g.r.IntN(6) == 0 {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: "False", Reason: corev1.PodReasonUnschedulable})
	}
	return p
}

// usage makes a usage poll for some of the pods.
func (g podGen) usage(pods []*corev1.Pod) estate.PodUsages {
	u := estate.PodUsages{}
	for _, p := range pods {
		if g.r.IntN(5) == 0 {
			continue
		}
		pu := estate.PodUsage{Window: 30 * time.Second}
		for _, c := range p.Spec.Containers {
			pu.Containers = append(pu.Containers, estate.ContainerUsage{Name: c.Name, Resources: estate.Resources{CPU: int64(g.r.IntN(900)), Memory: int64(g.r.IntN(1 << 30))}})
		}
		u.Set(p.Namespace, p.Name, pu)
	}
	return u
}

// TestSlimmedPodsDeriveWhatOriginalsDo is the property the slim transform
// and its pools must hold: for generated pods slimmed by one shared slimmer
// (as an informer slims a whole LIST), every figure the screens derive from
// a slimmed pod equals what they derive from the original object, and its
// containers' requests and limits equal the original's.
func TestSlimmedPodsDeriveWhatOriginalsDo(t *testing.T) {
	for seed := range uint64(20) {
		g := podGen{rand.New(rand.NewPCG(seed, 7))}
		sl := newSlimmer()
		var orig, slim []*corev1.Pod
		for i := range 300 {
			var owner *metav1.OwnerReference
			switch g.r.IntN(4) {
			case 0, 1:
				owner = &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprint("rs-", g.r.IntN(5)), UID: "rs", Controller: ptr(true)}
			case 2:
				owner = &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", UID: "sts", Controller: ptr(true)}
			}
			p := g.pod("fintech-prod", i, owner)
			orig = append(orig, p)
			out, err := sl.transform(p.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			slim = append(slim, out.(*corev1.Pod))
		}
		usage := g.usage(orig)
		for i := range orig {
			want, got := estate.PodInfoOf(orig[i], usage), estate.PodInfoOf(slim[i], usage)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d pod %d: PodInfo of the slimmed pod differs from the original's (slimmed vs original) at %s", seed, i, diff(got, want))
			}
			if got, want := estate.PodFactsOf(slim[i]), estate.PodFactsOf(orig[i]); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d pod %d: PodFacts differ (slimmed vs original) at %s", seed, i, diff(got, want))
			}
			for j, c := range orig[i].Spec.Containers {
				sc := slim[i].Spec.Containers[j]
				if !sameQuantities(sc.Resources.Requests, c.Resources.Requests) || !sameQuantities(sc.Resources.Limits, c.Resources.Limits) {
					t.Fatalf("seed %d pod %d container %s: resources %v/%v, want %v/%v", seed, i, c.Name,
						sc.Resources.Requests, sc.Resources.Limits, c.Resources.Requests, c.Resources.Limits)
				}
			}
		}
	}
}

// TestSlimmedEstateBuildsTheSameServices: a snapshot built the Session's way
// (every object through one slimmer, pods derived incrementally across
// builds) equals one built plainly from the original objects, through
// several rounds of pod changes and usage polls.
func TestSlimmedEstateBuildsTheSameServices(t *testing.T) {
	for seed := range uint64(10) {
		g := podGen{rand.New(rand.NewPCG(seed, 11))}
		sl := newSlimmer()
		var orig estate.Objects
		for d := range 6 {
			name := fmt.Sprintf("svc-%d", d)
			dep := deployment("fintech-prod", name, 4, 3, 4)
			dep.Spec.Template.Spec.Containers = g.containers(2)
			orig.Deployments = append(orig.Deployments, dep)
			orig.ReplicaSets = append(orig.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", name+"-rs",
				metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name, Controller: ptr(true)})})
		}
		n := 0
		newPod := func() *corev1.Pod {
			rs := fmt.Sprintf("svc-%d-rs", g.r.IntN(6))
			n++
			return g.pod("fintech-prod", n, &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: types.UID(rs), Controller: ptr(true)})
		}
		for range 60 {
			orig.Pods = append(orig.Pods, newPod())
		}
		slimOf := func(p *corev1.Pod) *corev1.Pod {
			v, err := sl.transform(p.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			return v.(*corev1.Pod)
		}
		slim := orig
		slim.Pods = make([]*corev1.Pod, len(orig.Pods))
		for i, p := range orig.Pods {
			slim.Pods[i] = slimOf(p)
		}
		x := estate.Extras{Pods: estate.NewPodCache()}
		for round := range 6 {
			if round%2 == 0 { // a new usage poll every other build
				x.Usage = g.usage(orig.Pods)
			}
			var got, want estate.Snapshot
			estate.Assemble(&got, slim, x, testNow)
			estate.Assemble(&want, orig, estate.Extras{Usage: x.Usage}, testNow)
			if !reflect.DeepEqual(got.Services, want.Services) {
				t.Fatalf("seed %d round %d: services built from slimmed pods differ from the originals' (slimmed vs original) at %s", seed, round, diff(got.Services, want.Services))
			}
			// Churn as watch events bring it: pods replaced, one added, one removed.
			for range 10 {
				i := g.r.IntN(len(orig.Pods))
				fresh := newPod()
				fresh.Name = orig.Pods[i].Name
				orig.Pods[i], slim.Pods[i] = fresh, slimOf(fresh)
			}
			p := newPod()
			orig.Pods, slim.Pods = append(orig.Pods, p), append(slim.Pods, slimOf(p))
			i := g.r.IntN(len(orig.Pods))
			orig.Pods, slim.Pods = slices.Delete(orig.Pods, i, i+1), slices.Delete(slim.Pods, i, i+1)
		}
	}
}

// sameQuantities compares resource lists by value (a pooled list may hold
// an equal quantity in another form).
func sameQuantities(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range b {
		p, ok := a[k]
		if !ok || p.Cmp(q) != 0 {
			return false
		}
	}
	return true
}

// firstDiff names the first field path where a and b differ, with both
// values, so a failure says what differs rather than printing two pods.
func firstDiff(path string, a, b reflect.Value) string {
	if a.Kind() != b.Kind() {
		return fmt.Sprintf("%s: %v vs %v", path, a, b)
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !a.Type().Field(i).IsExported() { // time.Time and the like: compare whole
				break
			}
			if d := firstDiff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
			if i == a.NumField()-1 {
				return ""
			}
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface())
	}
	return ""
}

func diff(got, want any) string { return firstDiff("", reflect.ValueOf(got), reflect.ValueOf(want)) }
