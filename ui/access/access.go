// Package access holds the pages that answer who may do what and who may
// reach what, from the objects the checks were evaluated on: who-can (RBAC
// as the API shows it: bindings, roles, aggregation) and the reachability
// matrix of the cardholder-data scope (NetworkPolicy as enforced).
package access

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Presets are the questions the who-can page offers when asked none: the
// ones a PCI review asks of the payment estate.
var Presets = []string{
	"get secrets payment-secrets -n fintech-prod",
	"create pods/exec -n fintech-prod",
	"create pods -n fintech-prod",
	"escalate clusterroles",
	"bind clusterroles",
	"impersonate users",
}

// ParseQuestion reads "VERB RESOURCE[/SUB] [NAME] [-n NS]" as typed after :who-can.
func ParseQuestion(text string) (checks.WhoCanQuestion, error) {
	var args []string
	ns := ""
	f := strings.Fields(text)
	for i := 0; i < len(f); i++ {
		switch a := f[i]; {
		case a == "-n" || a == "--namespace":
			if i+1 >= len(f) {
				return checks.WhoCanQuestion{}, fmt.Errorf("%s needs a namespace", a)
			}
			i++
			ns = f[i]
		case strings.HasPrefix(a, "-n="), strings.HasPrefix(a, "--namespace="):
			_, ns, _ = strings.Cut(a, "=")
		default:
			args = append(args, a)
		}
	}
	if len(args) < 2 || len(args) > 3 {
		return checks.WhoCanQuestion{}, fmt.Errorf("want VERB RESOURCE [NAME] [-n NAMESPACE], e.g. %s", Presets[0])
	}
	name := ""
	if len(args) == 3 {
		name = args[2]
	}
	return checks.NewWhoCanQuestion(args[0], args[1], name, ns)
}

// evaluated is the inventory the page reads, or why there is none yet.
func evaluated(d *common.Data) (*checks.Inventory, string) {
	f := d.Snap.Findings
	switch {
	case f.Inventory == nil:
		return nil, "waiting for the first evaluation of " + termsafe.Line(d.Context) + "…"
	// A session's inventory is scrubbed with its objects (termsafe), its origin with it.
	case f.Inventory.Origin != "" && f.Inventory.Origin != d.Context && f.Inventory.Origin != termsafe.Line(d.Context):
		return nil, "waiting for the first evaluation of " + termsafe.Line(d.Context) + "…"
	}
	return f.Inventory, ""
}

// NewWhoCan is the who-can page. With a question it answers it, again on
// every evaluation; without one it lists the presets, Enter answering one.
func NewWhoCan(c common.Common, d *common.Data, text string) *common.Page {
	p := &common.Page{Common: c, Data: d, Name: "Who can", Pop: true}
	if strings.TrimSpace(text) == "" {
		p.Select = func(width int) ([]string, []int) {
			st := c.Styles
			lines := []string{st.Accent.Render("who can … in " + termsafe.Line(d.Context) + "? Enter asks; :who-can VERB RESOURCE [NAME] [-n NS] asks anything"), ""}
			var rows []int
			for _, q := range Presets {
				rows = append(rows, len(lines))
				lines = append(lines, widgets.Fit("  who can "+q, width))
			}
			return lines, rows
		}
		p.Keys = func(k tea.KeyPressMsg) (tea.Cmd, bool) {
			if !key.Matches(k, c.Keys.Enter) {
				return nil, false
			}
			if i, ok := p.Cursor(); ok {
				p.PushChild(NewWhoCan(c, d, Presets[i]))
			}
			return nil, true
		}
		return p
	}
	q, err := ParseQuestion(text)
	p.Build = func(width int) []string {
		st := c.Styles
		if err != nil {
			return []string{render.Check(st, checks.Fail).Render(widgets.Fit("who-can "+text+": "+err.Error(), width))}
		}
		inv, why := evaluated(d)
		if inv == nil {
			return []string{st.Muted.Render(why)}
		}
		ans := checks.WhoCan(inv, q)
		where := "cluster-wide"
		if q.Namespace != "" {
			where = "in namespace " + q.Namespace
		}
		out := []string{st.Accent.Render(widgets.Fit(fmt.Sprintf("who can %s (%s, context %s): %d subjects", q, where, d.Context, len(ans.Subjects)), width)),
			st.Muted.Render(widgets.Fit("RBAC as evaluated "+widgets.Since(d.Now, d.Snap.Findings.At)+" ago; the bindings of the watched namespaces and every ClusterRoleBinding", width)), ""}
		for _, s := range ans.Subjects {
			out = append(out, st.Value.Render(widgets.Fit(s.String(), width)))
			for _, v := range s.Via {
				out = append(out, widgets.Fit("  via "+v.String(), width), st.Muted.Render(widgets.Fit("      "+v.RuleString(), width)))
			}
		}
		if len(ans.Subjects) == 0 {
			out = append(out, st.Muted.Render("no subject is granted it by RBAC"))
		}
		if len(ans.Notes) > 0 {
			out = append(out, "")
		}
		for _, n := range ans.Notes {
			out = append(out, render.Check(st, checks.Warn).Render(widgets.Fit("note: "+n, width)))
		}
		return out
	}
	return p
}

// NewReach is the reachability page: the PCI scope, every connection into
// it and out of it, each with its ports and the policies that admit it.
// The matrix is worked out once per evaluation.
func NewReach(c common.Common, d *common.Data) *common.Page {
	p := &common.Page{Common: c, Data: d, Name: "Reachability", Pop: true}
	var (
		of *checks.Inventory
		r  checks.Reachability
	)
	p.Build = func(width int) []string {
		st := c.Styles
		inv, why := evaluated(d)
		if inv == nil {
			return []string{st.Muted.Render(why)}
		}
		if inv != of {
			of, r = inv, inv.Reachability()
		}
		out := []string{st.Accent.Render(widgets.Fit(fmt.Sprintf("who reaches the cardholder-data scope of %s (PCI-DSS 1.2/1.3), as evaluated %s ago: %d workloads, %d connections in, %d out",
			d.Context, widgets.Since(d.Now, d.Snap.Findings.At), len(r.Scope), len(r.Ingress), len(r.Egress)), width)),
			st.Muted.Render(widgets.Fit("asked: "+r.Asked, width)), ""}
		if len(r.Scope) == 0 {
			return append(out, st.Muted.Render("no PCI workload in the watched namespaces"))
		}
		out = append(out, st.Value.Render("SCOPE"))
		for _, s := range r.Scope {
			out = append(out, widgets.Fit("  "+s, width))
		}
		edges := func(title string, es []checks.ReachEdge) {
			out = append(out, "", st.Value.Render(title))
			if len(es) == 0 {
				out = append(out, st.Muted.Render("  none admitted"))
			}
			for _, e := range es {
				line := fmt.Sprintf("  %s → %s  %s", e.From, e.To, strings.Join(e.Ports, ","))
				style := st.Muted
				if strings.HasPrefix(e.From, "outside ") || strings.HasPrefix(e.To, "outside ") || strings.HasPrefix(e.From, "a pod in another namespace") {
					style = render.Check(st, checks.Warn)
				}
				out = append(out, style.Render(widgets.Fit(line, width)))
				for _, v := range e.Via {
					out = append(out, st.Muted.Render(widgets.Fit("      "+v, width)))
				}
			}
		}
		edges("INTO THE SCOPE (ingress)", r.Ingress)
		edges("OUT OF THE SCOPE (egress)", r.Egress)
		return out
	}
	return p
}
