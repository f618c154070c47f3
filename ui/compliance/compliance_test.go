package compliance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// screen returns the Compliance screen over a made-up run: a critical
// check failing on one subject of four, a required check unknown, a
// passing item; its scores and coverage are worked out in the test.
func screen(t *testing.T) (*Model, *common.Data) {
	t.Helper()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	d := &common.Data{Context: "local-1", Now: now, HaveSnap: true}
	d.Snap.Findings.At = now.Add(-time.Minute)
	d.Snap.Findings.Synced = true
	d.Snap.Findings.Catalogue = []checks.Check{
		{ID: "rbac-no-cluster-admin-service-accounts", Title: "No cluster-admin", Group: checks.Security, Item: "RBAC configured for all service accounts", Severity: checks.Critical},
		{ID: "images-pinned", Title: "Pinned", Group: checks.Security, Item: "Private container registry", Severity: checks.Medium},
		{ID: "audit-apiserver-policy", Title: "Audit", Group: checks.Compliance, Item: "Audit logging enabled", Severity: checks.High},
	}
	for i := range 4 {
		st := checks.Pass
		if i == 0 {
			st = checks.Fail
		}
		d.Snap.Findings.Findings = append(d.Snap.Findings.Findings, checks.Finding{Check: "rbac-no-cluster-admin-service-accounts", Status: st,
			Resource: checks.Resource{Kind: "ServiceAccount", Namespace: "ns", Name: fmt.Sprint("sa", i)}, Evidence: "bound"})
	}
	d.Snap.Findings.Findings = append(d.Snap.Findings.Findings,
		checks.Finding{Check: "images-pinned", Status: checks.Pass, Resource: checks.Resource{Kind: "Deployment", Name: "web"}, Evidence: "pinned"},
		checks.Finding{Check: "audit-apiserver-policy", Status: checks.Unknown, Resource: checks.Resource{Kind: "Cluster"},
			Evidence: "evidence would be the audit Policy"})
	m := New(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, d)
	m.SetSize(120, 50)
	m.Refresh()
	return m, d
}

// TestSummaryShowsBothScoresAndCoverage: the numbers are worked out here.
// Observed: Security = (10·0 + 3·1)/13 = 23 (rbac's minimum is 0, not ¾),
// Compliance – (unknown left out), overall 23. Proven: Security 23,
// Compliance 0, overall 3/18 = 17. Coverage: RBAC not met, registry met,
// audit unverified, the 29 other items unverified: 2 of 32 decided.
func TestSummaryShowsBothScoresAndCoverage(t *testing.T) {
	m, _ := screen(t)
	view := ansi.Strip(m.View())
	for _, want := range []string{
		"2/32 items decided: 1 met, 1 not met, 30 unverified",
		"score observed 23% · proven 17%",
		"Security 23/23% capped",
		"Compliance –/0%", "Operations –/–%",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	verdicts := map[string]string{
		"RBAC configured for all service accounts": "NOT MET", "Private container registry": "MET",
		"Audit logging enabled": "UNVERIFIED", "Data sovereignty compliance": "UNVERIFIED",
	}
	for item, v := range verdicts {
		found := false
		for _, line := range strings.Split(view, "\n") {
			if strings.Contains(line, item) {
				found = true
				if !strings.HasPrefix(strings.TrimSpace(line), v+" ") {
					t.Errorf("row %q: want verdict %s", line, v)
				}
			}
		}
		if !found {
			t.Errorf("no row for %s", item)
		}
	}
	if len(m.Items()) != len(checks.Checklist) {
		t.Errorf("%d rows, want every checklist item (%d)", len(m.Items()), len(checks.Checklist))
	}
}

// TestDrillDownSaysWhatIsNeeded: an unverified item's page quotes the
// evidence that would decide it.
func TestDrillDownSaysWhatIsNeeded(t *testing.T) {
	m, _ := screen(t)
	for _, it := range m.Items() {
		if it.Item != "Audit logging enabled" {
			continue
		}
		p := newFindings(m.common, m.data, it)
		page := ansi.Strip(strings.Join(p.Build(200), "\n"))
		for _, want := range []string{"UNVERIFIED — 1 of 1 checks undecided", "needed: audit-apiserver-policy (1 unknown): Cluster: evidence would be the audit Policy"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q:\n%s", want, page)
			}
		}
		return
	}
	t.Fatal("no Audit logging row")
}

// TestDrillDownFollowsNewFindings: a page opened before the evidence came
// shows the verdict of the latest findings.
func TestDrillDownFollowsNewFindings(t *testing.T) {
	m, d := screen(t)
	var page *common.Page
	for _, it := range m.Items() {
		if it.Item == "Audit logging enabled" {
			page = newFindings(m.common, m.data, it)
		}
	}
	fs := d.Snap.Findings.Findings
	fs[len(fs)-1].Status = checks.Pass
	if got := ansi.Strip(strings.Join(page.Build(200), "\n")); !strings.Contains(got, "MET — audit-apiserver-policy: 1 pass") {
		t.Errorf("page after the evidence came:\n%s", got)
	}
}
