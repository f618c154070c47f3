// Package report renders a catalogue run: table, json, markdown, junit and
// sarif. Renderers only format; they never evaluate.
package report

import (
	"fmt"
	"io"
	"slices"

	"github.com/vigil-k8s/vigil/checks"
)

// Formats lists the output formats, the default first.
var Formats = []string{"table", "json", "markdown", "junit", "sarif"}

// Report is one run of the catalogue over an inventory.
type Report struct {
	Checks   []checks.Check
	Findings []checks.Finding
	Score    checks.Score
	// Origin says what was checked (context name or "manifests").
	Origin string
	// Sources maps resources to "file:line" when they came from files.
	Sources map[checks.Resource]string
	// Version is vigil's version, for tools that record it (SARIF).
	Version string
}

// New runs nothing: it packages findings with their catalogue and score.
func New(cat []checks.Check, findings []checks.Finding, inv *checks.Inventory) Report {
	r := Report{Checks: cat, Findings: findings, Score: checks.ComputeScore(cat, findings)}
	if inv != nil {
		r.Origin, r.Sources = inv.Origin, inv.Sources
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
