package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
)

// BenchmarkSoak (make soak; make bench skips it) churns the 10k-pod cluster at patcherRate
// pod updates per second for VIGIL_SOAK_DURATION (30m) while the Manager switches context
// every VIGIL_SOAK_SWITCH (1m): each switch builds a new session, syncs it and stops the old
// one, as :ctx does. After each switch it prints the process's RSS, Go heap and goroutines
// (after a GC and returning free memory to the OS), the switch's time and the updates
// applied; it fails when the median RSS or goroutines of the last third of the samples exceed
// those of the first third after the warm-up (the first switch) by more than 10 % (one sample
// swings by a third with where the session's rebuilds are).
func BenchmarkSoak(b *testing.B) {
	total, every := envDuration(b, "VIGIL_SOAK_DURATION", 30*time.Minute), envDuration(b, "VIGIL_SOAK_SWITCH", time.Minute)
	kubeconfig, name := lc.Kubeconfig, "local-1"
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Context = &kubeconfig, &name
	mgr, err := cluster.NewManager(cluster.ManagerOptions{Flags: flags, Config: config.Default(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer mgr.Stop()
	snaps, unsub := mgr.Subscribe()
	defer unsub()
	var snapshots atomic.Int64
	go func() {
		for range snaps {
			snapshots.Add(1)
		}
	}()
	ctx := context.Background()
	switchOnce := func() time.Duration {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		t0 := time.Now()
		if _, err := mgr.Switch(sctx, name); err != nil {
			b.Fatalf("switch: %v", err)
		}
		return time.Since(t0)
	}
	switchOnce()
	var pods []string
	for _, svc := range mgr.Session().Rebuild().Services {
		for _, p := range svc.Pods {
			pods = append(pods, svc.Namespace+"/"+p.Name)
		}
	}
	gen := startPatcher(b, kubeconfig, pods)
	defer gen.stop()

	type sample struct {
		at         time.Duration
		rss, heap  uint64
		goroutines int
	}
	measure := func(at time.Duration) sample {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return sample{at: at, rss: rss(b), heap: ms.HeapInuse, goroutines: runtime.NumGoroutine()}
	}
	fmt.Printf("soak: %d pods, %d updates/s, a context switch every %s for %s; load %s\n", len(pods), patcherRate, every, total, loadAverage())
	fmt.Println("soak:    time  RSS MiB  heap MiB  goroutines  switch  updates  snapshots")
	start := time.Now()
	var samples []sample
	for i := 1; time.Since(start) < total; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		took := switchOnce()
		last := measure(time.Since(start))
		if i > 1 { // the first switch is the warm-up
			samples = append(samples, last)
		}
		fmt.Printf("soak: %7s %8.1f %9.1f %11d %7s %8d %10d\n", last.at.Round(time.Second), mib(last.rss), mib(last.heap), last.goroutines,
			took.Round(time.Millisecond), gen.count(b), snapshots.Load())
	}
	if len(samples) < 3 {
		b.Fatalf("the soak ran %s: too short for three samples after the warm-up (VIGIL_SOAK_DURATION ≥ 4×VIGIL_SOAK_SWITCH)", total)
	}
	third := len(samples) / 3
	med := func(ss []sample, f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rssOf := func(s sample) float64 { return mib(s.rss) }
	goOf := func(s sample) float64 { return float64(s.goroutines) }
	first, end := samples[:third], samples[len(samples)-third:]
	rss0, rss1, go0, go1 := med(first, rssOf), med(end, rssOf), med(first, goOf), med(end, goOf)
	rssGrowth, goGrowth := rss1/rss0, go1/go0
	fmt.Printf("soak: medians of the first and last %d samples: RSS %.1f → %.1f MiB (%.2f×), goroutines %.0f → %.0f (%.2f×)\n",
		third, rss0, rss1, rssGrowth, go0, go1, goGrowth)
	b.ReportMetric(rssGrowth, "rss-growth")
	b.ReportMetric(goGrowth, "goroutine-growth")
	if rssGrowth > 1.10 || goGrowth > 1.10 {
		b.Errorf("grew beyond 10%%: RSS %.2f×, goroutines %.2f×", rssGrowth, goGrowth)
	}
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a duration such as 30m", name, v)
	}
	return d
}

// rss is the process's resident set size (VmRSS of /proc/self/status).
func rss(b *testing.B) uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
