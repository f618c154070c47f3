package cmd

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestCheckAllContextsAgainstLocalClusters: `vigil check --all-contexts` over the two seeded
// local clusters (local-1, local-2 and their reviewer contexts) plus a context whose API
// server does not answer. Differential: each context's fleet report is the JSON
// `vigil check --context X -o json` writes on its own; the fleet exposition carries, per
// cluster label, the numbers of that JSON (upstream parser) and passes promtool; the dead
// context is one error line and does not stop the others.
func TestCheckAllContextsAgainstLocalClusters(t *testing.T) {
	lc, err := clustertest.Start(clustertest.Options{Clusters: 2, Seed: true})
	if err != nil {
		t.Fatalf("local clusters: %v", err)
	}
	t.Cleanup(lc.Stop)

	// The generated kubeconfig plus "unreachable": local-1's credentials, a server where
	// nothing listens.
	kc, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	live := slices.Sorted(func(yield func(string) bool) {
		for name := range kc.Contexts {
			if !yield(name) {
				return
			}
		}
	})
	for _, want := range []string{"local-1", "local-2", "local-1-reviewer", "local-2-reviewer"} {
		if !slices.Contains(live, want) {
			t.Fatalf("kubeconfig contexts %v lack %s", live, want)
		}
	}
	dead := kc.Clusters[kc.Contexts["local-1"].Cluster].DeepCopy()
	dead.Server = "https://127.0.0.1:1"
	kc.Clusters["dead"] = dead
	kc.Contexts["unreachable"] = &clientcmdapi.Context{Cluster: "dead", AuthInfo: kc.Contexts["local-1"].AuthInfo}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}
	check := func(args ...string) (string, string, int, time.Duration) {
		start := time.Now()
		out, errOut, code := runVigil(t, env, "", append([]string{"check", "--kubeconfig", kubeconfig}, args...)...)
		return out, errOut, code, time.Since(start)
	}

	// Each context alone; the slowest bounds what a parallel run can take.
	single := map[string]json.RawMessage{}
	var slowest time.Duration
	for _, name := range live {
		out, errOut, code, took := check("--context", name, "-o", "json")
		if code != ExitOK && code != ExitFindings {
			t.Fatalf("check --context %s: exit %d: %s", name, code, errOut)
		}
		single[name] = json.RawMessage(out)
		slowest = max(slowest, took)
		t.Logf("check --context %s: %v", name, took.Round(time.Millisecond))
	}

	out, errOut, code, took := check("--all-contexts", "-o", "json")
	t.Logf("check --all-contexts (%d contexts, 1 unreachable): %v; slowest single context %v", len(live)+1, took.Round(time.Millisecond), slowest.Round(time.Millisecond))
	if code != ExitUsage {
		t.Errorf("exit %d with an unreachable context, want %d", code, ExitUsage)
	}
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(errOut, "unreachable") {
		t.Errorf("stderr: want one line naming the unreachable context, got %q", errOut)
	}
	var fleet struct {
		Contexts []struct {
			Context string          `json:"context"`
			Error   string          `json:"error"`
			Report  json.RawMessage `json:"report"`
		} `json:"contexts"`
		Summary []struct {
			Context  string   `json:"context"`
			Error    string   `json:"error"`
			Observed *float64 `json:"observed"`
			Fail     int      `json:"fail"`
			Duration float64  `json:"durationSeconds"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &fleet); err != nil {
		t.Fatalf("fleet json: %v\n%s", err, out)
	}
	var got []string
	for _, c := range fleet.Contexts {
		got = append(got, c.Context)
		if c.Context == "unreachable" {
			if c.Error == "" || !strings.Contains(c.Error, "127.0.0.1:1") || strings.Contains(c.Error, "\n") || string(c.Report) != "null" {
				t.Errorf("unreachable: want one error line naming 127.0.0.1:1 and no report, got error %q report %s", c.Error, c.Report)
			}
			continue
		}
		if c.Error != "" {
			t.Errorf("%s: %s", c.Context, c.Error)
			continue
		}
		// Whole, the refusals' evidence included: cluster.ListInventory keeps the same 403
		// of several namespaces' (the first in sort order) on every run.
		if !jsonEqual(t, c.Report, single[c.Context]) {
			t.Errorf("%s: the fleet's report differs from `vigil check --context %s -o json`", c.Context, c.Context)
		}
	}
	if want := append(slices.Clone(live), "unreachable"); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("fleet contexts %v, want %v", got, want)
	}
	for _, s := range fleet.Summary {
		t.Logf("fleet summary %s: %.3fs %s", s.Context, s.Duration, s.Error)
		if s.Context != "unreachable" && (s.Error != "" || s.Observed == nil) {
			t.Errorf("summary %s: %+v", s.Context, s)
		}
	}

	// The same fleet as one exposition: per cluster label, the numbers of the context's
	// own JSON report.
	prom, errOut, code, _ := check("--all-contexts", "-o", "prometheus")
	if code != ExitUsage {
		t.Errorf("-o prometheus: exit %d, want %d: %s", code, ExitUsage, errOut)
	}
	gotProm := parseExposition(t, prom)
	want := map[string]float64{series("vigil_check_up", "cluster", "unreachable"): 0}
	for _, name := range live {
		for k, v := range expectedFromJSON(t, single[name], name) {
			want[k] = v
		}
	}
	compareExposition(t, gotProm, want)
	promtoolCheckMetrics(t, prom)

	// Table: each context's report and the summary, the dead one as its error.
	table, _, _, _ := check("--all-contexts")
	for _, name := range append(live, "unreachable") {
		if !strings.Contains(table, "=== context "+name+" ===") {
			t.Errorf("table lacks the heading of %s", name)
		}
	}
	if !strings.Contains(table, "fleet: 5 contexts, 4 evaluated, 1 could not be") {
		t.Errorf("table lacks the fleet summary:\n%s", table[max(0, len(table)-1500):])
	}
}

// jsonEqual compares two JSON documents by value, logging the first differing top-level key.
func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var va, vb map[string]any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("json: %v", err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("json: %v", err)
	}
	equal := true
	for k := range vb {
		x, _ := json.Marshal(va[k])
		y, _ := json.Marshal(vb[k])
		if string(x) != string(y) {
			equal = false
			xs, okx := va[k].([]any)
			ys, oky := vb[k].([]any)
			if !okx || !oky || len(xs) != len(ys) {
				t.Logf("key %q differs:\nfleet:  %.600s\nsingle: %.600s", k, x, y)
				continue
			}
			for i := range xs {
				ex, _ := json.Marshal(xs[i])
				ey, _ := json.Marshal(ys[i])
				if string(ex) != string(ey) {
					t.Logf("%s[%d] differs:\nfleet:  %s\nsingle: %s", k, i, ex, ey)
					break
				}
			}
		}
	}
	if len(va) != len(vb) {
		t.Logf("fleet report keys %d, single %d", len(va), len(vb))
		equal = false
	}
	return equal
}
