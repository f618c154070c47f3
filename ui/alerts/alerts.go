// Package alerts is the Alerts screen: Prometheus and Alertmanager health,
// then firing and pending alerts grouped by severity and service, with
// since-when, summary, description and silenced state, then silences.
package alerts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// New returns the Alerts screen reading d.
func New(c common.Common, d *common.Data) *common.Page {
	p := &common.Page{Common: c, Data: d, Name: "Alerts"}
	p.Build = func(w int) []string { return build(c.Styles, d, w) }
	return p
}

func source(st theme.Theme, name string, s cluster.AlertSource, now time.Time) string {
	switch {
	case !s.Configured:
		return st.Muted.Render(fmt.Sprintf("%-13s not configured (set its URL in the vigil config)", name))
	case !s.Available:
		line := fmt.Sprintf("%-13s ✖ unavailable: %s (%s)", name, s.Err, s.URL)
		if !s.LastSuccess.IsZero() {
			line += " · last success " + widgets.Since(now, s.LastSuccess) + " ago"
		}
		return st.Crit.Render(line)
	}
	return st.OK.Render(fmt.Sprintf("%-13s ● up", name)) + st.Muted.Render(fmt.Sprintf(" %s · polled %s ago", s.URL, widgets.Since(now, s.LastSuccess)))
}

var severities = []string{"critical", "warning", "info"}

func build(st theme.Theme, d *common.Data, width int) []string {
	if !d.HaveSnap {
		return []string{st.Muted.Render("loading…")}
	}
	v := d.Snap.Alerts
	out := []string{
		source(st, "Prometheus", v.Prometheus, d.Now),
		source(st, "Alertmanager", v.Alertmanager, d.Now),
	}
	firing, pending, silenced := 0, 0, 0
	for _, a := range v.Alerts {
		switch {
		case len(a.SilencedBy) > 0 || a.State == "suppressed":
			silenced++
		case a.State == "firing":
			firing++
		default:
			pending++
		}
	}
	out = append(out, st.For(pick(firing > 0, theme.LevelCrit)).Render(fmt.Sprintf("%d firing", firing))+st.Muted.Render(" · ")+
		st.For(pick(pending > 0, theme.LevelWarn)).Render(fmt.Sprintf("%d pending", pending))+st.Muted.Render(fmt.Sprintf(" · %d silenced · %d rules", silenced, len(v.Rules))))
	if len(v.Alerts) == 0 {
		if v.Prometheus.Available || v.Alertmanager.Available {
			out = append(out, "", st.OK.Render("no alert is firing or pending"))
		}
	}
	// Group by severity, then service.
	groups := map[string][]cluster.Alert{}
	var others []string
	for _, a := range v.Alerts {
		sev := a.Severity
		if !slices.Contains(severities, sev) {
			if !slices.Contains(others, sev) {
				others = append(others, sev)
			}
		}
		groups[sev] = append(groups[sev], a)
	}
	slices.Sort(others)
	for _, sev := range append(slices.Clone(severities), others...) {
		as := groups[sev]
		if len(as) == 0 {
			continue
		}
		name := sev
		if name == "" {
			name = "no severity"
		}
		out = append(out, "", st.For(theme.SeverityLevel(sev)).Render(strings.ToUpper(name)+fmt.Sprintf(" (%d)", len(as))))
		bySvc := map[string][]cluster.Alert{}
		var keys []string
		for _, a := range as {
			k := a.Service
			if k == "" {
				k = a.Labels["namespace"]
				if k == "" {
					k = "(no service)"
				} else {
					k += "/?"
				}
			}
			if _, ok := bySvc[k]; !ok {
				keys = append(keys, k)
			}
			bySvc[k] = append(bySvc[k], a)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, st.Value.Render("  "+strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(k, "/Deployment"), "/StatefulSet"), "/DaemonSet")))
			for _, a := range bySvc[k] {
				out = append(out, "    "+render.AlertLine(st, a, d.Now, width-4))
				if a.Description != "" && a.Description != a.Summary {
					out = append(out, st.Muted.Render(widgets.Fit("      "+a.Description, width)))
				}
				if len(a.SilencedBy) > 0 {
					out = append(out, st.Muted.Render(widgets.Fit("      silenced by "+strings.Join(a.SilencedBy, ", "), width)))
				}
			}
		}
	}
	if len(v.Silences) > 0 {
		out = append(out, "", st.Accent.Render(fmt.Sprintf("SILENCES (%d)", len(v.Silences))))
		for _, s := range v.Silences {
			out = append(out, widgets.Fit(fmt.Sprintf("  %-8s %s ends in %s by %s: %s", s.State, strings.Join(s.Matchers, ","),
				widgets.Age(s.EndsAt.Sub(d.Now)), s.CreatedBy, s.Comment), width))
		}
	}
	var bad []string
	for _, r := range v.Rules {
		if r.Health == "err" {
			bad = append(bad, r.Name+": "+r.LastError)
		}
	}
	if len(bad) > 0 {
		out = append(out, "", st.Warn.Render("RULES WITH ERRORS"))
		for _, b := range bad {
			out = append(out, st.Warn.Render(widgets.Fit("  "+b, width)))
		}
	}
	return out
}

func pick(bad bool, l theme.Level) theme.Level {
	if bad {
		return l
	}
	return theme.LevelMuted
}
