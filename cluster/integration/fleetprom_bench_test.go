package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/benchdoc"
	"github.com/vigil-k8s/vigil/testdata/ksm"
)

// BenchmarkFleetSources prints what one fleet summary (the Contexts screen's, Manager.Fleet)
// costs as the fleet grows, from each source: one LIST pass per context (FleetParallel 4 at a
// time, the default) and PromQL over kube-state-metrics series in one Prometheus. Context cNN
// is a copy of local-1 (odd N) or local-2 (even N): its LISTs go to that cluster's API server,
// and its series are that cluster's series, written by the test harness from the objects read
// once with client-go, under cluster="cNN". So every context holds the same objects in both
// sources; beyond 2 contexts the LIST source shares two API servers (as the machine's two cores
// would be shared by eight real ones), and the Prometheus source is fed series for clusters
// that do not otherwise exist. Run: go test -run '^$' -bench FleetSources ./cluster/integration/
func BenchmarkFleetSources(b *testing.B) {
	ctx := context.Background()
	sizes := []int{2, 4, 8, 16}
	maxN := sizes[len(sizes)-1]
	expo := map[string][]byte{}
	for _, c := range []string{"local-1", "local-2"} {
		objs, err := ksm.Read(ctx, lc.Client(b, c))
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ksm.Write(&buf, objs); err != nil {
			b.Fatal(err)
		}
		expo[c] = buf.Bytes()
	}
	source := func(i int) string { return fmt.Sprintf("local-%d", 2-i%2) } // c01 → local-1, c02 → local-2
	names := make([]string, maxN)
	for i := range names {
		names[i] = fmt.Sprintf("c%02d", i+1)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/metrics/"), "c%d", &n); err != nil || n < 1 || n > maxN {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(expo[source(n)])
	}))
	b.Cleanup(srv.Close)
	prom := ksm.StartPrometheus(b, srv.URL, names, fleetRules)

	kubeconfig := func(n int) string {
		src, err := clientcmd.LoadFromFile(lc.Kubeconfig)
		if err != nil {
			b.Fatal(err)
		}
		out := clientcmdapi.NewConfig()
		for k, v := range src.Clusters {
			out.Clusters[k] = v
		}
		for k, v := range src.AuthInfos {
			out.AuthInfos[k] = v
		}
		for i := 1; i <= n; i++ {
			out.Contexts[names[i-1]] = src.Contexts[source(i)]
		}
		out.CurrentContext = names[0]
		path := filepath.Join(b.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*out, path); err != nil {
			b.Fatal(err)
		}
		return path
	}
	var listYAML strings.Builder
	listYAML.WriteString("alertLabels:\n  service: [deployment, statefulset, service, app]\ncontexts:\n")
	for _, c := range names {
		fmt.Fprintf(&listYAML, "  %s: {prometheus: %s, alertLabels: {match: {cluster: %s}}}\n", c, prom, c)
	}
	listCfg := parseConfig(b, listYAML.String())
	promCfg := parseConfig(b, listYAML.String()+"fleet: {prometheus: "+prom+"}\n")
	mgr := func(path string, cfg config.Config) *cluster.Manager {
		flags := genericclioptions.NewConfigFlags(false)
		flags.KubeConfig = &path
		m, err := cluster.NewManager(cluster.ManagerOptions{Flags: flags, Config: cfg, UserAgent: "vigil-bench", Logger: quiet(), FleetTimeout: 30 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(m.Stop)
		return m
	}

	// Until Prometheus has every cluster's series.
	full := mgr(kubeconfig(maxN), promCfg)
	deadline := time.Now().Add(90 * time.Second)
	for {
		bad := 0
		for _, e := range full.Fleet(ctx).Entries {
			if !e.Reachable {
				bad++
			}
		}
		if bad == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d clusters have no series in the fleet Prometheus after 90s", bad, maxN)
		}
		time.Sleep(time.Second)
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average before: %s", strings.TrimSpace(string(load)))
	}
	took := map[string]map[int]time.Duration{estate.FleetFromList: {}, estate.FleetFromPrometheus: {}}
	for _, n := range sizes {
		path := kubeconfig(n)
		for _, src := range []struct {
			name string
			cfg  config.Config
		}{{estate.FleetFromList, listCfg}, {estate.FleetFromPrometheus, promCfg}} {
			m := mgr(path, src.cfg)
			b.Run(fmt.Sprintf("%s/contexts=%d", src.name, n), func(b *testing.B) {
				// Five passes whatever -benchtime (make bench runs 1x), the
				// mean reported: one pass of 2 contexts is tens of ms.
				const passes = 5
				var sum estate.FleetSummary
				start := time.Now()
				for range passes {
					sum = m.Fleet(ctx)
				}
				per := time.Since(start) / passes
				for b.Loop() {
				}
				took[src.name][n] = per
				for _, e := range sum.Entries {
					if !e.Reachable || e.Source != src.name {
						b.Fatalf("%s: %s from %q", e.Context, fleetRow(e), e.Source)
					}
				}
				b.ReportMetric(float64(per.Microseconds())/1000, "ms/summary")
				b.ReportMetric(float64(per.Microseconds())/1000/float64(n), "ms/context")
			})
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("load average after: %s", strings.TrimSpace(string(load)))
	var t strings.Builder
	fmt.Fprintf(&t, "Run of %s, load average %s at the end; 5 passes each, mean per fleet summary:\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), strings.Join(strings.Fields(string(load))[:3], " "))
	t.WriteString("| contexts | LIST (FleetParallel 4) | Prometheus | LIST / Prometheus |\n|---|---|---|---|\n")
	for _, n := range sizes {
		l, p := took[estate.FleetFromList][n], took[estate.FleetFromPrometheus][n]
		fmt.Fprintf(&t, "| %d | %d ms (%d ms/context) | %d ms | %.1f× |\n", n, l.Milliseconds(), l.Milliseconds()/int64(n), p.Milliseconds(), l.Seconds()/p.Seconds())
	}
	if err := benchdoc.Block("fleet-sources", t.String()); err != nil {
		b.Error(err)
	}
	last := sizes[len(sizes)-1]
	if err := benchdoc.Row("50-fleet-sources", fmt.Sprintf("fleet summary of %d contexts: LIST / Prometheus source", last),
		fmt.Sprintf("%d ms / %d ms", took[estate.FleetFromList][last].Milliseconds(), took[estate.FleetFromPrometheus][last].Milliseconds())); err != nil {
		b.Error(err)
	}
}
