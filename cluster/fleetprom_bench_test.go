package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/testdata/ksm"
)

// BenchmarkPromFleet prints what one pass of the Prometheus fleet source costs as the fleet
// grows: 2, 4, 8 and 16 generated clusters (genCluster: ~30 workloads, ~45 pods each, about
// half of them in trouble), all scraped by one real Prometheus, summarised by one pass of eight
// queries; beside it, what deriving the same rows from objects already in memory costs (the
// LIST source's work once its LISTs have returned: its floor). Run:
// go test -run '^$' -bench PromFleet ./cluster/
func BenchmarkPromFleet(b *testing.B) {
	sizes := []int{2, 4, 8, 16}
	maxN := sizes[len(sizes)-1]
	start := time.Now()
	clusters := map[string]ksm.Objects{}
	names := make([]string, maxN)
	for i := range names {
		names[i] = fmt.Sprintf("gen-%d", i+1)
		clusters[names[i]] = genCluster(uint64(i+1), start)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, ok := clusters[strings.TrimPrefix(r.URL.Path, "/metrics/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		if err := ksm.Write(&buf, o); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(buf.Bytes())
	}))
	defer srv.Close()
	prom := ksm.StartPrometheus(b, srv.URL, names, "groups: []\n")
	pf, err := NewPromFleet(prom, config.DefaultClusterLabel, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	settings := func(cluster string) config.Settings {
		s := config.Default().For(cluster)
		s.Namespaces = []string{"fintech-prod", "fintech-staging"}
		return s
	}
	targets := func(n int) []FleetTarget {
		out := make([]FleetTarget, n)
		for i := range out {
			out[i] = FleetTarget{Context: names[i], Settings: settings(names[i])}
		}
		return out
	}
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for { // until every cluster is scraped
		_, errs := pf.Snapshots(ctx, targets(maxN), time.Now())
		missing := 0
		for _, err := range errs {
			if err != nil {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d clusters without series after 60s", missing)
		}
		time.Sleep(time.Second)
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average: %s", strings.TrimSpace(string(load)))
	}
	for _, n := range sizes {
		ts := targets(n)
		b.Run(fmt.Sprintf("prometheus/clusters=%d", n), func(b *testing.B) {
			t0 := time.Now()
			for b.Loop() {
				_, errs := pf.Snapshots(ctx, ts, time.Now())
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			per := time.Since(t0) / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/summary")
		})
		b.Run(fmt.Sprintf("objects-in-memory/clusters=%d", n), func(b *testing.B) {
			t0 := time.Now()
			for b.Loop() {
				for _, t := range ts {
					_ = estate.FleetEntryFromSnapshot(estate.FleetEntry{}, assembleFleet(watchedObjects(clusters[t.Context], t.Settings), estate.AlertsView{}, t.Settings, time.Now()), t0)
				}
			}
			per := time.Since(t0) / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/summary")
		})
	}
}
