package services

import (
	"fmt"
	"strings"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/events"
	"github.com/vigil-k8s/vigil/ui/history"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// row lays cells out in columns of the given widths; the last is not padded.
func row(widths []int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i < len(widths) && i < len(cells)-1 {
			b.WriteString(widgets.Pad(c, widths[i], false))
		} else {
			b.WriteString(c)
		}
	}
	return b.String()
}

func (m *Detail) summary(b *lines) {
	st, s := m.common.Styles, m.svc
	health := render.Health(st, s.Health.Status)
	head := st.Title.Render(s.Namespace+"/"+s.Name) + " " + st.Muted.Render(strings.ToLower(s.Kind)) + "  "
	if s.Health.Reason == "" {
		b.add(head + health.Render(s.Health.Status.String()))
	} else {
		// The reason whole, wrapped under it: it names the pod and what it is doing.
		b.add(widgets.HangingStyled(head, s.Health.Status.String()+": "+s.Health.Reason, b.width, func(l string) string { return health.Render(l) })...)
	}
	b.add(st.Muted.Render("replicas ") + fmt.Sprintf("%d/%d ready · %d up-to-date · %d available · %d pods · %d restarts",
		s.Ready, s.Desired, s.UpToDate, s.Available, s.PodCount, s.Restarts))
	if len(s.Images) > 0 {
		b.add(st.Muted.Render("images   ") + strings.Join(s.Images, ", "))
	}
	snap := &m.data.Snap
	if s.PDB.Name == "" {
		b.add(render.UnseenLines(st, "pdb", snap.Visibility(s.Namespace, checks.ResPDBs), b.width)...)
	} else {
		p := s.PDB
		disruptions := "disruptions"
		if p.DisruptionsAllowed == 1 {
			disruptions = "disruption"
		}
		// Not "2/1 healthy": the second figure is the least the budget requires, not a total.
		line := fmt.Sprintf("pdb %s min %s max-unavail %s · %d healthy, %d required · %d %s allowed", p.Name, dash(p.MinAvailable), dash(p.MaxUnavailable),
			p.CurrentHealthy, p.DesiredHealthy, p.DisruptionsAllowed, disruptions)
		if p.Blocking {
			b.add(st.Warn.Render(line + " (a drain would stall)"))
		} else {
			b.add(st.Muted.Render(line))
		}
	}
	for _, e := range s.Endpoints {
		b.add(st.Muted.Render(fmt.Sprintf("service  %s %s %s %s · %d ready, %d not ready endpoints", e.Name, e.Type, e.ClusterIP, strings.Join(e.Ports, ","), e.Ready, e.NotReady)))
	}
	if s.Argo.Name != "" {
		b.add(st.Muted.Render("argo cd  ") + fmt.Sprintf("%s/%s %s/%s", s.Argo.Namespace, s.Argo.Name, s.Argo.Sync, s.Argo.Health))
	} else if v := snap.Visibility(s.Namespace, checks.ResApplications); !v.Known() {
		b.add(render.UnseenLines(st, "argo cd ", v, b.width)...)
	}
	m.trends(b)
}

// trends draws the sparklines of the last minutes and the usage bars.
func (m *Detail) trends(b *lines) {
	st, s := m.common.Styles, m.svc
	ser := m.data.History.Series(s.Key())
	const sparkW = 30
	spark := func(label string, f func(history.Sample) float64, now string) {
		v := history.Values(ser, f)
		b.add(widgets.Pad(label, 9, false) + st.Spark.Render(widgets.Sparkline(v, sparkW)) + " " + now)
	}
	b.section("TRENDS (last "+fmt.Sprint(len(ser))+" samples)", m)
	spark("ready", func(x history.Sample) float64 { return x.Ready }, fmt.Sprintf("%d/%d", s.Ready, s.Desired))
	spark("replicas", func(x history.Sample) float64 { return x.Replicas }, fmt.Sprint(s.Desired))
	u := s.Usage
	if !u.Available {
		b.add(st.Muted.Render(widgets.Pad("cpu/mem", 9, false) + "usage unavailable: " + m.data.Snap.Usage.Why(s.Namespace)))
	}
	b.add(render.ErrorRateLine(st, "errors", s, ser, m.data.Snap.Alerts, sparkW))
	spark("alerts", func(x history.Sample) float64 { return x.Firing }, fmt.Sprint(firing(&s)))
	if u.Available {
		// One row per resource: its trend, then its use against the request and limit, a bar
		// between them where the width allows.
		bar := 0
		if b.width >= 9+sparkW+1+20+1+32 {
			bar = 20
		}
		b.add(widgets.Pad("cpu", 9, false) + st.Spark.Render(widgets.Sparkline(history.Values(ser, func(x history.Sample) float64 { return x.CPU }), sparkW)) + " " +
			m.usageBar(bar, float64(u.CPU), float64(u.CPURequest), float64(u.CPULimit), widgets.Milli(u.CPU), widgets.Milli(u.CPURequest), widgets.Milli(u.CPULimit)))
		b.add(widgets.Pad("memory", 9, false) + st.Spark.Render(widgets.Sparkline(history.Values(ser, func(x history.Sample) float64 { return x.Memory }), sparkW)) + " " +
			m.usageBar(bar, float64(u.Memory), float64(u.MemoryRequest), float64(u.MemoryLimit), widgets.Bytes(u.Memory), widgets.Bytes(u.MemoryRequest), widgets.Bytes(u.MemoryLimit)))
		if s.UsagePods < s.PodCount {
			b.add(st.Muted.Render(widgets.Pad("", 9, false) + fmt.Sprintf("usage of %d of %d pods: metrics.k8s.io has no figures for the others yet (CPU/MEM \"-\" below)", s.UsagePods, s.PodCount)))
		}
	}
}

// usageBar draws use against the limit (or the request when no limit) in w cells, marking
// the request (no bar when w is 0), then the figures, coloured by how close use is to them.
func (m *Detail) usageBar(w int, used, req, lim float64, usedS, reqS, limS string) string {
	st := m.common.Styles
	lvl := theme.LevelOK
	if req > 0 {
		lvl = theme.Ratio(used / req)
	}
	if lim > 0 {
		lvl = max(lvl, theme.Ratio(used/lim))
	}
	txt := fmt.Sprintf("%s of request %s, limit %s", usedS, orDash(req, reqS), orDash(lim, limS))
	if w <= 0 {
		return st.For(lvl).Render(txt)
	}
	scale := lim
	if scale <= 0 {
		scale = max(req, used)
	}
	fill, empty := widgets.Bar(used, scale, req, w)
	return st.For(lvl).Render(fill) + st.BarEmpty.Render(empty) + " " + txt
}

func orDash(v float64, s string) string {
	if v <= 0 {
		return "none"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (m *Detail) pods(b *lines) {
	st, s := m.common.Styles, m.svc
	b.section(fmt.Sprintf("PODS (%d)", len(s.Pods)), m)
	if len(s.Pods) == 0 {
		b.add(st.Muted.Render("no pods"))
		return
	}
	w := []int{maxLen(s.Pods, func(p estate.PodInfo) string { return p.Name }, 4, 48), 18, 5, 4, 16, 16, 5, 6}
	b.add(st.TableHeader.Render(row(w, "NAME", "STATUS", "READY", "RST", "LAST TERMINATION", "NODE", "AGE", "CPU/MEM")))
	for _, p := range s.Pods {
		ready := podReady(p)
		use := "-"
		if p.Usage.Available {
			use = widgets.Milli(p.Usage.CPU) + "/" + widgets.Bytes(p.Usage.Memory)
		}
		lvl := theme.LevelOK
		if !p.Ready {
			lvl = theme.LevelCrit
		}
		line := row(w, p.Name, p.Status, ready, fmt.Sprint(p.Restarts), dash(p.LastTermination), dash(p.Node), widgets.Since(m.data.Now, p.Created), use)
		b.add(st.For(lvl).Render(line))
	}
}

// podReady is kubectl's READY: ready containers / containers.
func podReady(p estate.PodInfo) string {
	if len(p.Containers) == 0 {
		return "-"
	}
	n := 0
	for _, c := range p.Containers {
		if c.Ready {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(p.Containers))
}

func maxLen[T any](xs []T, f func(T) string, lo, hi int) int {
	n := lo
	for _, x := range xs {
		n = max(n, len(f(x)))
	}
	return min(n, hi)
}

func (m *Detail) history(b *lines) {
	st, s := m.common.Styles, m.svc
	b.section(fmt.Sprintf("ROLLOUT HISTORY (%d)", len(s.Revisions)), m)
	if len(s.Revisions) == 0 {
		b.add(st.Muted.Render("no revisions"))
		return
	}
	// The images take the width the change-cause leaves: two revisions must not read the same.
	// Too narrow for them, an image keeps its tail (tag or digest), what tells revisions apart.
	images := func(r estate.Revision) string { return strings.Join(r.Images, ",") }
	causeW := maxLen(s.Revisions, func(r estate.Revision) string { return dash(r.ChangeCause) }, 12, 30)
	imgW := maxLen(s.Revisions, images, 6, 1<<20)
	if room := b.width - (4 + 1 + 6 + 1) - (1 + 5 + 1) - causeW; imgW > room {
		imgW = max(16, room)
	}
	w := []int{4, 6, imgW, 5}
	b.add(st.TableHeader.Render(row(w, "REV", "PODS", "IMAGES", "AGE", "CHANGE-CAUSE")))
	for _, r := range s.Revisions {
		rev := fmt.Sprint(r.Number)
		if r.Current {
			rev += "*"
		}
		line := row(w, rev, fmt.Sprintf("%d/%d", r.Ready, r.Replicas), widgets.FitTail(images(r), imgW), widgets.Since(m.data.Now, r.Created), dash(r.ChangeCause))
		if r.Current {
			b.add(st.Value.Render(line))
		} else {
			b.add(line)
		}
	}
}

func (m *Detail) autoscaling(b *lines) {
	st, s := m.common.Styles, m.svc
	b.section("AUTOSCALING", m)
	snap := &m.data.Snap
	switch v := snap.Visibility(s.Namespace, checks.ResHPAs); {
	case s.HPA.Name != "":
		b.add(render.HPALines(st, s.HPA, b.width)...)
	case v.Seen():
		b.add(st.Muted.Render("no HorizontalPodAutoscaler targets this workload"))
	default:
		b.add(render.UnseenLines(st, "HorizontalPodAutoscalers", v, b.width)...)
	}
	switch v := snap.Visibility(s.Namespace, checks.ResVPAs); {
	case s.VPA.Name != "":
		b.add(render.VPALines(st, s.VPA, b.width, "")...)
	case v.Seen():
		b.add(st.Muted.Render("no VerticalPodAutoscaler targets this workload"))
	default:
		b.add(render.UnseenLines(st, "VerticalPodAutoscalers", v, b.width)...)
	}
}

func (m *Detail) alerts(b *lines) {
	st, s := m.common.Styles, m.svc
	b.section(fmt.Sprintf("ALERTS (%d)", len(s.Alerts)), m)
	if len(s.Alerts) == 0 {
		src := m.data.Snap.Alerts
		switch {
		case !src.Prometheus.Configured && !src.Alertmanager.Configured:
			b.add(st.Muted.Render("no Prometheus or Alertmanager configured for this context"))
		case !src.Prometheus.Available && !src.Alertmanager.Available:
			b.add(st.Warn.Render("alerts unavailable: " + dash(src.Prometheus.Err+src.Alertmanager.Err)))
		default:
			b.add(st.OK.Render("none firing or pending"))
		}
		return
	}
	for _, a := range s.Alerts {
		b.add(render.AlertLine(st, a, m.data.Now, b.width))
	}
}

// detailEvents is how many events the detail shows; e shows them all.
const detailEvents = 10

func (m *Detail) events(b *lines) {
	st, s := m.common.Styles, m.svc
	if m.evsAt.IsZero() {
		m.warningEvents(b)
		return
	}
	evs := m.evs.Events
	b.section(fmt.Sprintf("RECENT EVENTS (%d of every type, newest first; e: all, filter, conditions)", len(evs)), m)
	if len(evs) == 0 {
		b.add(st.Muted.Render("no events of " + strings.ToLower(s.Kind) + " " + s.Name + ", its ReplicaSets or its pods"))
	} else {
		b.add(st.TableHeader.Render(widgets.Fit(events.EventHeader(), b.width)))
	}
	for _, e := range evs[:min(len(evs), detailEvents)] {
		b.add(events.EventLines(st, e, m.data.Now, b.width)...)
	}
	var notTrue []estate.ObjectCondition
	for _, c := range m.evs.Conditions {
		if c.Kind != "Pod" || c.Status != "True" {
			notTrue = append(notTrue, c)
		}
	}
	b.section(fmt.Sprintf("CONDITIONS (%s's; its pods' that are not True)", strings.ToLower(s.Kind)), m)
	if len(notTrue) == 0 {
		b.add(st.Muted.Render("none"))
	}
	for _, c := range notTrue {
		b.add(events.ConditionLines(st, c, m.data.Now, b.width)...)
	}
}

// warningEvents shows the snapshot's events (the session watches Warning
// events only) until the events of every type arrive.
func (m *Detail) warningEvents(b *lines) {
	st, s := m.common.Styles, m.svc
	var evs []estate.KubeEvent
	for _, e := range m.data.Snap.Events {
		if e.Namespace == s.Namespace && (e.Name == s.Name || strings.HasPrefix(e.Name, s.Name+"-")) {
			evs = append(evs, e)
			if len(evs) == detailEvents {
				break
			}
		}
	}
	title := fmt.Sprintf("RECENT EVENTS (%d warnings; fetching every type…)", len(evs))
	if m.evsErr != "" || m.data.Events == nil {
		title = fmt.Sprintf("RECENT EVENTS (%d warnings)", len(evs))
	}
	b.section(title, m)
	if m.evsErr != "" {
		b.add(st.Warn.Render("events of every type unavailable: " + m.evsErr))
	}
	if len(evs) == 0 {
		b.add(st.Muted.Render("no recent warnings"))
	}
	for _, e := range evs {
		b.add(events.EventLines(st, e, m.data.Now, b.width)...)
	}
}

func (m *Detail) checks(b *lines) {
	st, s := m.common.Styles, m.svc
	c := m.data.Snap.Findings
	fs := c.For(s.Kind, s.Namespace, s.Name)
	b.section(fmt.Sprintf("CHECKLIST FINDINGS (%d)", len(fs)), m)
	switch {
	case c.At.IsZero():
		b.add(st.Muted.Render("evaluating the checklist…"))
		return
	case len(fs) == 0:
		b.add(st.Muted.Render("no findings name this workload"))
		return
	}
	// Failures first.
	for _, want := range []checks.Status{checks.Fail, checks.Warn, checks.Unknown, checks.Pass} {
		for _, f := range fs {
			if f.Status != want {
				continue
			}
			// Wrapped, not cut: the evidence's end names the field or the fix.
			for _, l := range widgets.Hanging(fmt.Sprintf("%-5s %-34s ", f.Status, f.Check), f.Evidence, b.width) {
				b.add(render.Check(st, f.Status).Render(l))
			}
			if f.Status != checks.Pass && f.Remediation != "" {
				for _, l := range widgets.Hanging("      fix: ", f.Remediation, b.width) {
					b.add(st.Muted.Render(l))
				}
			}
		}
	}
}

func (m *Detail) actionLines(b *lines) {
	st := m.common.Styles
	b.section("ACTIONS (a: run)", m)
	switch {
	case m.actions == nil:
		b.add(st.Muted.Render("actions are not available in this build"))
	case !m.loaded:
		b.add(st.Muted.Render("checking permissions and preconditions…"))
	case m.stateErr != "":
		b.add(st.Warn.Render("actions unavailable: " + m.stateErr))
	}
	if m.actions != nil {
		b.add(actionsui.Lines(m.common, m.items(), m.states, m.loaded)...)
	}
}
