package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/vigil-k8s/vigil/estate"
)

// TestAddUsageIsEachItemsUsage: the usage addUsage lays out (one slice of
// containers, one string of names, container names once) answers for every
// polled pod and container what its PodMetrics item says, read plainly from
// the quantities, and nothing for pods and containers not polled. Random
// lists, several per poll as one per namespace is listed, with names
// repeated across namespaces.
func TestAddUsageIsEachItemsUsage(t *testing.T) {
	type key struct{ ns, pod, container string }
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		want := map[key][2]int64{}
		windows := map[[2]string]time.Duration{}
		counts := map[[2]string]int{}
		pods := estate.PodUsages{}
		for _, ns := range []string{"fintech-prod", "fintech-staging", "default"}[:1+r.IntN(3)] {
			var items []metricsv1beta1.PodMetrics
			for i := range r.IntN(40) {
				pm := metricsv1beta1.PodMetrics{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%d-%s", i, []string{"a", "bb", "ccc"}[r.IntN(3)])},
					Window:     metav1.Duration{Duration: time.Duration(1+r.IntN(60)) * time.Second},
				}
				for c := range r.IntN(4) {
					cpu := apiresource.MustParse(fmt.Sprintf("%dm", r.IntN(4000)))
					mem := apiresource.MustParse(fmt.Sprintf("%dMi", r.IntN(4096)))
					name := []string{"app", "istio-proxy", fmt.Sprintf("c%d", c)}[r.IntN(3)]
					if _, dup := want[key{ns, pm.Name, name}]; dup {
						continue // container names are unique in a pod
					}
					pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{Name: name, Usage: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem}})
					want[key{ns, pm.Name, name}] = [2]int64{cpu.MilliValue(), mem.Value()}
				}
				windows[[2]string{ns, pm.Name}] = pm.Window.Duration
				counts[[2]string{ns, pm.Name}] = len(pm.Containers)
				items = append(items, pm)
			}
			addUsage(pods, items)
		}
		for pod, window := range windows {
			pu, ok := pods.Of(pod[0], pod[1])
			if !ok || pu.Window != window || len(pu.Containers) != counts[pod] || cap(pu.Containers) != len(pu.Containers) {
				t.Fatalf("seed %d: %s/%s: got %+v (found %v), want window %v and %d containers, capacity no more", seed, pod[0], pod[1], pu, ok, window, counts[pod])
			}
			if _, ok := pods.Of(pod[0], pod[1]+"x"); ok {
				t.Fatalf("seed %d: %s/%sx found, never polled", seed, pod[0], pod[1])
			}
			if _, ok := pu.Container("not-polled"); ok {
				t.Fatalf("seed %d: %s/%s: container not-polled found", seed, pod[0], pod[1])
			}
		}
		for k, use := range want {
			pu, _ := pods.Of(k.ns, k.pod)
			got, ok := pu.Container(k.container)
			if !ok || got.CPU != use[0] || got.Memory != use[1] {
				t.Fatalf("seed %d: %s/%s container %s: got %+v (found %v), want CPU %dm, memory %d", seed, k.ns, k.pod, k.container, got, ok, use[0], use[1])
			}
		}
		if _, ok := pods.Of("kube-system", "pod-0-a"); ok {
			t.Fatalf("seed %d: a pod of a namespace not polled found", seed)
		}
	}
}
