// Package bench measures cluster/ against a local control plane holding
// 10,000 simulated pods (200 Deployments × 50 over the four fintech
// namespaces). Its TestMain starts that cluster only when benchmarks run
// (-test.bench), so `make test` stays fast; `make bench` prints the figures
// and their ratios to the targets.
package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/testcluster"
)

const scalePods = 10000

var lc *testcluster.Cluster

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for: no cluster, nothing to run
	}
	testcluster.Main(m, testcluster.Options{Clusters: 1, Seed: true, ScalePods: scalePods, ReadyTimeout: 15 * time.Minute}, &lc)
}

// floorList lists, with a bare client-go clientset, the objects a Session
// caches from the watched namespaces, in parallel per namespace and
// resource as the Session's informers do. It returns the time and pods listed.
func floorList(b *testing.B, cs kubernetes.Interface, md metadata.Interface) (time.Duration, int) {
	ctx := context.Background()
	var pods atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	fail := func(err error) {
		if err != nil {
			b.Error(err)
		}
	}
	for _, ns := range config.DefaultNamespaces {
		o := metav1.ListOptions{}
		wg.Go(func() {
			l, err := cs.CoreV1().Pods(ns).List(ctx, o)
			fail(err)
			if l != nil {
				pods.Add(int64(len(l.Items)))
			}
		})
		wg.Go(func() { _, err := cs.AppsV1().Deployments(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.AppsV1().ReplicaSets(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.AppsV1().StatefulSets(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.AppsV1().DaemonSets(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.AppsV1().ControllerRevisions(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.CoreV1().Services(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.PolicyV1().PodDisruptionBudgets(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.CoreV1().ConfigMaps(ns).List(ctx, o); fail(err) })
		wg.Go(func() { _, err := cs.CoreV1().Events(ns).List(ctx, o); fail(err) })
		wg.Go(func() {
			_, err := md.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace(ns).List(ctx, o)
			fail(err)
		})
	}
	wg.Wait()
	return time.Since(start), int(pods.Load())
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// patchPods patches pod annotations at rate per second (each one a pod
// update event for the informers) until stop closes; it returns the count.
func patchPods(cs kubernetes.Interface, pods []string, rate int, stop <-chan struct{}) *atomic.Int64 {
	var n atomic.Int64
	t := time.NewTicker(time.Second / time.Duration(rate))
	go func() {
		defer t.Stop()
		i := 0
		sem := make(chan struct{}, 32)
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ref := pods[i%len(pods)]
			i++
			sem <- struct{}{}
			go func(i int) {
				defer func() { <-sem }()
				ns, name := ref[:len(ref)-len(ref[indexSlash(ref):])], ref[indexSlash(ref)+1:]
				patch := fmt.Sprintf(`{"metadata":{"annotations":{"bench.vigil.dev/tick":"%d"}}}`, i)
				if _, err := cs.CoreV1().Pods(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err == nil {
					n.Add(1)
				}
			}(i)
		}
	}()
	return &n
}

func indexSlash(s string) int {
	for i := range s {
		if s[i] == '/' {
			return i
		}
	}
	return 0
}

// BenchmarkSession10kPods prints, in one run: Session start → first complete
// snapshot vs a bare LIST of the same objects (target ≤ 1.3×), Go heap per
// cached pod (≤ 6 KiB), snapshot rebuild time (≤ 50 ms) and process CPU
// while 200 pod updates/s arrive (≤ 25% of one core).
func BenchmarkSession10kPods(b *testing.B) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cs := kubernetes.NewForConfigOrDie(cfg)
	md := metadata.NewForConfigOrDie(cfg)

	floorList(b, cs, md) // warm the apiserver's watch cache and the connection
	floor, pods := floorList(b, cs, md)
	if pods < scalePods {
		b.Fatalf("listed %d pods, want at least %d", pods, scalePods)
	}

	base := heap()
	sessCfg := *cfg
	sessCfg.QPS, sessCfg.Burst = 50, 100 // what cluster.ResolveTarget sets for the real binary
	s, err := cluster.New(cluster.Options{RESTConfig: &sessCfg, Context: "local-1", Settings: config.Default().For("local-1"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ch, unsub := s.Subscribe()
	start := time.Now()
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	var snap cluster.Snapshot
	for snap = range ch {
		if snap.Synced {
			break
		}
	}
	first := time.Since(start)
	unsub()
	cached := 0
	for _, svc := range snap.Services {
		cached += svc.PodCount
	}
	perPod := float64(heap()-base) / float64(pods)

	const rebuilds = 10
	t0 := time.Now()
	for range rebuilds {
		snap = s.Rebuild()
	}
	rebuild := time.Since(t0) / rebuilds

	var names []string
	for _, svc := range snap.Services {
		for _, p := range svc.Pods {
			names = append(names, svc.Namespace+"/"+p.Name)
		}
	}
	const rate, window = 200, 10 * time.Second
	stop := make(chan struct{})
	patched := patchPods(cs, names, rate, stop)
	time.Sleep(time.Second) // reach the steady rate
	c0, w0, p0 := cpuTime(), time.Now(), patched.Load()
	time.Sleep(window)
	c1, w1, p1 := cpuTime(), time.Now(), patched.Load()
	close(stop)
	cpu := float64(c1-c0) / float64(w1.Sub(w0))
	updates := float64(p1-p0) / w1.Sub(w0).Seconds()

	b.ReportMetric(first.Seconds()*1000, "first-snapshot-ms")
	b.ReportMetric(floor.Seconds()*1000, "list-floor-ms")
	b.ReportMetric(first.Seconds()/floor.Seconds(), "first/floor")
	b.ReportMetric(perPod/1024, "heap-KiB/pod")
	b.ReportMetric(float64(rebuild.Microseconds())/1000, "rebuild-ms")
	b.ReportMetric(cpu*100, "cpu-%core@200upd/s")
	fmt.Printf("cluster/ at %d pods (%d cached in services), GOMAXPROCS=%d, %s/%s\n", pods, cached, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("  first complete snapshot %7.0f ms   bare LIST floor %5.0f ms   ratio %.2f× (target ≤ 1.30×)\n", first.Seconds()*1000, floor.Seconds()*1000, first.Seconds()/floor.Seconds())
	fmt.Printf("  heap per cached pod     %7.2f KiB                          ratio %.2f  (target ≤ 6 KiB)\n", perPod/1024, perPod/1024/6)
	fmt.Printf("  snapshot rebuild        %7.1f ms                           ratio %.2f  (target ≤ 50 ms)\n", float64(rebuild.Microseconds())/1000, float64(rebuild.Microseconds())/1000/50)
	fmt.Printf("  CPU at %.0f updates/s    %7.1f %% of one core (incl. the patcher)  ratio %.2f  (target ≤ 25%%)\n", updates, cpu*100, cpu/0.25)
	for b.Loop() {
		// One measured run is the benchmark; -benchtime 1x keeps it so.
	}
}
