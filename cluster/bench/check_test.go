package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/report"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/benchdoc"
)

// BenchmarkCheck prints what `vigil check` does live at scalePods — the headless LIST
// (cluster.ListInventory), the catalogue's evaluation and the JSON report — against the bare
// LIST floor of the same run (target ≤ 1.5×). Measured in turn with the floor, five times,
// medians compared, as BenchmarkSession does. Run at two scales into one $VIGIL_BENCH_DOC
// (make bench: 10k, then 30k), the second prints the evaluation's growth against the
// objects' (target: linear).
func BenchmarkCheck(b *testing.B) {
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
	pods, findings, objects := 0, 0, 0
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
		findings, objects = len(fs), objectCount(&inv)
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
	eval := median(evals)
	rows := []figure{
		{"list + evaluate + report", "≤ 1.5× floor", fmt.Sprintf("%.0f ms vs floor %.0f ms = %.2f×", total.Seconds()*1000, floor.Seconds()*1000, total.Seconds()/floor.Seconds()), total.Seconds() / floor.Seconds() / 1.5},
		{"of which the list", "—", fmt.Sprintf("%.0f ms", median(lists).Seconds()*1000), 0},
		{"of which the evaluation", "linear in objects", fmt.Sprintf("%.0f ms for %d objects, %d findings", eval.Seconds()*1000, objects, findings), 0},
		{"of which the JSON report", "—", fmt.Sprintf("%.0f ms", median(reports).Seconds()*1000), 0},
	}
	if prev, ok := otherScale(b, evalRecord{Pods: pods, Objects: objects, EvalMs: eval.Seconds() * 1000}); ok {
		growth := (eval.Seconds() * 1000 / prev.EvalMs) / (float64(objects) / float64(prev.Objects))
		fmt.Printf("  evaluation %d → %d pods: %.0f → %.0f ms for %d → %d objects: time ×%.2f, objects ×%.2f (%.2f of linear)\n",
			prev.Pods, pods, prev.EvalMs, eval.Seconds()*1000, prev.Objects, objects, eval.Seconds()*1000/prev.EvalMs, float64(objects)/float64(prev.Objects), growth)
		rows = append(rows, figure{fmt.Sprintf("evaluation from %d to %d pods", prev.Pods, pods), "linear in objects",
			fmt.Sprintf("%.0f → %.0f ms (×%.2f) for %d → %d objects (×%.2f): %.2f of linear (medians of five; single runs vary more)",
				prev.EvalMs, eval.Seconds()*1000, eval.Seconds()*1000/prev.EvalMs, prev.Objects, objects, float64(objects)/float64(prev.Objects), growth), 0})
	}
	writeDoc(b, "check-"+scaleName(), fmt.Sprintf("`vigil check`'s work at %d pods (runs: list %s ms, evaluate %s ms; floor %s ms):", pods, ms(lists), ms(evals), ms(floors)), rows)
	row(b, "check", fmt.Sprintf("`vigil check` live at %s pods (list, evaluate, JSON report)", scaleName()),
		fmt.Sprintf("%.0f ms, %.2f× a bare LIST of the same kinds (%.0f ms)", total.Seconds()*1000, total.Seconds()/floor.Seconds(), floor.Seconds()*1000))
}

// objectCount is the number of objects an inventory holds, every kind.
func objectCount(inv *checks.Inventory) int {
	n := 0
	v := reflect.ValueOf(inv).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice {
			n += f.Len()
		}
	}
	return n
}

// evalRecord is what one scale's BenchmarkCheck leaves for the other's.
type evalRecord struct {
	Pods, Objects int
	EvalMs        float64
}

// otherScale records this run's evaluation in $VIGIL_BENCH_DOC and returns
// the record of a run at another scale found there.
func otherScale(b *testing.B, this evalRecord) (evalRecord, bool) {
	dir := os.Getenv(benchdoc.Env)
	if dir == "" {
		return evalRecord{}, false
	}
	var prev evalRecord
	found := false
	if paths, _ := filepath.Glob(filepath.Join(dir, "check-eval-*.json")); len(paths) > 0 {
		for _, p := range paths {
			raw, err := os.ReadFile(p)
			var r evalRecord
			if err == nil && json.Unmarshal(raw, &r) == nil && r.Pods < this.Pods && r.Pods > prev.Pods {
				prev, found = r, true
			}
		}
	}
	raw, _ := json.Marshal(this)
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("check-eval-%d.json", this.Pods)), raw, 0o644); err != nil {
		b.Error(err)
	}
	return prev, found
}
