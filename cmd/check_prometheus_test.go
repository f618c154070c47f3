package cmd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// jsonDoc is the part of `vigil check -o json` the exposition is compared with, decoded
// here rather than with the report package's types.
type jsonDoc struct {
	Checks []struct {
		ID       string `json:"id"`
		Group    string `json:"group"`
		Severity string `json:"severity"`
	} `json:"checks"`
	Findings []struct {
		Check  string `json:"check"`
		Status string `json:"status"`
	} `json:"findings"`
	Score struct {
		Overall *float64            `json:"overall"`
		Groups  map[string]*float64 `json:"groups"`
		Capped  map[string][]string `json:"capped"`
		Proven  struct {
			Overall *float64            `json:"overall"`
			Groups  map[string]*float64 `json:"groups"`
			Capped  map[string][]string `json:"capped"`
		} `json:"proven"`
		Coverage struct {
			Items, Decided, Met, NotMet, Unverified int
		} `json:"coverage"`
		Counts map[string]int `json:"counts"`
	} `json:"score"`
}

// parseExposition parses text exposition with the upstream parser (not vigil's writer) into
// "name{label="value",...}" (labels sorted) -> value, failing on any parse error.
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, text)
	}
	out := map[string]float64{}
	for name, f := range fams {
		if f.GetType() != dto.MetricType_GAUGE || f.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q: want a gauge with HELP", name, f.GetType(), f.GetHelp())
		}
		for _, m := range f.GetMetric() {
			lm := model.Metric{model.MetricNameLabel: model.LabelValue(name)}
			for _, l := range m.GetLabel() {
				lm[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
			}
			key := lm.String()
			if _, dup := out[key]; dup {
				t.Errorf("duplicate series %s", key)
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// series is the key parseExposition gives a series.
func series(name string, labels ...string) string {
	lm := model.Metric{model.MetricNameLabel: model.LabelValue(name)}
	for i := 0; i+1 < len(labels); i += 2 {
		lm[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return lm.String()
}

// expectedFromJSON derives, from a JSON report alone, every sample the exposition of the
// same run must carry for cluster cl (timing aside).
func expectedFromJSON(t *testing.T, raw []byte, cl string) map[string]float64 {
	t.Helper()
	var doc jsonDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("json report: %v", err)
	}
	want := map[string]float64{series("vigil_check_up", "cluster", cl): 1}
	for _, tl := range []struct {
		name    string
		overall *float64
		groups  map[string]*float64
		capped  map[string][]string
	}{{"observed", doc.Score.Overall, doc.Score.Groups, doc.Score.Capped}, {"proven", doc.Score.Proven.Overall, doc.Score.Proven.Groups, doc.Score.Proven.Capped}} {
		if tl.overall != nil {
			want[series("vigil_compliance_score", "cluster", cl, "score", tl.name)] = *tl.overall
		}
		for _, g := range []string{"Security", "Compliance", "Operations"} {
			if v := tl.groups[g]; v != nil {
				want[series("vigil_compliance_group_score", "cluster", cl, "score", tl.name, "group", g)] = *v
			}
			capped := 0.0
			if len(tl.capped[g]) > 0 {
				capped = 1
			}
			want[series("vigil_compliance_group_capped", "cluster", cl, "score", tl.name, "group", g)] = capped
		}
	}
	c := doc.Score.Coverage
	if c.Items == 0 {
		t.Fatal("json report has no checklist items")
	}
	want[series("vigil_compliance_coverage_ratio", "cluster", cl)] = float64(c.Decided) / float64(c.Items)
	want[series("vigil_compliance_checklist_items", "cluster", cl, "verdict", "met")] = float64(c.Met)
	want[series("vigil_compliance_checklist_items", "cluster", cl, "verdict", "not-met")] = float64(c.NotMet)
	want[series("vigil_compliance_checklist_items", "cluster", cl, "verdict", "unverified")] = float64(c.Unverified)
	statuses := []string{"pass", "fail", "warn", "unknown", "not-applicable"}
	perCheck := map[[2]string]int{}
	total := map[string]int{}
	for _, f := range doc.Findings {
		perCheck[[2]string{f.Check, f.Status}]++
		total[f.Status]++
	}
	for _, st := range statuses {
		want[series("vigil_compliance_findings", "cluster", cl, "status", st)] = float64(total[st])
		if total[st] != doc.Score.Counts[st] {
			t.Fatalf("json report: %d %s findings, score.counts says %d", total[st], st, doc.Score.Counts[st])
		}
		for _, ch := range doc.Checks {
			want[series("vigil_check_findings", "cluster", cl, "check", ch.ID, "group", ch.Group, "severity", ch.Severity, "status", st)] = float64(perCheck[[2]string{ch.ID, st}])
		}
	}
	return want
}

// compareExposition checks got against want, timing series aside (their value is the
// run's own).
func compareExposition(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %s (want %v)", k, v)
		} else if g != v {
			t.Errorf("%s = %v, want %v (from the JSON report)", k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "vigil_check_last_run_timestamp_seconds") && !strings.HasPrefix(k, "vigil_check_duration_seconds") {
			t.Errorf("unexpected series %s", k)
		}
	}
}

// promtool finds promtool on PATH, else in bin/ (make promtools); the test fails without it.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "bin", "promtool"))
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("promtool is neither on PATH nor in bin/ (make promtools): %v", err)
	return ""
}

// promtoolCheckMetrics runs `promtool check metrics` (the exposition linter) on text.
func promtoolCheckMetrics(t *testing.T, text string) {
	t.Helper()
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPrometheusOutputMatchesJSON: `-o prometheus` carries the numbers of `-o json` for the
// same input, as the upstream parser reads them, and promtool accepts it.
func TestPrometheusOutputMatchesJSON(t *testing.T) {
	js, errOut, code := run(t, append([]string{"-o", "json"}, fintechManifests...)...)
	if code != ExitFindings {
		t.Fatalf("-o json: exit %d: %s", code, errOut)
	}
	prom, errOut, code := run(t, append([]string{"-o", "prometheus"}, fintechManifests...)...)
	if code != ExitFindings {
		t.Fatalf("-o prometheus: exit %d (want the same exit code as json): %s", code, errOut)
	}
	got := parseExposition(t, prom)
	compareExposition(t, got, expectedFromJSON(t, []byte(js), ""))
	if fails := got[series("vigil_compliance_findings", "cluster", "", "status", "fail")]; fails == 0 {
		t.Errorf("the estate has failing findings; the exposition counts none:\n%s", prom)
	}
	promtoolCheckMetrics(t, prom)
}
