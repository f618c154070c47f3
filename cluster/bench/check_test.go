package bench

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/report"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
)

// BenchmarkCheck10kPods prints what `vigil check` does live at 10k pods — the headless LIST
// (cluster.ListInventory), the catalogue's evaluation and the JSON report — against the bare
// LIST floor of the same run (target ≤ 1.5×). Measured in turn with the floor, five times,
// medians compared, as BenchmarkSession10kPods does.
func BenchmarkCheck10kPods(b *testing.B) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		b.Fatal(err)
	}
	// The floor lists with a generous rate limit; check gets the kubeconfig's as it is.
	floorCfg := *cfg
	floorCfg.QPS, floorCfg.Burst = 1000, 2000
	floorList(b, protobuf(&floorCfg), true) // warm the apiserver's watch cache and the connection
	const runs = 5
	var floors, lists, evals, reports, totals []time.Duration
	pods, findings := 0, 0
	for range runs {
		settle := func() { time.Sleep(2 * time.Second) }
		settle()
		d, n := floorList(b, protobuf(&floorCfg), true)
		floors, pods = append(floors, d), n
		settle()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		inv, err := cluster.ListInventory(ctx, cfg, config.DefaultNamespaces)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		listed := time.Now()
		cat := checks.Catalogue()
		fs := checks.Run(cat, &inv)
		evaluated := time.Now()
		if err := report.Write(io.Discard, "json", report.New(cat, fs, &inv), report.Options{FailOn: checks.Fail}); err != nil {
			b.Fatal(err)
		}
		done := time.Now()
		findings = len(fs)
		lists, evals, reports, totals = append(lists, listed.Sub(start)), append(evals, evaluated.Sub(listed)), append(reports, done.Sub(evaluated)), append(totals, done.Sub(start))
		if len(inv.Pods) < scalePods {
			b.Fatalf("check listed %d pods, want at least %d", len(inv.Pods), scalePods)
		}
	}
	floor, total := median(floors), median(totals)
	b.ReportMetric(total.Seconds()*1000, "check-ms")
	b.ReportMetric(total.Seconds()/floor.Seconds(), "check/floor")
	fmt.Printf("vigil check (headless) at %d pods, %d findings, load %s\n", pods, findings, loadAverage())
	fmt.Printf("  list + evaluate + report %5.0f ms   bare LIST floor %5.0f ms   ratio %.2f× (target ≤ 1.50×)\n", total.Seconds()*1000, floor.Seconds()*1000, total.Seconds()/floor.Seconds())
	fmt.Printf("    list %s ms; evaluate %s ms; JSON report %s ms; floor runs %s ms (medians compared)\n", ms(lists), ms(evals), ms(reports), ms(floors))
}
