package fleetbench

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/cmd"
	"github.com/vigil-k8s/vigil/internal/benchdoc"
)

// docFigures are one run's figures as docs/performance.md and the README
// show them (benchdoc; nothing is written without $VIGIL_BENCH_DOC).
type docFigures struct {
	startedAt             time.Time
	loadStart, loadEnd    string
	contexts              []string
	fleetAll, fleetAdmins fleetFigure
	firsts                map[string]time.Duration
	slowestSwitch         string
	checks                checkTimes
	remote                remoteTimes
	baseHeap, heldHeap    uint64
	idleHeap              uint64
	baseRSS, heldRSS      uint64
	lcRSSReady, lcRSSEnd  uint64
	lcProcs               int
}

func gib(n uint64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }

func (d docFigures) write() error {
	slowest := d.checks.single[d.checks.slowest]
	allRatio := d.checks.all.Seconds() / slowest.Seconds()
	adminsRatio := d.checks.allAdmins.Seconds() / slowest.Seconds()
	heapRatio := float64(d.heldHeap) / float64(d.baseHeap)
	parRatio := median(d.checks.runs["all-p"]).Seconds() / slowest.Seconds()
	var fastest time.Duration
	for _, t := range d.firsts {
		if fastest == 0 || t < fastest {
			fastest = t
		}
	}
	ready := "not measured (already running)"
	if lc.ReadyIn > 0 {
		ready = fmt.Sprintf("%.0f s", lc.ReadyIn.Seconds())
	}
	rows := [][4]string{
		{fmt.Sprintf("Contexts screen complete (`Manager.Fleet`), all %d contexts (local-1…8 and their reviewers), session on local-1, median of %d (the first pass cold)",
			d.fleetAll.contexts, len(d.fleetAll.times)), "≤ 1 s",
			fmt.Sprintf("%.0f ms (%s)", ms(d.fleetAll.median()), msList(d.fleetAll.times)), fmt.Sprintf("%.2f", d.fleetAll.median().Seconds())},
		{fmt.Sprintf("the same, the %d admin contexts only", d.fleetAdmins.contexts), "≤ 1 s",
			fmt.Sprintf("%.0f ms (%s)", ms(d.fleetAdmins.median()), msList(d.fleetAdmins.times)), fmt.Sprintf("%.2f", d.fleetAdmins.median().Seconds())},
		{"`:ctx` to each of local-2…8 and back to local-1: first complete snapshot, slowest", "≤ 1 s each",
			fmt.Sprintf("%.0f ms (%s; fastest %.0f ms)", ms(d.firsts[d.slowestSwitch]), d.slowestSwitch, ms(fastest)), fmt.Sprintf("%.2f", d.firsts[d.slowestSwitch].Seconds())},
		{fmt.Sprintf("`vigil check --all-contexts -o json`, %d contexts, vs the slowest `vigil check --context local-N -o json` (%s, %.0f ms), medians of 3",
			len(d.contexts), d.checks.slowest, ms(slowest)), "≤ 2×",
			fmt.Sprintf("%.2f× (%.0f ms)", allRatio, ms(d.checks.all)), fmt.Sprintf("%.2f", allRatio/2)},
		{fmt.Sprintf("the floor: `cluster/fleetbench/floorlist`, a plain client-go program sending the same LISTs (the kubeconfig parsed once, every LIST of every context at once, nothing evaluated), %d contexts vs its slowest single context (%s, %.0f ms)",
			len(d.contexts), d.checks.floorSlowest, ms(median(d.checks.runs["floor "+d.checks.floorSlowest]))), "—",
			fmt.Sprintf("%.2f× (%.0f ms); vigil's %d-context run is %.2f× it", d.checks.floorRatio(), ms(median(d.checks.runs["floor all"])),
				len(d.contexts), d.checks.all.Seconds()/median(d.checks.runs["floor all"]).Seconds()), "—"},
		{"the same, `--all-contexts` over the 8 admin contexts only", "≤ 2×",
			fmt.Sprintf("%.2f× (%.0f ms)", adminsRatio, ms(d.checks.allAdmins)), fmt.Sprintf("%.2f", adminsRatio/2)},
		{fmt.Sprintf("the same, %d contexts with `--parallel %d` (all at once)", len(d.contexts), len(d.contexts)), "—",
			fmt.Sprintf("%.2f× (%.0f ms)", parRatio, ms(median(d.checks.runs["all-p"]))), "—"},
		{fmt.Sprintf("the same with each API server a %v round trip away (a proxy in the benchmark delays its traffic %v each way): %d contexts at the default `--parallel` (%d) vs the slowest single context through it (%s, %.0f ms)",
			2*remoteDelay, remoteDelay, len(d.contexts), cmd.DefaultParallel, d.remote.slowest, ms(d.remote.median(d.remote.slowest))), "—",
			fmt.Sprintf("%.2f× (%.0f ms)", d.remote.ratio("all"), ms(d.remote.median("all"))), "—"},
		{fmt.Sprintf("the same at `--parallel 4` (the default before) and `--parallel %d`", len(d.contexts)), "—",
			fmt.Sprintf("%.2f× (%.0f ms) and %.2f× (%.0f ms)", d.remote.ratio("p4"), ms(d.remote.median("p4")), d.remote.ratio("pN"), ms(d.remote.median("pN"))), "—"},
		{fmt.Sprintf("CPU of the %d-context run: vigil + localcluster's API servers, per context", len(d.contexts)), "—",
			fmt.Sprintf("%.0f + %.0f ms (a single run: %.0f + %.0f ms); %.0f%% of the 2 cores over its wall time",
				ms(d.checks.vigilCPU["all"])/float64(len(d.contexts)), ms(d.checks.serverCPU["all"])/float64(len(d.contexts)),
				ms(d.checks.vigilCPU[d.checks.slowest]), ms(d.checks.serverCPU[d.checks.slowest]),
				100*(d.checks.vigilCPU["all"]+d.checks.serverCPU["all"]).Seconds()/d.checks.all.Seconds()/2), "—"},
		{"Go heap, session on local-1 with the fleet summary held vs the session alone", "≤ 1.2×",
			fmt.Sprintf("%.3f× (%.1f → %.1f MiB)", heapRatio, mib(d.baseHeap), mib(d.heldHeap)), fmt.Sprintf("%.2f", heapRatio/1.2)},
		{"the same 95 s later (past client-go's 90 s IdleConnTimeout)", "≤ 1.2×",
			fmt.Sprintf("%.3f× (%.1f MiB)", float64(d.idleHeap)/float64(d.baseHeap), mib(d.idleHeap)), fmt.Sprintf("%.2f", float64(d.idleHeap)/float64(d.baseHeap)/1.2)},
		{"RSS of the benchmark process, the first two moments", "—", fmt.Sprintf("%.1f → %.1f MiB", mib(d.baseRSS), mib(d.heldRSS)), "—"},
		{"`localcluster --clusters 8 --seed`, start to ready", "—", ready, "—"},
		{fmt.Sprintf("`localcluster` RSS, 8 seeded clusters (process tree: %d)", d.lcProcs), "—",
			fmt.Sprintf("%s at ready, %s at the end", gib(d.lcRSSReady), gib(d.lcRSSEnd)), "—"},
	}
	var md strings.Builder
	md.WriteString("| measure | target | figure | ratio |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3])
	}
	fmt.Fprintf(&md, "\nRun of %s UTC, load average %s at the start, %s at the end (2 cores shared); contexts counted: %d (%s).\n",
		d.startedAt.Format("2006-01-02 15:04"), d.loadStart, d.loadEnd, len(d.contexts), strings.Join(d.contexts, ", "))
	if err := benchdoc.Block("eight-clusters", md.String()); err != nil {
		return err
	}
	for _, r := range []struct{ key, what, figure string }{
		{"40-eight-contexts-screen", fmt.Sprintf("Contexts screen over 8 clusters (%d contexts), complete", len(d.contexts)),
			fmt.Sprintf("%.0f ms median (target ≤ 1 s)", ms(d.fleetAll.median()))},
		{"41-eight-ctx-switch", "`:ctx` to each of 8 clusters, first complete snapshot",
			fmt.Sprintf("%.0f–%.0f ms (target ≤ 1 s)", ms(fastest), ms(d.firsts[d.slowestSwitch]))},
		{"42-eight-check-all-contexts", fmt.Sprintf("`vigil check --all-contexts` over 8 clusters (%d contexts) vs the slowest single context", len(d.contexts)),
			fmt.Sprintf("%.0f ms vs %.0f ms, %.2f× (target ≤ 2×; a plain client-go program sending the same LISTs: %.2f×)", ms(d.checks.all), ms(slowest), allRatio, d.checks.floorRatio())},
		{"43-eight-fleet-heap", "Go heap with the fleet summary of 8 clusters held vs the session alone",
			fmt.Sprintf("%.3f× (target ≤ 1.2×)", heapRatio)},
		{"44-eight-localcluster", "`localcluster`, eight seeded clusters: start to ready; RSS", fmt.Sprintf("%s; %s", ready, gib(d.lcRSSEnd))},
	} {
		if err := benchdoc.Row(r.key, r.what, r.figure); err != nil {
			return err
		}
	}
	return nil
}
