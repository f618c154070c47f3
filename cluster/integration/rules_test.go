package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestLoadedAlertRulesOneFetch: the alerting rules vigil check reads
// (cluster.LoadedAlertRules, through the read-only transport) and those a
// Session polls are the same fetch, and both say what the real Prometheus
// says: the alert names of its raw /api/v1/rules?type=alert answer, which
// are those of the rule file it was started with.
func TestLoadedAlertRulesOneFetch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(clustertest.RepoRoot(), "testdata", "prometheus", "rules", "fintech-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var inFile []string
	for _, m := range regexp.MustCompile(`(?m)^\s*-?\s*alert:\s*(\S+)\s*$`).FindAllStringSubmatch(string(raw), -1) {
		inFile = append(inFile, m[1])
	}
	if len(inFile) == 0 {
		t.Fatal("no alert in testdata/prometheus/rules/fintech-rules.yml")
	}
	slices.Sort(inFile)

	prom, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	defer prom.Stop()

	if got := rawAlertRules(t, prom.URL); !slices.Equal(got, inFile) {
		t.Fatalf("Prometheus's raw /api/v1/rules says %v, the rule file %v", got, inFile)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := cluster.LoadedAlertRules(ctx, prom.URL, readonly.WrapClient(&http.Client{Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if !slices.Equal(names, inFile) {
		t.Errorf("cluster.LoadedAlertRules = %v, want %v", names, inFile)
	}

	s := start(t, "local-1", func(o *cluster.Options) { o.Settings.Prometheus, o.Settings.Alertmanager = prom.URL, "" })
	snap := waitSnap(t, s, 60*time.Second, "Prometheus's rules", func(s estate.Snapshot) bool { return s.Alerts.Prometheus.Available })
	var polled []string
	for _, r := range snap.Alerts.Rules {
		polled = append(polled, r.Name)
	}
	slices.Sort(polled)
	if !slices.Equal(polled, inFile) {
		t.Errorf("the Session's rules = %v, want %v", polled, inFile)
	}
}

// rawAlertRules reads the alerting rules' names from Prometheus's JSON by hand.
func rawAlertRules(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/rules?type=alert")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name, Type string
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Type == "alerting" {
				names = append(names, r.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}
