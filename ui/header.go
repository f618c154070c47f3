package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "vigil " + termsafe.Line(m.onScreen.Context)
	return v
}

// Render returns the screen as a string (View's content), for tests.
func (m *Model) Render() string {
	w, h := m.common.Width, m.common.Height
	if w <= 0 || h <= 0 {
		return ""
	}
	if m.tooSmall() {
		return m.tooSmallView()
	}
	bodyH := max(0, h-m.chromeHeight())
	body := m.bodyView(bodyH)
	parts := []string{m.headerView(), m.tabsView(), body, m.statusView(), m.helpView()}
	return strings.Join(parts, "\n")
}

// MinWidth and MinHeight are the smallest terminal the screens are drawn
// in: below, the chrome (two header lines, tabs, status, help) would
// overflow and crowd out the body.
const MinWidth, MinHeight = 80, 24

// tooSmall reports whether the terminal is below MinWidth×MinHeight.
func (m *Model) tooSmall() bool {
	return m.common.Width < MinWidth || m.common.Height < MinHeight
}

// tooSmallView asks for a larger terminal, with the current size, centred
// and cut to the terminal.
func (m *Model) tooSmallView() string {
	w, h := m.common.Width, m.common.Height
	st := m.common.Styles
	lines := []string{
		st.Warn.Render(fmt.Sprintf("enlarge the terminal to at least %d×%d", MinWidth, MinHeight)),
		st.Muted.Render(fmt.Sprintf("now %d×%d · q quits", w, h)),
	}
	out := make([]string, h)
	top := max(0, (h-len(lines))/2)
	for i, l := range lines {
		if top+i >= h {
			break
		}
		pad := max(0, (w-lipgloss.Width(l))/2)
		out[top+i] = ansi.Truncate(strings.Repeat(" ", pad)+l, w, "…")
	}
	return strings.Join(out, "\n")
}

// bodyView draws the focused component, or the component under a modal
// with the modal composed over it, padded to exactly h lines.
func (m *Model) bodyView(h int) string {
	top := m.Top()
	ov, isOverlay := top.(common.Overlay)
	base := top
	if isOverlay && len(m.stack) > 1 {
		base = m.stack[len(m.stack)-2]
	}
	body := fit(base.View(), h)
	if !isOverlay {
		return body
	}
	modal := top.View()
	mw, mh := lipgloss.Width(modal), lipgloss.Height(modal)
	x, y := max(0, (m.common.Width-mw)/2), max(0, (h-mh)/2)
	if ov.Placement() == "bottom" {
		x, y = 0, max(0, h-mh)
	}
	c := lipgloss.NewCompositor(lipgloss.NewLayer(body), lipgloss.NewLayer(modal).X(x).Y(y).Z(1))
	return fit(c.Render(), h)
}

// fit pads or cuts s to exactly h lines.
func fit(s string, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// headerView is two lines: where (context, cluster, user, READ-ONLY) and
// how fresh (connection state, data age, counts by status).
func (m *Model) headerView() string {
	st := m.common.Styles
	w := m.common.Width
	sep := st.Muted.Render("  ")
	// The kubeconfig's names and addresses are shown escaped (termsafe), as cluster text is.
	clusterName := strings.TrimPrefix(m.onScreen.Server, "https://")
	for _, c := range m.data.Contexts {
		if c.Name == m.onScreen.Context && c.Cluster != "" {
			clusterName = c.Cluster + " (" + strings.TrimPrefix(c.Server, "https://") + ")"
		}
	}
	clusterName = termsafe.Line(clusterName)
	user := st.Value.Render(termsafe.Line(m.onScreen.User))
	if m.onScreen.Anonymous {
		// The name is the kubeconfig's, but nothing authenticates as it.
		user = st.Warn.Render(termsafe.Line(m.onScreen.User) + " (no credentials: anonymous)")
	}
	if m.onScreen.As != "" {
		// Every request is authorized as the impersonated user: that is who acts.
		user += st.Muted.Render(" as ") + st.Warn.Render(termsafe.Line(m.onScreen.As))
	}
	onScreen := termsafe.Line(m.onScreen.Context)
	ctxName := st.Value.Render(onScreen)
	if sw := m.sess.switching; sw != "" && (sw != m.onScreen.Context || m.onScreen.Generation == 0) {
		ctxName = st.Muted.Render(onScreen+" → ") + st.Warn.Render(termsafe.Line(sw))
		if m.onScreen.Generation == 0 {
			ctxName = st.Warn.Render(termsafe.Line(sw))
		}
	}
	var badge, warning string
	if m.common.ReadOnly {
		badge = st.Badge.Render(" READ-ONLY ")
		if m.writeWarning != "" {
			warning = st.Warn.Render(m.writeWarning)
		}
	}
	where := headerWhere(w, sep, headerSeg{text: st.Title.Render("vigil")}, headerSeg{text: st.Muted.Render("ctx ") + ctxName, keep: true},
		headerSeg{text: st.Muted.Render("cluster ") + st.Value.Render(clusterName), prio: 1, cut: true},
		headerSeg{text: st.Muted.Render("user ") + user, prio: 3, cut: true},
		headerSeg{text: badge, keep: true, glue: " "},
		// The guarantee comes from vigil, not from RBAC: say so, as room allows.
		headerSeg{text: warning, prio: 2, cut: true, glue: " "},
	)
	return where + "\n" + ansi.Truncate(m.stateLine(), w, "…")
}

// headerSeg is one part of the header's first line. keep parts (the context name, the
// READ-ONLY badge) are never cut while they fit the line; the others give way in order of prio
// (lowest first kept): a cut one is truncated with "…", one with no room left is left out.
// glue is what precedes it (sep when empty).
type headerSeg struct {
	text      string
	keep, cut bool
	prio      int
	glue      string
}

// headerWhere lays segs out on one line of at most w cells: first the kept ones, then the
// others by prio while room remains, in their own order on the line.
func headerWhere(w int, sep string, segs ...headerSeg) string {
	glue := func(i int) string {
		if i == 0 {
			return ""
		}
		if segs[i].glue != "" {
			return segs[i].glue
		}
		return sep
	}
	shown := make([]string, len(segs))
	room := w
	for i, s := range segs {
		if s.keep && s.text != "" {
			shown[i] = s.text
			room -= lipgloss.Width(glue(i) + s.text)
		}
	}
	order := make([]int, 0, len(segs))
	for i, s := range segs {
		if !s.keep && s.text != "" {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return segs[a].prio - segs[b].prio })
	for _, i := range order {
		g, s := glue(i), segs[i]
		need := lipgloss.Width(g + s.text)
		switch {
		case need <= room:
			shown[i] = s.text
			room -= need
		case s.cut && room-lipgloss.Width(g) >= 14:
			shown[i] = ansi.Truncate(s.text, room-lipgloss.Width(g), "…")
			room = 0
		}
	}
	var b strings.Builder
	for i, s := range shown {
		if s == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(glue(i))
		}
		b.WriteString(s)
	}
	// Only a context name longer than the line itself is cut.
	return ansi.Truncate(b.String(), w, "…")
}

// stateLine renders connection state, data age and health counts.
func (m *Model) stateLine() string {
	st := m.common.Styles
	if m.sess.down != "" && m.sess.switching == "" {
		return st.Crit.Render("✖ no session: " + termsafe.Line(m.sess.down))
	}
	if m.onScreen.Generation == 0 {
		return st.Warn.Render("◌ connecting to " + termsafe.Line(m.sess.switching) + "…")
	}
	if m.closed {
		return st.Crit.Render("✖ session stopped")
	}
	if !m.data.HaveSnap {
		return st.Warn.Render("◌ syncing " + termsafe.Line(m.onScreen.Context) + "…")
	}
	snap := m.data.Snap
	c := snap.Conn
	var parts []string
	age := time.Duration(0)
	if !c.LastContact.IsZero() {
		age = m.data.Now.Sub(c.LastContact).Truncate(time.Second)
	}
	stale := c.LastContact.IsZero() || age > StaleAfter
	switch {
	case !c.Connected && c.Reason != "":
		parts = append(parts, st.Crit.Render("✖ disconnected: "+c.Reason))
	case !snap.Synced:
		parts = append(parts, st.Warn.Render("◌ syncing"))
	default:
		parts = append(parts, st.OK.Render("● connected"))
	}
	// While vigil has suspended an Argo CD application's auto-sync, the header says so first:
	// the drift it allows must not be forgotten.
	for _, a := range snap.ArgoApps {
		if a.Suspension != nil {
			parts = append(parts, st.Warn.Render("⏸ "+a.Suspension.Reminder(a.Name, m.data.Now)))
		}
	}
	ageText := "data " + widgets.Age(age) + " old"
	if c.LastContact.IsZero() {
		ageText = "no data yet"
	}
	if stale {
		parts = append(parts, st.Crit.Render(ageText))
	} else {
		parts = append(parts, st.Muted.Render(ageText))
	}
	if snap.Synced || len(snap.Services) > 0 {
		parts = append(parts, m.counts()...)
	}
	if n := snap.Alerts.Firing; n > 0 {
		parts = append(parts, st.Crit.Render(fmt.Sprintf("%d firing", n)))
	}
	if snap.Alerts.Unknown() {
		// Without it the header reads like "nothing firing", the services' health too.
		parts = append(parts, st.Warn.Render("alerts unavailable"))
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

// counts summarises services by status, worst first, zero counts left out.
func (m *Model) counts() []string {
	st := m.common.Styles
	n := map[estate.HealthStatus]int{}
	for _, s := range m.data.Snap.Services {
		n[s.Health.Status]++
	}
	out := []string{st.Muted.Render(fmt.Sprintf("%d services", len(m.data.Snap.Services)))}
	for _, s := range []estate.HealthStatus{estate.StatusDown, estate.StatusDegraded, estate.StatusUnknown, estate.StatusProgressing} {
		if n[s] == 0 {
			continue
		}
		out = append(out, render.Health(st, s).Render(fmt.Sprintf("%d %s", n[s], strings.ToLower(s.String()))))
	}
	return out
}

// tabsView is the screen tabs and, under a detail, the breadcrumb.
func (m *Model) tabsView() string {
	st := m.common.Styles
	var parts []string
	for i, s := range m.screens {
		title := s.name
		if t, ok := s.comp.(common.Titled); ok {
			title = t.Title()
		}
		if i == m.active {
			parts = append(parts, st.Accent.Render("["+title+"]"))
		} else {
			parts = append(parts, st.Tab.Render(" "+title+" "))
		}
	}
	line := strings.Join(parts, "")
	for _, c := range m.stack[1:] {
		if t, ok := c.(common.Titled); ok {
			line += st.Muted.Render(" › ") + st.Value.Render(t.Title())
		}
	}
	return ansi.Truncate(line, m.common.Width, "…")
}

// statusView is the flash message, else the snapshot's problems.
func (m *Model) statusView() string {
	st := m.common.Styles
	w := m.common.Width
	if m.activity.Busy() {
		return widgets.Fit(m.activity.View(st), w)
	}
	if m.status != "" {
		if m.statusBad {
			return st.Crit.Render(widgets.Fit(m.status, w))
		}
		return st.Value.Render(widgets.Fit(m.status, w))
	}
	probs := m.data.Snap.Problems
	if len(probs) == 0 {
		return ""
	}
	text := "! " + probs[0]
	if len(probs) > 1 {
		text += fmt.Sprintf(" (+%d more)", len(probs)-1)
	}
	return st.Note.Render(widgets.Fit(text, w))
}
