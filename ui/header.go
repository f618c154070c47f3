package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/services"
)

// headerView is two lines: where (context, server, user) and how fresh
// (connection state, data age, counts by status).
func (m *Model) headerView() string {
	st := m.common.Styles
	w := m.common.Width
	sep := st.Muted.Render("  ")
	where := st.Title.Render("vigil") + sep +
		st.Muted.Render("ctx ") + st.Value.Render(m.target.Context) + sep +
		st.Muted.Render("server ") + st.Value.Render(strings.TrimPrefix(m.target.Server, "https://")) + sep +
		st.Muted.Render("user ") + st.Value.Render(m.target.User)
	return ansi.Truncate(where, w, "…") + "\n" + ansi.Truncate(m.stateLine(), w, "…")
}

// stateLine renders connection state, data age and health counts.
func (m *Model) stateLine() string {
	st := m.common.Styles
	if m.closed {
		return st.Crit.Render("✖ session stopped")
	}
	if !m.haveSnap {
		return st.Muted.Render("connecting…")
	}
	c := m.snap.Conn
	var parts []string
	age := time.Duration(0)
	if !c.LastContact.IsZero() {
		age = m.now.Sub(c.LastContact).Truncate(time.Second)
	}
	stale := c.LastContact.IsZero() || age > StaleAfter
	switch {
	case !c.Connected && c.Reason != "":
		parts = append(parts, st.Crit.Render("✖ disconnected: "+c.Reason))
	case !m.snap.Synced:
		parts = append(parts, st.Warn.Render("◌ syncing"))
	default:
		parts = append(parts, st.OK.Render("● connected"))
	}
	ageText := "data " + services.Age(age) + " old"
	if c.LastContact.IsZero() {
		ageText = "no data yet"
	}
	if stale {
		parts = append(parts, st.Crit.Render(ageText))
	} else {
		parts = append(parts, st.Muted.Render(ageText))
	}
	if m.snap.Synced || len(m.snap.Services) > 0 {
		parts = append(parts, m.counts()...)
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

// counts summarises services by status, worst first, zero counts left out.
func (m *Model) counts() []string {
	st := m.common.Styles
	n := map[cluster.Status]int{}
	for _, s := range m.snap.Services {
		n[s.Health.Status]++
	}
	out := []string{st.Muted.Render(fmt.Sprintf("%d services", len(m.snap.Services)))}
	for _, s := range []cluster.Status{cluster.StatusDown, cluster.StatusDegraded, cluster.StatusUnknown, cluster.StatusProgressing} {
		if n[s] == 0 {
			continue
		}
		text := fmt.Sprintf("%d %s", n[s], strings.ToLower(s.String()))
		if s == cluster.StatusDown || s == cluster.StatusDegraded {
			out = append(out, st.Crit.Render(text))
		} else {
			out = append(out, st.Warn.Render(text))
		}
	}
	return out
}

// noteLines are the snapshot's problems (missing namespaces, no access),
// at most maxNotes lines.
func (m *Model) noteLines() []string {
	probs := m.snap.Problems
	if len(probs) == 0 {
		return nil
	}
	st := m.common.Styles
	var out []string
	for i, p := range probs {
		if i == maxNotes-1 && len(probs) > maxNotes {
			out = append(out, st.Note.Render(fmt.Sprintf("! …and %d more", len(probs)-i)))
			break
		}
		out = append(out, st.Note.Render(ansi.Truncate("! "+p, m.common.Width, "…")))
	}
	return out
}
