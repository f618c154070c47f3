// Package alerts is the Alerts screen: Prometheus and Alertmanager health,
// then firing and pending alerts grouped by severity and service, with
// since-when, summary, description and silenced state, then silences.
// Alert and silence rows are selectable and carry their actions.
package alerts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Model is the Alerts screen: a page whose alert and silence rows are
// selectable. Enter shows an alert's labels and annotations (a silence's
// actions); S silences the selected alert; a lists its actions.
type Model struct {
	*common.Picker[pick]
	actions actionsui.Provider
	keyMap  KeyMap
}

// pick is one selectable row: an alert or a silence.
type pick struct {
	alert   *estate.Alert
	silence *estate.Silence
}

// KeyMap is the Alerts screen's keys: the help shows them and the screen
// handles them.
type KeyMap struct {
	common.KeyMap
	// Labels (enter) shows the selected alert's labels, a silence's actions.
	Labels key.Binding
	// Silence (S) silences the selected alert.
	Silence key.Binding
}

// DefaultKeyMap returns the Alerts screen's keys over the shared ones.
func DefaultKeyMap(shared common.KeyMap) KeyMap {
	return KeyMap{
		KeyMap:  shared,
		Labels:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "labels")),
		Silence: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "silence")),
	}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding { return k.page().ShortHelp() }

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding { return k.page().FullHelp() }

func (k KeyMap) page() common.PageKeys {
	return common.PageKeys{KeyMap: k.KeyMap, Own: []key.Binding{k.Labels, k.Silence, k.Actions}}
}

// New returns the Alerts screen reading d; ap runs its actions (nil: none).
func New(c common.Common, d *common.Data, ap actionsui.Provider) *Model {
	m := &Model{actions: ap, keyMap: DefaultKeyMap(c.Keys)}
	p := &common.Page{Common: c, Data: d, Name: "Alerts", Help: m.keyMap}
	p.Keys = m.keys
	m.Picker = common.NewPicker(p, func(w int) ([]string, []int, []pick) { return build(c.Styles, d, w) })
	return m
}

// SetActions sets the action provider of the context on screen.
func (m *Model) SetActions(p actionsui.Provider) { m.actions = p }

// Update implements common.Component (the page's, returning the screen).
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	_, cmd := m.Page.Update(msg)
	return m, cmd
}

// Selected returns the alert or silence under the cursor.
func (m *Model) Selected() (*estate.Alert, *estate.Silence) {
	pk, _ := m.Picked()
	return pk.alert, pk.silence
}

func (m *Model) keys(k tea.KeyPressMsg) (tea.Cmd, bool) {
	c, km := m.Common, m.keyMap
	al, sil := m.Selected()
	switch {
	case key.Matches(k, km.Labels) && al != nil:
		m.PushChild(labelsPage(c, m.Data, *al))
	case key.Matches(k, km.Silence) && al != nil && m.actions != nil:
		if c.ReadOnly || len(al.SilencedBy) > 0 {
			m.PushChild(m.menu(al, sil))
		} else {
			m.PushChild(actionsui.SilenceForm(c, m.actions, *al))
		}
	case (key.Matches(k, km.Actions) || key.Matches(k, km.Labels)) && (al != nil || sil != nil) && m.actions != nil:
		m.PushChild(m.menu(al, sil))
	case key.Matches(k, km.Silence) || key.Matches(k, km.Actions):
		// Say why nothing opens rather than do nothing.
		m.Tell(common.NoteMsg{Text: m.why(key.Matches(k, km.Silence), al, sil)})
	default:
		return nil, false
	}
	return nil, true
}

// why says why S (silence) or a (actions) opened nothing.
func (m *Model) why(silence bool, al *estate.Alert, sil *estate.Silence) string {
	switch {
	case m.actions == nil:
		return "actions are not available in this session"
	case silence && sil != nil:
		return "S silences an alert: the selected row is silence " + sil.ID + " (a for its actions)"
	case silence:
		return "no alert selected: nothing is firing or pending to silence"
	}
	return "no alert or silence selected"
}

func (m *Model) menu(al *estate.Alert, sil *estate.Silence) *actionsui.Menu {
	if al != nil {
		return actionsui.NewMenu(m.Common, "alert "+al.Name, "alert/"+al.Fingerprint+al.Name, actionsui.AlertItems(m.Common, m.actions, *al), nil, false, m.actions)
	}
	return actionsui.NewMenu(m.Common, "silence "+sil.ID, "silence/"+sil.ID, actionsui.SilenceItems(*sil), nil, false, m.actions)
}

// labelsPage shows every label and annotation of an alert.
func labelsPage(c common.Common, d *common.Data, a estate.Alert) *common.Page {
	p := &common.Page{Common: c, Data: d, Name: a.Name, Pop: true}
	p.Build = func(w int) []string {
		st := c.Styles
		out := []string{render.AlertLine(st, a, d.Now, w), "", st.Accent.Render("LABELS")}
		for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
			out = append(out, widgets.Fit(fmt.Sprintf("  %-20s %s", k, a.Labels[k]), w))
		}
		out = append(out, "", st.Accent.Render("ANNOTATIONS"),
			widgets.Fit("  summary              "+a.Summary, w), widgets.Fit("  description          "+a.Description, w),
			"", st.Muted.Render(widgets.Fit(fmt.Sprintf("state %s · source %s · since %s · fingerprint %s", a.State, a.Source, a.Since.UTC().Format(time.RFC3339), a.Fingerprint), w)))
		if len(a.SilencedBy) > 0 {
			out = append(out, st.Muted.Render(widgets.Fit("silenced by "+strings.Join(a.SilencedBy, ", "), w)))
		}
		return out
	}
	return p
}

func source(st theme.Theme, name string, s estate.AlertSource, now time.Time) string {
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

func build(st theme.Theme, d *common.Data, width int) (out []string, rows []int, picks []pick) {
	if !d.HaveSnap {
		return []string{st.Muted.Render("loading…")}, nil, nil
	}
	v := d.Snap.Alerts
	out = []string{
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
	switch {
	case v.Unknown():
		// Not "0 firing": nobody knows.
		out = append(out, st.Warn.Render("alerts unknown: no alert source answers; the services' health leaves alerts out until one does"))
	case !v.Prometheus.Configured && !v.Alertmanager.Configured:
		// Not "0 firing" either: vigil is not looking.
		out = append(out, st.Muted.Render("alerts not watched: no alert source configured; the services' health leaves alerts out"))
	default:
		out = append(out, st.For(pickLevel(firing > 0, theme.LevelCrit)).Render(fmt.Sprintf("%d firing", firing))+st.Muted.Render(" · ")+
			st.For(pickLevel(pending > 0, theme.LevelWarn)).Render(fmt.Sprintf("%d pending", pending))+st.Muted.Render(fmt.Sprintf(" · %d silenced · %d rules", silenced, len(v.Rules))))
	}
	// Alerts quieted by a direct change are only half the story: an application whose
	// auto-sync vigil suspended drifts from Git until someone re-enables it.
	for _, a := range d.Snap.ArgoApps {
		if a.Suspension != nil {
			line := "⏸ " + a.Suspension.Reminder(a.Name, d.Now)
			if a.OutOfSync > 0 {
				line += fmt.Sprintf(" (drift: %d resources out of sync)", a.OutOfSync)
			}
			out = append(out, st.Warn.Render(widgets.Fit(line, width)))
		}
	}
	if len(v.Alerts) == 0 {
		if v.Prometheus.Available || v.Alertmanager.Available {
			out = append(out, "", st.OK.Render("no alert is firing or pending"))
		}
	}
	// Group by severity, then service.
	groups := map[string][]estate.Alert{}
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
		bySvc := map[string][]estate.Alert{}
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
				rows, picks = append(rows, len(out)), append(picks, pick{alert: &a})
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
			rows, picks = append(rows, len(out)), append(picks, pick{silence: &s})
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
	return out, rows, picks
}

func pickLevel(bad bool, l theme.Level) theme.Level {
	if bad {
		return l
	}
	return theme.LevelMuted
}
