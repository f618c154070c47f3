package contexts

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// TestRowsSayTheirSource: every row names what produced it, and a Prometheus query that
// failed for one context degrades that row alone (no data, the reason in one line) while the
// others keep their figures. A context the API server refused is "refused", not "unreachable".
func TestRowsSayTheirSource(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	d := &common.Data{Context: "local-1", Now: now,
		Contexts: []estate.ContextInfo{{Name: "local-1", Cluster: "local-1"}, {Name: "local-2", Cluster: "local-2"}, {Name: "prod-eu", Cluster: "prod-eu"}, {Name: "staging", Cluster: "staging"}, {Name: "anon", Cluster: "local-1"}},
		Fleet: estate.FleetSummary{Taken: now, Entries: []estate.FleetEntry{
			{Context: "local-1", Source: estate.FleetFromSession, Reachable: true, Services: 14, OK: 10, Down: 2, Degraded: 2, Firing: 2, Checked: now},
			{Context: "local-2", Source: estate.FleetFromPrometheus, Reachable: true, Services: 14, OK: 13, Down: 1, Firing: 2, Checked: now},
			{Context: "prod-eu", Source: estate.FleetFromPrometheus, Firing: -1, Checked: now,
				Err: `no kube-state-metrics series with cluster="prod-eu" in http://thanos:9090 (set contexts.prod-eu.fleet.cluster to its cluster label)`},
			{Context: "staging", Source: estate.FleetFromList, Reachable: true, Services: 3, OK: 3, Firing: -1, Checked: now},
			{Context: "anon", Source: estate.FleetFromList, Refused: true, Firing: -1, Checked: now,
				Err: `forbidden: User "system:anonymous" cannot list resource "deployments"`},
		}}}
	m := New(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, d)
	m.SetSize(160, 12)
	m.Refresh()
	view := ansi.Strip(m.View())
	want := map[string][]string{
		"local-1": {"reachable", "session", "14", "10"},
		"local-2": {"reachable", "prometheus", "14", "13"},
		"prod-eu": {"no data", "prometheus", "-", "n/a", `no kube-state-metrics series with cluster="prod-eu"`},
		"staging": {"reachable", "LIST", "3"},
		// answered, refused: not "unreachable"
		"anon": {"refused", "LIST", `User "system:anonymous" cannot list`},
	}
	for _, line := range strings.Split(view, "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "*"))
		if len(f) == 0 {
			continue
		}
		ws, ok := want[f[0]]
		if !ok {
			continue
		}
		for _, w := range ws {
			if !strings.Contains(line, w) {
				t.Errorf("row %s does not show %q:\n%s", f[0], w, line)
			}
		}
		delete(want, f[0])
	}
	for ctx := range want {
		t.Errorf("no row for %s in\n%s", ctx, view)
	}
}
