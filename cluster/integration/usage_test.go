package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	metricsv1beta1 "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestUsageOfPartlyMeasuredWorkload: a rollout stuck on a Pending pod (a nodeSelector no node
// matches) leaves two Running pods metrics.k8s.io measures and one it does not. The workload's
// usage is the sum of its measured pods' PodMetrics, read here with client-go, against those
// pods' requests: available, 2 of 3 pods, and each pod row's usage is its own PodMetrics.
func TestUsageOfPartlyMeasuredWorkload(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	mc := metricsv1beta1.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	d := bareDeployment(ns, "registry.fintech.internal/bare:1", corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("100m"), corev1.ResourceMemory: apiresource.MustParse("128Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("200m"), corev1.ResourceMemory: apiresource.MustParse("256Mi")},
	})
	two := int32(2)
	d.Spec.Replicas = &two
	if _, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = clustertest.Eventually(60*time.Second, 200*time.Millisecond, func() (bool, error) {
		got, getErr := cs.AppsV1().Deployments(ns).Get(ctx, "bare", metav1.GetOptions{})
		return getErr == nil && got.Status.ReadyReplicas == 2, getErr
	})
	if err != nil {
		t.Fatalf("bare never had 2 ready pods: %v", err)
	}
	patch := `{"spec":{"template":{"spec":{"nodeSelector":{"disk":"nonexistent"}}}}}`
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "bare", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	s := start(t, "local-1", func(o *cluster.Options) { o.Namespaces = []string{ns} })
	waitSnap(t, s, 60*time.Second, "a synced snapshot with usage", func(snap estate.Snapshot) bool {
		return snap.Synced && snap.Usage.Available
	})
	var diffs []string
	for try := 0; try < 40; try++ {
		if try > 0 {
			time.Sleep(time.Second)
		}
		snap := latest(t, s)
		svc, ok := service(snap, ns, "bare")
		if !ok {
			diffs = []string{"bare not in the snapshot"}
			continue
		}
		// The truth, from the API: the pods and their PodMetrics.
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=bare"})
		if err != nil {
			t.Fatal(err)
		}
		pms, err := mc.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		use := map[string][2]int64{}
		for _, pm := range pms.Items {
			var c, m int64
			for _, ct := range pm.Containers {
				c, m = c+ct.Usage.Cpu().MilliValue(), m+ct.Usage.Memory().Value()
			}
			use[pm.Name] = [2]int64{c, m}
		}
		var cpu, mem, cpuReq int64
		measured, all := 0, 0
		want := map[string]string{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			all++
			u, ok := use[p.Name]
			want[p.Name] = "no figure"
			if ok {
				measured++
				cpu, mem = cpu+u[0], mem+u[1]
				cpuReq += p.Spec.Containers[0].Resources.Requests.Cpu().MilliValue()
				want[p.Name] = fmt.Sprintf("cpu %dm mem %d", u[0], u[1])
			}
		}
		if measured == 0 || measured == all {
			diffs = []string{fmt.Sprintf("the API shows %d of %d pods measured, waiting for a partial measurement", measured, all)}
			continue
		}
		diffs = nil
		u := svc.Usage
		if !u.Available || svc.UsagePods != measured || svc.PodCount != all || u.CPU != cpu || u.Memory != mem || u.CPURequest != cpuReq {
			diffs = append(diffs, fmt.Sprintf("workload usage: available=%v %d of %d pods cpu %dm mem %d of request %dm; the API: %d of %d pods cpu %dm mem %d of request %dm",
				u.Available, svc.UsagePods, svc.PodCount, u.CPU, u.Memory, u.CPURequest, measured, all, cpu, mem, cpuReq))
		}
		for _, p := range svc.Pods {
			got := "no figure"
			if p.Usage.Available {
				got = fmt.Sprintf("cpu %dm mem %d", p.Usage.CPU, p.Usage.Memory)
			}
			if w, ok := want[p.Name]; ok && got != w {
				diffs = append(diffs, fmt.Sprintf("pod %s: %s, the API: %s", p.Name, got, w))
			}
		}
		if len(diffs) == 0 {
			t.Logf("after %d tries: %d of %d pods measured, cpu %dm mem %d, as the API", try+1, measured, all, cpu, mem)
			return
		}
	}
	t.Fatalf("the workload's usage differs from the API's:\n%s", strings.Join(diffs, "\n"))
}
