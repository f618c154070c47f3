package report

import (
	"fmt"
	"io"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-k8s/vigil/checks"
)

// Prometheus is the output format that writes a run as Prometheus text exposition. It is
// not in Formats: it carries numbers only (no evidence, no attestation), so the evidence
// bundle and the per-format report tests leave it out.
const Prometheus = "prometheus"

// Statuses lists the finding statuses in the order the exposition writes them: every
// status of every check has a sample (0 when no finding has it), so a rule can see a
// count leave 0.
var Statuses = []checks.Status{checks.Pass, checks.Fail, checks.Warn, checks.Unknown, checks.NotApplicable}

// Verdicts lists the checklist verdicts in the order the exposition writes them.
var Verdicts = []checks.Verdict{checks.Met, checks.NotMet, checks.Unverified}

// Run is one kube context's evaluation as the fleet outputs carry it: its report, or the
// error that kept the context from being evaluated.
type Run struct {
	// Context is the kube context's name; the exposition's cluster label.
	Context string
	// Report is the context's report; nil when Err is set.
	Report *Report
	// Err says why the context could not be evaluated (one line); "" when it was.
	Err string
	// At is when the evaluation started; Duration how long it took.
	At       time.Time
	Duration time.Duration
}

// WritePrometheus writes the runs as one Prometheus text exposition (format 0.0.4), each
// sample labelled cluster=<context>: for the node-exporter textfile collector or a
// Pushgateway. The metrics are described in docs/checks.md; a run with an error has only
// vigil_check_up 0 and its timing.
func WritePrometheus(w io.Writer, runs []Run) error {
	fams := []*dto.MetricFamily{
		family("vigil_check_up", "1 when the kube context could be listed and evaluated, 0 when it could not (vigil check --all-contexts says why)."),
		family("vigil_check_last_run_timestamp_seconds", "When the evaluation started, in seconds since the Unix epoch."),
		family("vigil_check_duration_seconds", "How long listing and evaluating the context took."),
		family("vigil_compliance_score", "Overall compliance score, 0-100: observed (unknown and not-applicable findings left out) or proven (what could not be shown counts 0)."),
		family("vigil_compliance_group_score", "Compliance score of one checklist group, 0-100, observed or proven."),
		family("vigil_compliance_group_capped", "1 when a critical check scoring 0 holds the group's score at the cap (50), else 0."),
		family("vigil_compliance_coverage_ratio", "Checklist items decided (met or not met) over checklist items, 0-1."),
		family("vigil_compliance_checklist_items", "Checklist items per verdict: met, not-met, unverified."),
		family("vigil_compliance_findings", "Findings of the run per status."),
		family("vigil_check_findings", "Findings of one check per status, with the check's group and severity; 0 when the check has none with that status."),
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	add := func(name string, v float64, labels ...string) {
		f := byName[name]
		m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
		for i := 0; i+1 < len(labels); i += 2 {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
		}
		f.Metric = append(f.Metric, m)
	}
	for _, run := range runs {
		cl := run.Context
		up := 0.0
		if run.Err == "" && run.Report != nil {
			up = 1
		}
		add("vigil_check_up", up, "cluster", cl)
		if !run.At.IsZero() {
			add("vigil_check_last_run_timestamp_seconds", float64(run.At.UnixMilli())/1000, "cluster", cl)
			add("vigil_check_duration_seconds", run.Duration.Seconds(), "cluster", cl)
		}
		if up == 0 {
			continue
		}
		r := run.Report
		s := r.Score
		for _, t := range []struct {
			name  string
			tally checks.Tally
		}{{"observed", s.Tally}, {"proven", s.Proven}} {
			if t.tally.Overall != nil {
				add("vigil_compliance_score", *t.tally.Overall, "cluster", cl, "score", t.name)
			}
			for _, g := range checks.Groups {
				if v := t.tally.Groups[g]; v != nil {
					add("vigil_compliance_group_score", *v, "cluster", cl, "score", t.name, "group", string(g))
				}
				capped := 0.0
				if len(t.tally.Capped[g]) > 0 {
					capped = 1
				}
				add("vigil_compliance_group_capped", capped, "cluster", cl, "score", t.name, "group", string(g))
			}
		}
		c := s.Coverage
		if c.Items > 0 {
			add("vigil_compliance_coverage_ratio", float64(c.Decided)/float64(c.Items), "cluster", cl)
		}
		for _, v := range Verdicts {
			n := map[checks.Verdict]int{checks.Met: c.Met, checks.NotMet: c.NotMet, checks.Unverified: c.Unverified}[v]
			add("vigil_compliance_checklist_items", float64(n), "cluster", cl, "verdict", string(v))
		}
		for _, st := range Statuses {
			add("vigil_compliance_findings", float64(s.Counts[st]), "cluster", cl, "status", string(st))
		}
		counts := map[string]map[checks.Status]int{}
		for _, f := range r.Findings {
			if counts[f.Check] == nil {
				counts[f.Check] = map[checks.Status]int{}
			}
			counts[f.Check][f.Status]++
		}
		for _, ch := range r.Checks {
			for _, st := range Statuses {
				add("vigil_check_findings", float64(counts[ch.ID][st]), "cluster", cl, "check", ch.ID,
					"group", string(ch.Group), "severity", string(ch.Severity), "status", string(st))
			}
		}
	}
	for _, f := range fams {
		if len(f.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(w, f); err != nil {
			return fmt.Errorf("%s: %w", f.GetName(), err)
		}
	}
	return nil
}

// family returns an empty gauge family.
func family(name, help string) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum()}
}
