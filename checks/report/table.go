package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-k8s/vigil/checks"
)

// statusOrder puts what needs attention first.
var statusOrder = []checks.Status{checks.Fail, checks.Warn, checks.Unknown, checks.Pass, checks.NotApplicable}

func shown(s checks.Status, o Options) bool {
	return o.ShowPassed || (s != checks.Pass && s != checks.NotApplicable)
}

func writeTable(w io.Writer, r Report, o Options) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSEVERITY\tCHECK\tRESOURCE\tEVIDENCE")
	for _, st := range statusOrder {
		if !shown(st, o) {
			continue
		}
		for _, f := range r.Findings {
			if f.Status != st {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(f.Status)), r.check(f.Check).Severity, f.Check, f.Resource, oneLine(f.Evidence))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tGROUP\tCHECKLIST ITEM\tWHY")
	for _, it := range r.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", verdictText(it.Verdict), it.Group, it.Item, oneLine(it.Why))
		for _, n := range it.Needed {
			fmt.Fprintf(tw, "\t\t\tneeded: %s\n", oneLine(n))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeReach(w, r); err != nil {
		return err
	}
	if r.Drift != nil {
		fmt.Fprintln(w, "\nDRIFT")
		for _, l := range r.Drift.Lines() {
			fmt.Fprintln(w, oneLine(l))
		}
	}
	if _, err := fmt.Fprintf(w, "\n%s\n", strings.Join(summary(r), "\n")); err != nil {
		return err
	}
	return writeSkipped(w, r, oneLine)
}

// writeReach is the reachability matrix of the PCI scope as two tables.
func writeReach(w io.Writer, r Report) error {
	if r.Reach == nil {
		return nil
	}
	fmt.Fprintf(w, "\nWHO REACHES THE CARDHOLDER-DATA SCOPE (NetworkPolicy; PCI-DSS 1.2, 1.3)\nscope: %s\nasked: %s\n",
		oneLine(strings.Join(r.Reach.Scope, "; ")), oneLine(r.Reach.Asked))
	for _, part := range []struct {
		title string
		edges []checks.ReachEdge
	}{{"INTO THE SCOPE", r.Reach.Ingress}, {"OUT OF THE SCOPE", r.Reach.Egress}} {
		fmt.Fprintf(w, "\n%s (%d)\n", part.title, len(part.edges))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FROM\tTO\tPORTS\tADMITTED BY")
		for _, e := range part.edges {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oneLine(e.From), oneLine(e.To), strings.Join(e.Ports, ","), oneLine(strings.Join(e.Via, "; ")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeSkipped lists the input objects no check judged (table and
// markdown), each on one line.
func writeSkipped(w io.Writer, r Report, esc func(string) string) error {
	if len(r.Skipped) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "\nskipped %d input objects (judged by no check):\n", len(r.Skipped)); err != nil {
		return err
	}
	for _, s := range r.Skipped {
		if _, err := fmt.Fprintf(w, "- %s\n", esc(s.String())); err != nil {
			return err
		}
	}
	return nil
}

// summary is the verdict shared by table and markdown: coverage, both
// scores, caps and counts, one line each.
func summary(r Report) []string {
	c := r.Score.Counts
	out := []string{coverageLine(r), scoreLine(r)}
	out = append(out, capLines(r)...)
	return append(out, fmt.Sprintf("%d checks, %d findings: %d fail, %d warn, %d unknown, %d pass, %d not-applicable",
		len(r.Checks), len(r.Findings), c[checks.Fail], c[checks.Warn], c[checks.Unknown], c[checks.Pass], c[checks.NotApplicable]))
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
