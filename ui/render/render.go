// Package render draws domain values (HPAs, VPAs, conditions, alerts,
// error rates) as styled lines that more than one screen shows.
package render

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/history"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// HPALines renders an HPA in lines of at most w cells: replicas against min/max as a bar,
// each metric's current vs target, and its conditions, each wrapped whole under its own
// indent (a condition's message is what says why it does not scale). The autoscaling screen
// uses it too.
func HPALines(st theme.Theme, h estate.HPAInfo, w int) []string {
	fill, empty := widgets.Bar(float64(h.Current), float64(h.Max), float64(h.Min), 20)
	lvl := theme.LevelOK
	if h.AtMax {
		lvl = theme.LevelCrit
	} else if h.Saturation >= 0.8 {
		lvl = theme.LevelWarn
	}
	bar := st.For(lvl).Render(fill) + st.BarEmpty.Render(empty)
	counts := fmt.Sprintf("%d/%d (min %d, desired %d)", h.Current, h.Max, h.Min, h.Desired)
	var out []string
	if head := "hpa " + h.Name + "  " + bar + "  " + counts; ansi.StringWidth(head) <= w {
		out = append(out, head)
	} else {
		// The name, then the bar and the counts under it.
		out = append(out, widgets.Hanging("hpa ", h.Name, w)...)
		out = append(out, widgets.Hanging("  "+bar+"  ", counts, w)...)
	}
	if h.Reason != "" {
		out = append(out, styled(st.For(max(lvl, theme.LevelWarn)), widgets.Hanging("  ", h.Reason, w))...)
	}
	for _, mt := range h.Metrics {
		ml := theme.LevelOK
		if mt.Ratio < 0 {
			ml = theme.LevelWarn
		} else {
			ml = theme.Ratio(mt.Ratio)
		}
		line := fmt.Sprintf("  %-9s %-28s %s / target %s", strings.ToLower(mt.Type), mt.Name, mt.Current, mt.Target)
		ls := []string{line}
		if ansi.StringWidth(line) > w {
			ls = widgets.Hanging(fmt.Sprintf("  %-9s ", strings.ToLower(mt.Type)), mt.Name+"  "+mt.Current+" / target "+mt.Target, w)
		}
		out = append(out, styled(st.For(ml), ls)...)
	}
	for _, c := range h.Conditions {
		out = append(out, Condition(st, c, w)...)
	}
	return out
}

// Condition renders a status condition in lines of at most w cells, its reason and message
// wrapped under "Type=Status", warning when it is a bad one.
func Condition(st theme.Theme, c estate.Condition, w int) []string {
	lvl := theme.LevelMuted
	bad := (c.Status == "False" && c.Type != "ScalingLimited") || (c.Status == "True" && c.Type == "ScalingLimited")
	if bad {
		lvl = theme.LevelWarn
	}
	prefix := fmt.Sprintf("  %s=%s", c.Type, c.Status)
	if c.Reason == "" && c.Message == "" {
		return []string{st.For(lvl).Render(prefix)}
	}
	text := c.Reason
	if c.Message != "" {
		text = strings.TrimPrefix(text+": "+c.Message, ": ")
	}
	return styled(st.For(lvl), widgets.Hanging(prefix+" ", text, w))
}

// styled renders each line in style s.
func styled(s lipgloss.Style, lines []string) []string {
	for i, l := range lines {
		lines[i] = s.Render(l)
	}
	return lines
}

// VPALines renders a VPA's recommendation next to the requests, drift highlighted, in lines
// of at most w cells; note (" (drift)") is said after the head.
func VPALines(st theme.Theme, v estate.VPAInfo, w int, note string) []string {
	head := "mode " + v.UpdateMode
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range v.Containers {
		for _, rt := range [][2]int64{{c.Requests.CPU, c.Target.CPU}, {c.Requests.Memory, c.Target.Memory}} {
			if rt[0] > 0 && rt[1] > 0 {
				r := float64(rt[0]) / float64(rt[1])
				lo, hi = min(lo, r), max(hi, r)
			}
		}
	}
	switch {
	case lo > hi: // no resource with both figures
	case times(lo) == times(hi):
		head += "  requests " + times(hi) + "× recommended"
	default:
		head += "  requests " + times(lo) + "–" + times(hi) + "× recommended"
	}
	out := widgets.Hanging("vpa ", v.Name+"  "+head+note, w)
	if note != "" {
		out = styled(st.Warn, out)
	}
	for _, c := range v.Containers {
		lvl := theme.LevelOK
		if c.OutOfBounds {
			lvl = theme.LevelWarn
		}
		bounds := ""
		if c.OutOfBounds {
			bounds = " (requests outside the recommended bounds)"
		}
		out = append(out, styled(st.For(lvl), widgets.Hanging("  ", c.Name+bounds, w))...)
		out = append(out, styled(st.For(lvl), widgets.Hanging("    ", VPAResource("cpu", c.Requests.CPU, c.Target.CPU, c.LowerBound.CPU, c.UpperBound.CPU, millicores), w))...)
		out = append(out, styled(st.For(lvl), widgets.Hanging("    ", VPAResource("mem", c.Requests.Memory, c.Target.Memory, c.LowerBound.Memory, c.UpperBound.Memory, widgets.Bytes), w))...)
	}
	for _, c := range v.Conditions {
		out = append(out, Condition(st, c, w)...)
	}
	return out
}

// VPAResource says how a container's requests of one resource compare with
// what the VPA recommends, always as requests ÷ recommendation:
// "cpu  requests 500m are 2.5× the 203m VPA recommends (range 150m–400m)".
func VPAResource(name string, req, target, lo, hi int64, format func(int64) string) string {
	rng := ""
	if lo > 0 || hi > 0 {
		rng = " (range " + format(lo) + "–" + format(hi) + ")"
	}
	switch {
	case target <= 0 && req <= 0:
		return name + "  no requests, no VPA recommendation yet"
	case target <= 0:
		return name + "  requests " + format(req) + ", no VPA recommendation yet"
	case req <= 0:
		return name + "  no requests; VPA recommends " + format(target) + rng
	}
	return fmt.Sprintf("%s  requests %s are %s× the %s VPA recommends%s", name, format(req), times(float64(req)/float64(target)), format(target), rng)
}

// millicores renders CPU in one unit throughout a VPA line: 1000m, 203m.
func millicores(m int64) string { return fmt.Sprintf("%dm", m) }

// times renders a ratio with two significant figures: 2.5, 0.41, 12.
func times(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f", r)
	case r >= 1:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", r), ".0")
	}
	return fmt.Sprintf("%.2g", r)
}

// AlertLine renders one alert in a line of width cells: state, severity,
// name, since when, silenced state and summary.
func AlertLine(st theme.Theme, a estate.Alert, now time.Time, width int) string {
	lvl := theme.SeverityLevel(a.Severity)
	state := a.State
	if len(a.SilencedBy) > 0 {
		state, lvl = "silenced", theme.LevelMuted
	} else if a.State == "pending" {
		lvl = min(lvl, theme.LevelWarn)
	}
	text := a.Summary
	if text == "" {
		text = a.Description
	}
	line := fmt.Sprintf("%-9s %-9s %-26s %5s  %s", state, a.Severity, a.Name, widgets.Since(now, a.Since), text)
	return st.For(lvl).Render(widgets.Fit(line, width))
}

// Pct renders a ratio as a whole percentage in at most four cells, "-"
// when negative (unknown). From 1000 % on it gives the multiple ("12×"),
// so a narrow column shows a readable value rather than a cut "206…".
func Pct(r float64) string {
	switch {
	case r < 0:
		return "-"
	case r*100 < 999.5:
		return fmt.Sprintf("%d%%", int(r*100+0.5))
	case r < 999.5:
		return fmt.Sprintf("%d×", int(r+0.5))
	default:
		return "≥1k×"
	}
}

// ErrorRateLine is label (padded to 9) then the service's 5xx share as a
// sparkline of its kept samples (percent) and "25.0% of 80 req/s" now, or
// "error rate unavailable: <why>" while the snapshot has no figure for it.
func ErrorRateLine(st theme.Theme, label string, s estate.Service, ser []history.Sample, alerts estate.AlertsView, width int) string {
	label = widgets.Pad(label, 9, false)
	if !s.ErrorRateKnown {
		return st.Muted.Render(label + "error rate unavailable: " + ErrorRateWhy(alerts))
	}
	v := history.Values(ser, func(x history.Sample) float64 { return x.Errors })
	now := fmt.Sprintf("%.1f%% of %s req/s", 100*s.ErrorRate, reqRate(s.RequestRate))
	return label + st.Spark.Render(widgets.Sparkline(v, width)) + " " + st.For(theme.ErrorRateLevel(s.ErrorRate)).Render(now)
}

// ErrorRateWhy says why a service has no error rate.
func ErrorRateWhy(a estate.AlertsView) string {
	switch {
	case !a.Prometheus.Configured:
		return "no Prometheus configured"
	case a.RatesErr != "":
		return a.RatesErr
	case !a.Prometheus.Available:
		return "Prometheus unavailable"
	}
	return "no http_requests_total series for it"
}

func reqRate(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}
