// Package report renders a catalogue run: table, json, markdown, junit, sarif
// and html. Renderers only format; they never evaluate.
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
)

// Formats lists the output formats, the default first.
var Formats = []string{"table", "json", "markdown", "junit", "sarif", HTML}

// Report is one run of the catalogue over an inventory.
type Report struct {
	Checks   []checks.Check
	Findings []checks.Finding
	Score    checks.Score
	// Items is the verdict on each item of the seed's checklist.
	Items []checks.ItemVerdict
	// Origin says what was checked (context name or "manifests").
	Origin string
	// Sources maps resources to "file:line" when they came from files.
	Sources map[checks.Resource]string
	// Version is vigil's version, for tools that record it (SARIF).
	Version string
	// Skipped lists the input objects no check judged, and why.
	Skipped []checks.Skipped
	// Reach is who reaches the PCI workloads and where they send (vigil
	// check --reachability); nil when not asked or nothing is in scope.
	Reach *checks.Reachability
	// Drift is what changed since an earlier evaluation (vigil check
	// --since); nil when not asked.
	Drift *history.Drift
	// History are the evaluations of this context and scope recorded so far, oldest first (the
	// state directory's history, this run included): the HTML report draws their trend.
	// Nil when there is none (manifests, or no state directory).
	History []history.Entry
}

// New runs nothing: it packages findings with their catalogue and score.
func New(cat []checks.Check, findings []checks.Finding, inv *checks.Inventory) Report {
	r := Report{Checks: cat, Findings: findings, Score: checks.ComputeScore(cat, findings), Items: checks.Verdicts(cat, findings)}
	if inv != nil {
		r.Origin, r.Sources, r.Skipped = inv.Origin, inv.Sources, inv.Skipped
	}
	return r
}

// Options tune rendering.
type Options struct {
	// FailOn is the threshold the run is judged by (fail or warn): JUnit
	// reports warn findings as failures when it is warn.
	FailOn checks.Status
	// ShowPassed lists pass and not-applicable findings in table and
	// markdown output (json, junit and sarif always carry every finding
	// they can represent).
	ShowPassed bool
}

// Write renders r in format to w.
func Write(w io.Writer, format string, r Report, o Options) error {
	switch format {
	case "table", "":
		return writeTable(w, r, o)
	case "json":
		return writeJSON(w, r)
	case "markdown", "md":
		return writeMarkdown(w, r, o)
	case "junit":
		return writeJUnit(w, r, o)
	case "sarif":
		return writeSARIF(w, r)
	case HTML:
		return writeHTML(w, r, o)
	}
	return fmt.Errorf("unknown output format %q (want one of %v)", format, Formats)
}

// check returns the catalogue entry for id.
func (r Report) check(id string) checks.Check {
	i := slices.IndexFunc(r.Checks, func(c checks.Check) bool { return c.ID == id })
	if i < 0 {
		return checks.Check{ID: id}
	}
	return r.Checks[i]
}

// AtOrAbove reports whether a finding's status reaches the threshold:
// fail reaches fail; fail and warn reach warn.
func AtOrAbove(s, threshold checks.Status) bool {
	switch threshold {
	case checks.Warn:
		return s == checks.Fail || s == checks.Warn
	case checks.Fail:
		return s == checks.Fail
	}
	return false
}

func fmtScore(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", *v)
}

// coverageLine says how many checklist items the run decided.
func coverageLine(r Report) string {
	c := r.Score.Coverage
	return fmt.Sprintf("checklist: %d of %d items decided (%s %%): %d met, %d not met, %d unverified",
		c.Decided, c.Items, fmtScore(c.Percent), c.Met, c.NotMet, c.Unverified)
}

// scoreLine gives both scores, overall and per group.
func scoreLine(r Report) string {
	s := r.Score
	var groups []string
	for _, g := range checks.Groups {
		groups = append(groups, fmt.Sprintf("%s %s / %s", g, fmtScore(s.Groups[g]), fmtScore(s.Proven.Groups[g])))
	}
	return fmt.Sprintf("score: observed %s, proven %s (%s; observed / proven)",
		fmtScore(s.Overall), fmtScore(s.Proven.Overall), strings.Join(groups, ", "))
}

// capLines say which groups a critical check held at the cap, per tally.
func capLines(r Report) []string {
	var out []string
	for _, t := range []struct {
		name string
		caps map[checks.Group][]string
	}{{"observed", r.Score.Capped}, {"proven", r.Score.Proven.Capped}} {
		var parts []string
		for _, g := range checks.Groups {
			if ids := t.caps[g]; len(ids) > 0 {
				parts = append(parts, fmt.Sprintf("%s by %s", g, strings.Join(ids, ", ")))
			}
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("%s score capped at %.0f (a critical check scores 0): %s", t.name, checks.CriticalCap, strings.Join(parts, "; ")))
		}
	}
	return out
}

// verdictText is a verdict as reports print it.
func verdictText(v checks.Verdict) string {
	return strings.ToUpper(strings.ReplaceAll(string(v), "-", " "))
}
