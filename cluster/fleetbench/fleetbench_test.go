// Package fleetbench measures vigil across eight seeded local clusters
// (issue 17): the Contexts screen's fleet summary, `:ctx` to each cluster,
// `vigil check --all-contexts` against the slowest single context, the
// memory the fleet summary costs, and localcluster's own footprint at eight
// clusters. Its TestMain starts `localcluster --clusters 8 --seed` only when
// benchmarks run (-test.bench), so `make test` stays fast;
// VIGIL_FLEETBENCH_KUBECONFIG names an already running one instead.
package fleetbench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

const (
	clusters        = 8
	kubeconfigEnv   = "VIGIL_FLEETBENCH_KUBECONFIG"
	passes          = 5                // fleet passes per figure, median compared
	idleConnTimeout = 90 * time.Second // client-go's transports (utilnet.SetTransportDefaults)
	switchTimeout   = 15 * time.Second // ui.SwitchTimeout
	fleetTimeout    = 20 * time.Second // the UI's fleetCmd
)

var lc *clustertest.Cluster

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for: no cluster, nothing to run
	}
	if kubeconfig := os.Getenv(kubeconfigEnv); kubeconfig != "" {
		// An already running `bin/localcluster --clusters 8 --seed` (its
		// KUBECONFIG= line, DIR/kubeconfig): repeated runs skip the start.
		lc = &clustertest.Cluster{Kubeconfig: kubeconfig, Dir: filepath.Dir(kubeconfig)}
		os.Exit(m.Run())
	}
	clustertest.Main(m, clustertest.Options{Clusters: clusters, Seed: true, ReadyTimeout: 25 * time.Minute}, &lc)
}

// kubeconfigContexts returns every context of the kubeconfig, sorted, and
// the admin ones local-1 … local-8 (failing when one is missing), and
// writes a kubeconfig holding only those.
func kubeconfigContexts(b *testing.B) (all, admins []string, adminKubeconfig string) {
	kc, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	for name := range kc.Contexts {
		all = append(all, name)
	}
	slices.Sort(all)
	for i := 1; i <= clusters; i++ {
		name := fmt.Sprintf("local-%d", i)
		if _, ok := kc.Contexts[name]; !ok {
			b.Fatalf("kubeconfig %s has no context %s (contexts %v)", lc.Kubeconfig, name, all)
		}
		admins = append(admins, name)
	}
	for name := range kc.Contexts {
		if !slices.Contains(admins, name) {
			delete(kc.Contexts, name)
		}
	}
	slices.Sort(admins)
	adminKubeconfig = filepath.Join(b.TempDir(), "kubeconfig-admins")
	if err = clientcmd.WriteToFile(*kc, adminKubeconfig); err != nil {
		b.Fatal(err)
	}
	return all, admins, adminKubeconfig
}

// newManager is the Manager the binary builds (cmd/root.go), over kubeconfig.
func newManager(b *testing.B, kubeconfig string) *cluster.Manager {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	mgr, err := cluster.NewManager(cluster.ManagerOptions{Flags: flags, Config: config.Default(), UserAgent: "vigil-fleetbench",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return mgr
}

// switchTo switches mgr to name as `:ctx` does and returns the time the
// Switch took and the time to the new context's first complete snapshot
// on the Manager's subscription, as the UI receives it. That snapshot's
// services are held to the context's typed LIST.
func switchTo(b *testing.B, mgr *cluster.Manager, snaps <-chan estate.Snapshot, name string) (returned, first time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), switchTimeout)
	defer cancel()
	start := time.Now()
	if _, err := mgr.Switch(ctx, name); err != nil {
		b.Fatalf(":ctx %s: %v", name, err)
	}
	returned = time.Since(start)
	cur, gen := mgr.Current()
	if cur != name {
		b.Fatalf(":ctx %s: the Manager shows %s", name, cur)
	}
	timeout := time.After(switchTimeout)
	for {
		select {
		case snap, ok := <-snaps:
			if !ok {
				b.Fatalf(":ctx %s: subscription closed", name)
			}
			if snap.Context != name || snap.Generation != gen || !snap.Synced {
				continue
			}
			first = time.Since(start)
			t, err := listTruth(b.Context(), name)
			if err != nil {
				b.Fatal(err)
			}
			if bad := checkServices(snap.Services, t); len(bad) > 0 {
				b.Fatalf(":ctx %s: the first complete snapshot differs from client-go's typed LIST:\n  %s", name, strings.Join(bad, "\n  "))
			}
			return returned, first
		case <-timeout:
			b.Fatalf(":ctx %s: no complete snapshot of generation %d within %s", name, gen, switchTimeout)
		}
	}
}

// fleetPass is what opening the Contexts screen runs: one Manager.Fleet.
func fleetPass(b *testing.B, mgr *cluster.Manager) (estate.FleetSummary, time.Duration) {
	ctx, cancel := context.WithTimeout(b.Context(), fleetTimeout)
	defer cancel()
	start := time.Now()
	sum := mgr.Fleet(ctx)
	return sum, time.Since(start)
}

// fleetFigure is one Contexts-screen figure: the passes' times, the
// slowest row of the last pass and the load average after the last.
type fleetFigure struct {
	contexts       int
	times          []time.Duration
	slowestRow     string
	slowestRowTook time.Duration
	load           string
	truth          map[string]counts
	last           estate.FleetSummary
}

func (f fleetFigure) median() time.Duration { return median(f.times) }

// fleetPasses runs passes Fleet passes a second apart (the first after
// first, already taken), each held to the typed LISTs.
func fleetPasses(b *testing.B, mgr *cluster.Manager, contexts []string, first estate.FleetSummary, firstTook time.Duration) fleetFigure {
	f := fleetFigure{contexts: len(contexts)}
	sum, took := first, firstTook
	for i := range passes {
		if i > 0 {
			time.Sleep(time.Second)
			sum, took = fleetPass(b, mgr)
		}
		f.times = append(f.times, took)
		f.truth = verifyFleet(b, sum, contexts, "local-1")
	}
	f.load, f.last = loadAverage(), sum
	for _, e := range sum.Entries {
		if e.Took > f.slowestRowTook {
			f.slowestRow, f.slowestRowTook = e.Context, e.Took
		}
	}
	return f
}

// awaitFindings waits for a snapshot of context name that carries the
// session's first evaluation of the check catalogue.
func awaitFindings(b *testing.B, snaps <-chan estate.Snapshot, name string) {
	b.Helper()
	timeout := time.After(switchTimeout)
	for {
		select {
		case snap, ok := <-snaps:
			if !ok {
				b.Fatalf("%s: subscription closed", name)
			}
			if snap.Context == name && !snap.Findings.At.IsZero() {
				return
			}
		case <-timeout:
			b.Fatalf("%s: no evaluation of the checks within %s", name, switchTimeout)
		}
	}
}

// heapProfile writes a heap profile to $VIGIL_FLEETBENCH_HEAPPROFILE-NAME.pb.gz
// when that is set: `go tool pprof -base …-base.pb.gz …-held.pb.gz` shows
// what the fleet summary's pass left allocated.
func heapProfile(b *testing.B, name string) {
	prefix := os.Getenv("VIGIL_FLEETBENCH_HEAPPROFILE")
	if prefix == "" {
		return
	}
	f, err := os.Create(prefix + "-" + name + ".pb.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err = pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEightClusters prints, in one run against eight seeded clusters:
// the Contexts screen complete (target ≤ 1 s), `:ctx` to each cluster to
// its first complete snapshot (≤ 1 s each), `vigil check --all-contexts`
// against the slowest single context (≤ 2×), the Go heap with the fleet
// summary held against the session alone (≤ 1.2×), and localcluster's RSS
// and start-to-ready time.
func BenchmarkEightClusters(b *testing.B) {
	if os.Getenv("VIGIL_FLEETBENCH_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1 // every allocation: the difference is a few MiB
		fmt.Println("VIGIL_FLEETBENCH_HEAPPROFILE: every allocation is profiled, which slows this process several times; its timings do not count")
	}
	startedAt, loadStart := time.Now().UTC(), loadAverage()
	contexts, admins, adminKubeconfig := kubeconfigContexts(b)
	lcRSSReady, lcProcs := localclusterRSS(lc.Dir)
	bin := buildVigil(b)

	// 1 and 4: the Contexts screen over the whole kubeconfig, with the
	// session on local-1 a cockpit would have; the heap before and with
	// the summary the UI holds.
	mgr := newManager(b, lc.Kubeconfig)
	snaps, unsub := mgr.Subscribe()
	_, firstLocal1 := switchTo(b, mgr, snaps, "local-1")
	// One live session is one that has evaluated the checks once: what it
	// holds from then on (findings, their inventory) is the session's, and
	// a base taken before would count it as the fleet summary's.
	awaitFindings(b, snaps, "local-1")
	time.Sleep(2 * time.Second)
	baseHeap, baseRSS, baseSockets := heapMedian(), vmRSS("self"), sockets()
	heapProfile(b, "base")
	held, took := fleetPass(b, mgr)
	heldHeap, heldRSS, heldSockets := heapMedian(), vmRSS("self"), sockets()
	heapProfile(b, "held")
	heapLoad := loadAverage()
	// The heap again past client-go's IdleConnTimeout (90 s): whether what
	// the pass left (its connections, see heapProfile) goes.
	time.Sleep(idleConnTimeout + 5*time.Second)
	idleHeap, idleSockets := heapMedian(), sockets()
	heapProfile(b, "idle")
	fleetAll := fleetPasses(b, mgr, contexts, held, took)
	runtime.KeepAlive(&held)
	verifyReadyDesired(b, mgr, contexts)

	// 2: :ctx to each cluster, back to local-1 last.
	order := append(slices.Clone(admins[1:]), admins[0])
	returned, firsts := map[string]time.Duration{}, map[string]time.Duration{}
	slowestSwitch := ""
	for _, name := range order {
		time.Sleep(time.Second)
		returned[name], firsts[name] = switchTo(b, mgr, snaps, name)
		if slowestSwitch == "" || firsts[name] > firsts[slowestSwitch] {
			slowestSwitch = name
		}
	}
	switchLoad := loadAverage()
	unsub()
	mgr.Stop()

	// 1 again over the admin contexts only, with its own session on local-1.
	mgr8 := newManager(b, adminKubeconfig)
	snaps8, unsub8 := mgr8.Subscribe()
	switchTo(b, mgr8, snaps8, "local-1")
	time.Sleep(2 * time.Second)
	sum8, took8 := fleetPass(b, mgr8)
	fleetAdmins := fleetPasses(b, mgr8, admins, sum8, took8)
	unsub8()
	mgr8.Stop()

	// 3: vigil check, whole processes.
	checks := timeChecks(b, newChecker(b, bin), buildFloor(b), lc.Kubeconfig, adminKubeconfig, contexts, admins)
	checkLoad := loadAverage()
	// 3 again with the API servers a 40 ms round trip away, as a fleet's are.
	remote := timeRemote(b, newChecker(b, bin), delayProxies(b, lc.Kubeconfig, remoteDelay), contexts, admins)
	remoteLoad := loadAverage()
	slowest := checks.single[checks.slowest]
	lcRSSEnd, _ := localclusterRSS(lc.Dir)
	loadEnd := loadAverage()

	// The printout.
	fmt.Printf("eight clusters (issue 17): %d contexts in the kubeconfig (%s), GOMAXPROCS=%d, load average %s at the start\n",
		len(contexts), strings.Join(contexts, " "), runtime.GOMAXPROCS(0), loadStart)
	for _, name := range admins {
		t := fleetAll.truth[name]
		fmt.Printf("  %-9s typed LIST: %2d services (Deployments+StatefulSets), %d/%d pods ready, %d down\n", name, t.services, t.ready, t.desired, t.down)
	}
	printFleet := func(what string, f fleetFigure) {
		fmt.Printf("  Contexts screen, %-36s %6.0f ms median of %d (%s ms; slowest row %s %.0f ms)   ratio %.2f (target ≤ 1 s)   load %s\n",
			what, ms(f.median()), len(f.times), msList(f.times), f.slowestRow, ms(f.slowestRowTook), f.median().Seconds(), f.load)
	}
	printFleet(fmt.Sprintf("all %d contexts (session on local-1):", fleetAll.contexts), fleetAll)
	printFleet(fmt.Sprintf("the %d admin contexts only:", fleetAdmins.contexts), fleetAdmins)
	for _, f := range []fleetFigure{fleetAll, fleetAdmins} {
		fmt.Printf("    last pass's rows (%d contexts):", f.contexts)
		for _, e := range f.last.Entries {
			fmt.Printf(" %s %.0f ms (%s);", e.Context, ms(e.Took), e.Source)
		}
		fmt.Println()
	}
	fmt.Printf("  :ctx, first complete snapshot on the subscription (Switch returned):\n")
	for _, name := range order {
		fmt.Printf("    %-9s %6.0f ms (%4.0f ms)\n", name, ms(firsts[name]), ms(returned[name]))
	}
	fmt.Printf("    slowest %s %.0f ms   ratio %.2f (target ≤ 1 s each)   load %s; the first connect to local-1 took %.0f ms\n",
		slowestSwitch, ms(firsts[slowestSwitch]), firsts[slowestSwitch].Seconds(), switchLoad, ms(firstLocal1))
	fmt.Printf("  vigil check -o json, whole process, median of 3:\n")
	for _, name := range admins {
		fmt.Printf("    --context %-9s %6.0f ms (%s)\n", name, ms(checks.single[name]), msList(checks.runs[name]))
	}
	fmt.Printf("    --all-contexts, %2d contexts %6.0f ms (%s)   %.2f× the slowest single (%s)   ratio %.2f (target ≤ 2×)\n",
		len(contexts), ms(checks.all), msList(checks.runs["all"]), checks.all.Seconds()/slowest.Seconds(), checks.slowest, checks.all.Seconds()/slowest.Seconds()/2)
	fmt.Printf("    --all-contexts, %2d contexts %6.0f ms (%s)   %.2f× the slowest single   ratio %.2f (target ≤ 2×)   load %s\n",
		len(admins), ms(checks.allAdmins), msList(checks.runs["admins"]), checks.allAdmins.Seconds()/slowest.Seconds(), checks.allAdmins.Seconds()/slowest.Seconds()/2, checkLoad)
	fmt.Printf("    floor: floorlist (the same LISTs from a plain client-go program, every context at once), slowest single %s %.0f ms, %2d contexts %.0f ms (%s): %.2f× its slowest single; vigil's %d-context run is %.2f× the floor's\n",
		checks.floorSlowest, ms(median(checks.runs["floor "+checks.floorSlowest])), len(contexts), ms(median(checks.runs["floor all"])), msList(checks.runs["floor all"]),
		checks.floorRatio(), len(contexts), checks.all.Seconds()/median(checks.runs["floor all"]).Seconds())
	fmt.Printf("    CPU (medians): vigil + localcluster's API servers, against the wall time × %d cores:\n", runtime.NumCPU())
	fmt.Printf("    --all-contexts --parallel %d %6.0f ms (%s)   %.2f× the slowest single\n",
		len(contexts), ms(median(checks.runs["all-p"])), msList(checks.runs["all-p"]), median(checks.runs["all-p"]).Seconds()/slowest.Seconds())
	fmt.Printf("    through a proxy delaying each API server's traffic %v each way (a %v round trip), medians of 3:\n", remoteDelay, 2*remoteDelay)
	fmt.Printf("      --context, slowest %s %6.0f ms (%s)\n", remote.slowest, ms(remote.median(remote.slowest)), msList(remote.runs[remote.slowest]))
	for _, p := range []struct{ key, what string }{{"all", "default --parallel"}, {"p4", "--parallel 4"}, {"pN", fmt.Sprintf("--parallel %d", len(contexts))}} {
		fmt.Printf("      --all-contexts, %2d contexts, %-13s %6.0f ms (%s)   %.2f× the slowest single\n",
			len(contexts), p.what, ms(remote.median(p.key)), msList(remote.runs[p.key]), remote.ratio(p.key))
	}
	fmt.Printf("      load %s\n", remoteLoad)
	for _, key := range append(slices.Clone(admins), "all", "admins", "all-p", "floor "+checks.floorSlowest, "floor all") {
		wall := median(checks.runs[key])
		used := checks.vigilCPU[key] + checks.serverCPU[key]
		fmt.Printf("      %-8s vigil %5.0f ms + servers %5.0f ms = %5.0f ms over %5.0f ms wall: %3.0f%% of the cores\n",
			key, ms(checks.vigilCPU[key]), ms(checks.serverCPU[key]), ms(used), ms(wall), 100*used.Seconds()/wall.Seconds()/float64(runtime.NumCPU()))
	}
	heapRatio := float64(heldHeap) / float64(baseHeap)
	fmt.Printf("  Go heap, session on local-1 %.1f MiB, with the fleet summary held %.1f MiB: %.3f×   ratio %.2f (target ≤ 1.2×)   load %s\n",
		mib(baseHeap), mib(heldHeap), heapRatio, heapRatio/1.2, heapLoad)
	fmt.Printf("    the same %.0f s later (past client-go's IdleConnTimeout): %.1f MiB, %.3f×\n",
		(idleConnTimeout + 5*time.Second).Seconds(), mib(idleHeap), float64(idleHeap)/float64(baseHeap))
	fmt.Printf("    sockets open in this process at the three moments: %d, %d, %d\n", baseSockets, heldSockets, idleSockets)
	fmt.Printf("  benchmark process RSS %.1f MiB → %.1f MiB\n", mib(baseRSS), mib(heldRSS))
	ready := "not measured (an already running cluster)"
	if lc.ReadyIn > 0 {
		ready = fmt.Sprintf("%.1f s", lc.ReadyIn.Seconds())
	}
	fmt.Printf("  localcluster --clusters 8 --seed: start to ready %s; RSS %.2f GiB at ready (process tree: %d), %.2f GiB at the end\n",
		ready, float64(lcRSSReady)/(1<<30), lcProcs, float64(lcRSSEnd)/(1<<30))
	fmt.Printf("load average %s at the end\n", loadEnd)

	b.ReportMetric(ms(fleetAll.median()), "contexts-screen-ms")
	b.ReportMetric(ms(fleetAdmins.median()), "contexts-screen-8-ms")
	b.ReportMetric(ms(firsts[slowestSwitch]), "ctx-switch-max-ms")
	b.ReportMetric(checks.all.Seconds()/slowest.Seconds(), "check-all/single")
	b.ReportMetric(heapRatio, "heap-fleet/session")
	b.ReportMetric(float64(lcRSSEnd)/(1<<20), "localcluster-MiB")

	doc := docFigures{startedAt: startedAt, loadStart: loadStart, loadEnd: loadEnd, contexts: contexts,
		fleetAll: fleetAll, fleetAdmins: fleetAdmins, firsts: firsts, slowestSwitch: slowestSwitch, checks: checks, remote: remote,
		baseHeap: baseHeap, heldHeap: heldHeap, idleHeap: idleHeap, baseRSS: baseRSS, heldRSS: heldRSS, lcRSSReady: lcRSSReady, lcRSSEnd: lcRSSEnd, lcProcs: lcProcs}
	if err := doc.write(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// One measured run is the benchmark; -benchtime 1x keeps it so.
	}
}
