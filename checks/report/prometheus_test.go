package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/report"
)

// TestPrometheusEscapesLabelValues: a kube context's name is the user's text; quotes,
// backslashes, newlines and non-ASCII in it come back unchanged through the upstream
// parser, and an unreachable context is one vigil_check_up 0 with no scores.
func TestPrometheusEscapesLabelValues(t *testing.T) {
	hostile := "prod \"eu\"\\west\nfake_metric{x=\"1\"} 1\n# TYPE é"
	cat := checks.Catalogue()[:1]
	r := report.New(cat, []checks.Finding{{Check: cat[0].ID, Status: checks.Fail}}, nil)
	var buf bytes.Buffer
	at := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	err := report.WritePrometheus(&buf, []report.Run{
		{Context: hostile, Report: &r, At: at, Duration: 1500 * time.Millisecond},
		{Context: "down", Err: "dial tcp 127.0.0.1:1: connect: connection refused", At: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if _, ok := fams["fake_metric"]; ok {
		t.Fatalf("a context name injected a metric:\n%s", buf.String())
	}
	clusters := map[string]map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster" {
					if clusters[l.GetValue()] == nil {
						clusters[l.GetValue()] = map[string]float64{}
					}
					clusters[l.GetValue()][name] += m.GetGauge().GetValue()
				}
			}
		}
	}
	if len(clusters) != 2 || clusters[hostile] == nil || clusters["down"] == nil {
		t.Fatalf("cluster labels %q, want the hostile name verbatim and down", keys(clusters))
	}
	if got := clusters[hostile]; got["vigil_check_up"] != 1 || got["vigil_check_findings"] != 1 || got["vigil_check_duration_seconds"] != 1.5 ||
		got["vigil_check_last_run_timestamp_seconds"] != float64(at.Unix()) {
		t.Errorf("hostile context's series: %v", got)
	}
	if got := clusters["down"]; got["vigil_check_up"] != 0 || len(got) != 3 {
		t.Errorf("unreachable context: want up 0, timestamp and duration only, got %v", got)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFleetTableEscapesControl: a context's name and its error (text from the kubeconfig
// and the network) reach the terminal escaped, each on one line.
func TestFleetTableEscapesControl(t *testing.T) {
	var buf bytes.Buffer
	runs := []report.Run{{Context: "\x1b[31mred", Err: "dial: \x1b]0;pwned\x07\nsecond line"}}
	if err := report.WriteFleet(&buf, "table", runs, report.Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters reached the output: %q", out)
	}
	if !strings.Contains(out, "fleet: 1 contexts, 0 evaluated, 1 could not be") || strings.Count(out, "second line") != 2 {
		t.Errorf("want the error once under the heading and once in the summary, each on its line:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "second line") {
			t.Errorf("an error's newline split its line:\n%s", out)
		}
	}
}
