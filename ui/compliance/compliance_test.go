package compliance

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// screen returns the Compliance screen over a made-up run: a critical
// check failing on one subject of four, a required check unknown, a
// passing item; its scores and coverage are worked out in the test.
func screen(t *testing.T) (*Model, *common.Data) {
	t.Helper()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	d := &common.Data{Context: "local-1", Identity: "local-1-admin", Now: now, HaveSnap: true}
	d.Snap.Findings.At = now.Add(-time.Minute)
	d.Snap.Findings.Inventory = &checks.Inventory{Config: checks.Config{Namespaces: []string{"ns", "fintech-prod"}}}
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
	m.SetSize(220, 50)
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

// screenScope is the scope of screen's evaluation, written out: its namespaces sorted, its
// identity.
var screenScope = &history.Scope{Namespaces: []string{"fintech-prod", "ns"}, Identity: "local-1-admin"}

// runsOf is an Evaluations of fixed runs; Offer keeps what it was offered.
type runsOf struct {
	runs    []common.Run
	offered []history.Entry
}

func (r *runsOf) Recorded(string) []common.Run { return r.runs }
func (r *runsOf) Offer(e history.Entry)        { r.offered = append(r.offered, e) }

// TestTrendAndDriftSinceTheLastRun: three recorded runs (two of vigil check, one
// recorded by this screen) and the live evaluation. The TREND column reads each
// item's verdicts oldest first, the live one last; the drift line compares with
// the last run someone else recorded, and names the failure that is new since it.
// The expected glyphs and counts are written out by hand from the runs below.
func TestTrendAndDriftSinceTheLastRun(t *testing.T) {
	m, d := screen(t)
	at := d.Snap.Findings.At
	const rbac, registry, audit = "RBAC configured for all service accounts", "Private container registry", "Audit logging enabled"
	run := func(ago time.Duration, here bool, v map[string]checks.Verdict, failing ...string) common.Run {
		return common.Run{Entry: history.Entry{Time: at.Add(-ago).UTC(), Context: "local-1", Verdicts: v, Failing: failing, Scope: screenScope}, Here: here}
	}
	ev := &runsOf{runs: []common.Run{
		run(48*time.Hour, false, map[string]checks.Verdict{rbac: checks.Met, registry: checks.NotMet}),
		run(24*time.Hour, false, map[string]checks.Verdict{rbac: checks.Met, registry: checks.Met, audit: checks.Unverified}),
		run(2*time.Hour, true, map[string]checks.Verdict{rbac: checks.NotMet, registry: checks.Met, audit: checks.Unverified},
			"rbac-no-cluster-admin-service-accounts ServiceAccount/ns/sa0"),
	}}
	d.Evaluations = ev
	m.Refresh()
	want := map[string]string{rbac: "✓✓✗✗", registry: "✗✓✓✓", audit: "·???"}
	for _, it := range m.Items() {
		if w, ok := want[it.Item]; ok {
			if got := trendText(it.Trend); !strings.HasSuffix(got, w) || len([]rune(got)) != 4 {
				t.Errorf("%s: trend %q, want %q", it.Item, got, w)
			}
			delete(want, it.Item)
		}
	}
	if len(want) > 0 {
		t.Errorf("no rows for %v", want)
	}
	view := ansi.Strip(m.View())
	// The baseline is the run of 24 h ago (the 2 h one was recorded here): RBAC went
	// from met to not met, and sa0's failure is new since then.
	for _, s := range []string{"since the run of", "(24h ago, 3 recorded): 1 new failure: rbac-no-cluster-admin-service-accounts ServiceAccount/ns/sa0", rbac + " met → not-met", "TREND"} {
		if !strings.Contains(view, s) {
			t.Errorf("view lacks %q:\n%s", s, view)
		}
	}
	if len(ev.offered) != 1 || !ev.offered[0].Time.Equal(at) || ev.offered[0].Verdicts[rbac] != checks.NotMet {
		t.Errorf("offered %+v; want the live evaluation once", ev.offered)
	}
	m.Refresh() // the same evaluation again: not offered twice
	if len(ev.offered) != 1 {
		t.Errorf("offered %d times for one evaluation", len(ev.offered))
	}
}

// TestNoHistorySaysHowItIsMade: with nothing recorded the line says who records.
func TestNoHistorySaysHowItIsMade(t *testing.T) {
	m, d := screen(t)
	d.Evaluations = &runsOf{}
	m.Refresh()
	if view := ansi.Strip(m.View()); !strings.Contains(view, "no earlier evaluation recorded: vigil check records each run") {
		t.Errorf("view:\n%s", view)
	}
}

// TestDrillDownShowsTheWholeEvidence: at 80 columns the page says every finding's evidence
// and remediation, and the check's rationale, whole: a reviewer signs what they read, and a
// line cut at the terminal's edge hides the part that names the field or the fix.
func TestDrillDownShowsTheWholeEvidence(t *testing.T) {
	m, d := screen(t)
	const evidence = "roleRef=ClusterRole/cluster-admin grants every verb on every resource (cluster-admin-equivalent) cluster-wide to subjects[0]=ServiceAccount fintech-monitoring/prometheus: rules[0]: apiGroups=[*] resources=[*] verbs=[*]"
	const fix = "Bind the service account to a Role naming the resources and verbs it needs in its own namespace, and remove the ClusterRoleBinding prometheus-cluster-admin"
	d.Snap.Findings.Findings[0].Evidence = evidence
	d.Snap.Findings.Findings[0].Remediation = fix
	d.Snap.Findings.Catalogue[0].Rationale = "A service account bound to cluster-admin turns any compromise of its pod (an RCE, a leaked token) into control of the whole cluster, every namespace and every Secret included."
	m.Refresh()
	bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for _, it := range m.Items() {
		if it.Item != "RBAC configured for all service accounts" {
			continue
		}
		lines := newFindings(m.common, m.data, it).Build(80)
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("a line of %d cells: %q", w, ansi.Strip(l))
			}
		}
		page := bare(ansi.Strip(strings.Join(lines, "\n")))
		for _, want := range []string{"ServiceAccount/ns/sa0: " + evidence, "fix: " + fix, "why: " + d.Snap.Findings.Catalogue[0].Rationale} {
			if !strings.Contains(page, bare(want)) {
				t.Errorf("the page does not say %q whole:\n%s", want, ansi.Strip(strings.Join(lines, "\n")))
			}
		}
		return
	}
	t.Fatal("no RBAC row")
}

// TestDriftDoesNotCallLostSightFixed: a failure of the last run whose check is undecided now
// (its input refused: one unknown finding for the cluster) is said as failing then, not
// decided now; one whose resource passes now is fixed. The screen's live run: images-pinned
// passes on Deployment/web, audit-apiserver-policy is unknown.
func TestDriftDoesNotCallLostSightFixed(t *testing.T) {
	m, d := screen(t)
	at := d.Snap.Findings.At
	d.Evaluations = &runsOf{runs: []common.Run{{Entry: history.Entry{Time: at.Add(-time.Hour).UTC(), Context: "local-1",
		Failing: []string{"audit-apiserver-policy Cluster", "images-pinned Deployment/web", "rbac-no-cluster-admin-service-accounts ServiceAccount/ns/sa0"}, Scope: screenScope}}}}
	m.Refresh()
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "(1h ago, 1 recorded): 1 fixed · 1 failing then, not decided now") {
		t.Errorf("drift line:\n%s", view)
	}
}

// TestHintsTheReadableNamespaces: evaluated as an identity bound in one of the watched
// namespaces, the screen says, above the table and first of all, which vigil -n evaluates
// what it can read; the table gives up the line, so the screen still fits its height.
func TestHintsTheReadableNamespaces(t *testing.T) {
	m, d := screen(t)
	inv := &checks.Inventory{Config: checks.DefaultConfig(), RefusedIn: map[string][]string{
		"fintech-staging": {"deployments.apps", "pods", "secrets"}, "fintech-prod": {"secrets"}}}
	inv.Config.Namespaces = []string{"fintech-prod", "fintech-staging"}
	inv.Forbidden = map[string]string{checks.ResNamespaces: "forbidden"} // as for most such identities
	d.Snap.Findings.Inventory = inv
	m.SetSize(150, 20)
	m.Refresh()
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "vigil -n fintech-prod evaluates what this identity can read: the API refuses it deployments.apps, pods in fintech-staging") {
		t.Errorf("no hint:\n%s", view)
	}
	if n := strings.Count(view, "\n") + 1; n > 20 {
		t.Errorf("the screen is %d lines in a height of 20", n)
	}
	d.Snap.Findings.Inventory = &checks.Inventory{Config: inv.Config}
	m.Refresh()
	if view := ansi.Strip(m.View()); strings.Contains(view, "evaluates what this identity can read") {
		t.Errorf("a hint with nothing refused:\n%s", view)
	}
}

// TestOtherScopesAreNotCompared: the runs recorded of other namespaces (vigil check -n), by
// another identity (--as) or before scopes were recorded read other objects; the trend, the
// drift and the drill-down's recorded verdicts leave them out, and with none of the screen's
// own scope the drift line says so instead of comparing. The offered evaluation carries the
// screen's scope.
func TestOtherScopesAreNotCompared(t *testing.T) {
	m, d := screen(t)
	at := d.Snap.Findings.At
	const rbac = "RBAC configured for all service accounts"
	run := func(ago time.Duration, scope *history.Scope, v checks.Verdict) common.Run {
		return common.Run{Entry: history.Entry{Time: at.Add(-ago).UTC(), Context: "local-1", Scope: scope,
			Verdicts: map[string]checks.Verdict{rbac: v}, Failing: []string{"images-pinned Deployment/web"}}}
	}
	others := []common.Run{
		run(3*time.Hour, &history.Scope{Namespaces: []string{"fintech-prod"}, Identity: "local-1-admin"}, checks.Met),
		run(2*time.Hour, &history.Scope{Namespaces: []string{"fintech-prod", "ns"}, Identity: "local-1-admin as scoped"}, checks.Unverified),
		run(time.Hour, nil, checks.Met),
	}
	ev := &runsOf{runs: append([]common.Run{run(24*time.Hour, screenScope, checks.NotMet)}, others...)}
	d.Evaluations = ev
	m.Refresh()
	for _, it := range m.Items() {
		if it.Item != rbac {
			continue
		}
		if got := trendText(it.Trend); got != "✗✗" {
			t.Errorf("trend %q, want ✗✗ (the run of its scope, then the live one)", got)
		}
		page := ansi.Strip(strings.Join(newFindings(m.common, m.data, it).Build(200), "\n"))
		if !strings.Contains(page, "recorded: "+at.Add(-24*time.Hour).Local().Format("01-02 15:04")+" not-met\n") {
			t.Errorf("the page's recorded verdicts are not the one run of its scope:\n%s", page)
		}
	}
	if view := ansi.Strip(m.View()); !strings.Contains(view, "(24h ago, 1 recorded): 1 new failure: rbac-no-cluster-admin-service-accounts ServiceAccount/ns/sa0 · 1 fixed") {
		t.Errorf("drift line:\n%s", view)
	}
	if len(ev.offered) != 1 || !reflect.DeepEqual(ev.offered[0].Scope, screenScope) {
		t.Errorf("offered %+v; want the live evaluation with its scope", ev.offered)
	}

	ev.runs = others
	m.Refresh()
	if view := ansi.Strip(m.View()); !strings.Contains(view, "no earlier evaluation of namespaces fintech-prod, ns by local-1-admin recorded (3 others not compared: of other namespaces, another identity, or no scope recorded)") {
		t.Errorf("drift line with none of its scope:\n%s", view)
	}
}
