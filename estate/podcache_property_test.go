package estate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodCacheEqualsAFreshOne: over random runs of what informers do
// between builds (pods replaced, added, removed; ReplicaSets adopted,
// orphaned, removed; a new usage poll; the caches listed in another order
// every time), a build that reuses the last build's pods and workloads
// gives the snapshot of a build from an empty cache, and each service has
// the pods a brute-force walk of the objects gives it, with their restarts.
// Every pod shown has the info PodInfoOf derives from it with the usage of
// the build. The cache holds exactly the pods listed (nothing gone is kept).
func TestPodCacheEqualsAFreshOne(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		objs := randomEstate(r)
		x := Extras{Pods: NewPodCache()}
		for step := range 30 {
			what := mutate(r, &objs, &x)
			r.Shuffle(len(objs.Pods), func(i, j int) { objs.Pods[i], objs.Pods[j] = objs.Pods[j], objs.Pods[i] })
			var incr, fresh Snapshot
			Assemble(&incr, objs, x, testNow)
			plain := x
			plain.Pods = nil
			Assemble(&fresh, objs, plain, testNow)
			at := fmt.Sprintf("seed %d step %d (%s)", seed, step, what)
			if !reflect.DeepEqual(incr.Services, fresh.Services) || !reflect.DeepEqual(incr.DaemonSets, fresh.DaemonSets) {
				t.Fatalf("%s: the incremental build differs from a fresh one:\n%+v\n%+v", at, incr.Services, fresh.Services)
			}
			if len(x.Pods.pods) != len(objs.Pods) {
				t.Fatalf("%s: the cache holds %d pods, the caches list %d", at, len(x.Pods.pods), len(objs.Pods))
			}
			byName := map[string]*corev1.Pod{}
			for _, p := range objs.Pods {
				byName[p.Namespace+"/"+p.Name] = p
			}
			for _, s := range append(slices.Clone(incr.Services), incr.DaemonSets...) {
				// Each pod's info as the plain derivation gives it, with this step's usage.
				for _, got := range s.Pods {
					if want := PodInfoOf(byName[s.Namespace+"/"+got.Name], x.Usage); !reflect.DeepEqual(got, want) {
						t.Fatalf("%s: %s's pod %s is\n%+v\nPodInfoOf gives\n%+v", at, s.Key(), got.Name, got, want)
					}
				}
				names, restarts := podsByBruteForce(objs, s)
				var got []string
				for _, p := range s.Pods {
					got = append(got, p.Name)
				}
				if !slices.Equal(got, names) || s.Restarts != restarts || s.PodCount != len(names) {
					t.Fatalf("%s: %s has pods %v (%d restarts, count %d), the objects give %v (%d restarts)",
						at, s.Key(), got, s.Restarts, s.PodCount, names, restarts)
				}
			}
		}
	}
}

// randomEstate is a few Deployments (with one or two ReplicaSets each), a
// StatefulSet, a DaemonSet, and pods of them, of orphaned ReplicaSets, bare.
func randomEstate(r *rand.Rand) Objects {
	var objs Objects
	for d := range 4 {
		name := fmt.Sprintf("dep-%d", d)
		objs.Deployments = append(objs.Deployments, deployment("fintech-prod", name, 3, 3, 3))
		for k := range 1 + r.IntN(2) {
			objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: meta("fintech-prod", fmt.Sprintf("%s-rs%d", name, k), ownedBy("Deployment", name))})
		}
	}
	objs.StatefulSets = []*appsv1.StatefulSet{{ObjectMeta: meta("fintech-prod", "db"), Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(2))}}}
	objs.DaemonSets = []*appsv1.DaemonSet{{ObjectMeta: meta("fintech-monitoring", "agent")}}
	for range 20 {
		objs.Pods = append(objs.Pods, randomPod(r, objs))
	}
	return objs
}

var podSerial int

// randomPod is a new pod of a random owner: a ReplicaSet (maybe one not
// listed), the StatefulSet, the DaemonSet, or none.
func randomPod(r *rand.Rand, objs Objects) *corev1.Pod {
	podSerial++
	var p *corev1.Pod
	switch n := r.IntN(10); {
	case n < 6 && len(objs.ReplicaSets) > 0:
		rs := objs.ReplicaSets[r.IntN(len(objs.ReplicaSets))]
		p = pod("fintech-prod", fmt.Sprintf("%s-%d", rs.Name, podSerial), ownedBy("ReplicaSet", rs.Name), r.IntN(4) > 0)
	case n < 7:
		p = pod("fintech-prod", fmt.Sprintf("db-%d", podSerial), ownedBy("StatefulSet", "db"), true)
	case n < 8:
		p = pod("fintech-monitoring", fmt.Sprintf("agent-%d", podSerial), ownedBy("DaemonSet", "agent"), true)
	case n < 9:
		p = pod("fintech-prod", fmt.Sprintf("gone-rs-%d", podSerial), ownedBy("ReplicaSet", "gone-rs"), true)
	default:
		p = pod("fintech-prod", fmt.Sprintf("bare-%d", podSerial), ownedBy("Job", "migrate"), true)
		p.OwnerReferences = p.OwnerReferences[:r.IntN(2)]
	}
	if r.IntN(3) == 0 {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{crashing(int32(r.IntN(9)), "OOMKilled")}
	}
	return p
}

// mutate does one random thing informers do between builds and says what.
func mutate(r *rand.Rand, objs *Objects, x *Extras) string {
	switch r.IntN(9) {
	case 0:
		return "nothing"
	case 1, 2:
		if len(objs.Pods) == 0 {
			return "nothing"
		}
		for range 1 + r.IntN(3) {
			i := r.IntN(len(objs.Pods))
			p := objs.Pods[i].DeepCopy()
			p.Status.ContainerStatuses = []corev1.ContainerStatus{crashing(int32(r.IntN(9)), "Error")}
			objs.Pods[i] = p
		}
		return "pods replaced"
	case 3:
		for range 1 + r.IntN(3) {
			objs.Pods = append(objs.Pods, randomPod(r, *objs))
		}
		return "pods added"
	case 4:
		for range 1 + r.IntN(3) {
			if len(objs.Pods) > 0 {
				i := r.IntN(len(objs.Pods))
				objs.Pods = slices.Delete(objs.Pods, i, i+1)
			}
		}
		return "pods removed"
	case 5:
		if len(objs.ReplicaSets) == 0 {
			return "nothing"
		}
		i := r.IntN(len(objs.ReplicaSets))
		rs := objs.ReplicaSets[i].DeepCopy()
		rs.OwnerReferences = []metav1.OwnerReference{ownedBy("Deployment", fmt.Sprintf("dep-%d", r.IntN(4)))}
		objs.ReplicaSets[i] = rs
		return "ReplicaSet adopted by " + rs.OwnerReferences[0].Name
	case 6:
		if len(objs.ReplicaSets) == 0 {
			return "nothing"
		}
		i := r.IntN(len(objs.ReplicaSets))
		if r.IntN(2) == 0 {
			rs := objs.ReplicaSets[i].DeepCopy()
			rs.OwnerReferences = nil
			objs.ReplicaSets[i] = rs
			return "ReplicaSet orphaned"
		}
		objs.ReplicaSets = slices.Delete(objs.ReplicaSets, i, i+1)
		return "ReplicaSet removed"
	case 7:
		u := PodUsages{}
		for _, p := range objs.Pods {
			if r.IntN(2) == 0 {
				u.Set(p.Namespace, p.Name, PodUsage{Containers: []ContainerUsage{{Name: "app", Resources: Resources{CPU: int64(r.IntN(100))}}}})
			}
		}
		x.Usage = u
		return "new usage poll"
	default:
		if len(objs.Pods) == 0 {
			return "nothing"
		}
		i := r.IntN(len(objs.Pods))
		objs.Pods[i] = randomPod(r, *objs) // deleted and another created in one interval
		return "pod replaced by another"
	}
}

// podsByBruteForce returns, in name order, the pods of s and their restarts,
// walking the objects' owner references.
func podsByBruteForce(objs Objects, s Service) (names []string, restarts int32) {
	for _, p := range objs.Pods {
		if p.Namespace != s.Namespace || len(p.OwnerReferences) == 0 {
			continue
		}
		ref := p.OwnerReferences[0]
		mine := ref.Kind == s.Kind && ref.Name == s.Name
		if ref.Kind == "ReplicaSet" && s.Kind == "Deployment" {
			for _, rs := range objs.ReplicaSets {
				if rs.Namespace == p.Namespace && rs.Name == ref.Name && len(rs.OwnerReferences) > 0 && rs.OwnerReferences[0].Name == s.Name {
					mine = true
				}
			}
		}
		if !mine {
			continue
		}
		names = append(names, p.Name)
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
	}
	slices.Sort(names)
	return names, restarts
}
