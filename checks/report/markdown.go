package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/vigil-k8s/vigil/checks"
)

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func writeMarkdown(w io.Writer, r Report, o Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# vigil check: production readiness\n\n")
	if r.Origin != "" {
		fmt.Fprintf(&b, "Input: %s\n\n", mdEscape(r.Origin))
	}
	capped := func(t checks.Tally, g checks.Group) string {
		if len(t.Capped[g]) > 0 {
			return fmt.Sprintf(" (capped: %s)", strings.Join(t.Capped[g], ", "))
		}
		return ""
	}
	fmt.Fprintf(&b, "| Group | Observed score | Proven score |\n|---|---|---|\n")
	for _, g := range checks.Groups {
		fmt.Fprintf(&b, "| %s | %s%s | %s%s |\n", g, fmtScore(r.Score.Groups[g]), capped(r.Score.Tally, g), fmtScore(r.Score.Proven.Groups[g]), capped(r.Score.Proven, g))
	}
	fmt.Fprintf(&b, "| **Overall** | **%s** | **%s** |\n\n", fmtScore(r.Score.Overall), fmtScore(r.Score.Proven.Overall))
	for _, l := range summary(r) {
		fmt.Fprintf(&b, "%s  \n", mdEscape(l))
	}
	fmt.Fprintf(&b, "\nThe observed score leaves unknown and not-applicable findings out; the proven score counts them as 0 where the checklist needs evidence (docs/checks.md).\n")

	fmt.Fprintf(&b, "\n## Checklist verdicts\n\n| Verdict | Group | Item | Why, or the evidence needed |\n|---|---|---|---|\n")
	for _, it := range r.Items {
		why := mdEscape(it.Why)
		for _, n := range it.Needed {
			why += "<br>needed: " + mdEscape(n)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", verdictText(it.Verdict), it.Group, mdEscape(it.Item), why)
	}

	for _, g := range checks.Groups {
		fmt.Fprintf(&b, "\n## %s\n", g)
		item := ""
		for _, c := range r.Checks {
			if c.Group != g {
				continue
			}
			if c.Item != item {
				item = c.Item
				fmt.Fprintf(&b, "\n### %s\n", mdEscape(item))
				for _, it := range r.Items {
					if it.Group == c.Group && it.Item == item {
						fmt.Fprintf(&b, "\nVerdict: **%s** — %s\n", verdictText(it.Verdict), mdEscape(it.Why))
					}
				}
			}
			counts := map[checks.Status]int{}
			var rows []checks.Finding
			for _, f := range r.Findings {
				if f.Check == c.ID {
					counts[f.Status]++
					if shown(f.Status, o) {
						rows = append(rows, f)
					}
				}
			}
			pci := "—"
			if len(c.PCI) > 0 {
				pci = strings.Join(c.PCI, ", ")
			}
			fmt.Fprintf(&b, "\n**`%s`** %s — severity %s, PCI-DSS %s — %d fail, %d warn, %d unknown, %d pass, %d n/a\n",
				c.ID, mdEscape(c.Title), c.Severity, pci, counts[checks.Fail], counts[checks.Warn], counts[checks.Unknown], counts[checks.Pass], counts[checks.NotApplicable])
			if len(rows) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n| Status | Resource | Evidence |\n|---|---|---|\n")
			for _, f := range rows {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", f.Status, mdEscape(f.Resource.String()), mdEscape(f.Evidence))
			}
			if counts[checks.Fail]+counts[checks.Warn]+counts[checks.Unknown] > 0 {
				fmt.Fprintf(&b, "\nRemediation: %s\n", mdEscape(c.Remediation))
			}
		}
	}
	if r.Drift != nil {
		b.WriteString("\n## Drift\n\n")
		for _, l := range r.Drift.Lines() {
			fmt.Fprintf(&b, "- %s\n", mdEscape(l))
		}
	}
	if r.Reach != nil {
		fmt.Fprintf(&b, "\n## Who reaches the cardholder-data scope (NetworkPolicy; PCI-DSS 1.2, 1.3)\n\nScope: %s\n\nAsked: %s\n",
			mdEscape(strings.Join(r.Reach.Scope, "; ")), mdEscape(r.Reach.Asked))
		for _, part := range []struct {
			title string
			edges []checks.ReachEdge
		}{{"Into the scope", r.Reach.Ingress}, {"Out of the scope", r.Reach.Egress}} {
			fmt.Fprintf(&b, "\n### %s (%d)\n\n| From | To | Ports | Admitted by |\n|---|---|---|---|\n", part.title, len(part.edges))
			for _, e := range part.edges {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(e.From), mdEscape(e.To), mdEscape(strings.Join(e.Ports, ", ")), mdEscape(strings.Join(e.Via, "; ")))
			}
		}
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n## Skipped input\n")
		_ = writeSkipped(&b, r, mdEscape)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
