// Package gitops is the GitOps & secrets screen: Argo CD applications
// (sync, health, revision, operation, sync windows, history), then
// ExternalSecrets (ready, last refresh, interval), secret stores and
// SealedSecrets.
package gitops

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/manifest"
	"github.com/vigil-k8s/vigil/ui/objects"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Model is the GitOps & secrets screen: Argo CD applications and
// ExternalSecrets are selectable rows; Enter (or a) lists the selected
// row's actions with their disabled reasons.
type Model struct {
	*common.Picker[pick]
	actions actionsui.Provider
	keyMap  KeyMap
}

// pick is a selectable row: an application or an ExternalSecret.
type pick struct {
	app    *estate.ArgoApp
	secret *estate.ExternalSecretInfo
}

// KeyMap is the GitOps screen's keys: the help shows them and the screen
// handles them.
type KeyMap struct {
	common.KeyMap
	// Open (enter or a) lists the selected row's actions.
	Open key.Binding
	// YAML (y) shows the selected application's YAML, or offers the
	// selected ExternalSecret's and its target Secret's (metadata only).
	YAML key.Binding
	// Diff (d) shows what a sync of the selected application would change.
	Diff key.Binding
}

// DefaultKeyMap returns the GitOps screen's keys over the shared ones.
func DefaultKeyMap(shared common.KeyMap) KeyMap {
	return KeyMap{KeyMap: shared, Open: key.NewBinding(key.WithKeys("enter", "a"), key.WithHelp("enter/a", "actions")),
		YAML: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yaml")),
		Diff: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff"))}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding { return k.page().ShortHelp() }

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding { return k.page().FullHelp() }

func (k KeyMap) page() common.PageKeys {
	return common.PageKeys{KeyMap: k.KeyMap, Own: []key.Binding{k.Open, k.YAML, k.Diff}}
}

// New returns the GitOps & secrets screen reading d; ap runs its actions.
func New(c common.Common, d *common.Data, ap actionsui.Provider) *Model {
	m := &Model{actions: ap, keyMap: DefaultKeyMap(c.Keys)}
	p := &common.Page{Common: c, Data: d, Name: "GitOps", Help: m.keyMap}
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

// Selected returns the application or ExternalSecret under the cursor.
func (m *Model) Selected() (*estate.ArgoApp, *estate.ExternalSecretInfo) {
	pk, _ := m.Picked()
	return pk.app, pk.secret
}

func (m *Model) keys(k tea.KeyPressMsg) (tea.Cmd, bool) {
	c := m.Common
	if key.Matches(k, m.keyMap.YAML) {
		m.yaml()
		return nil, true
	}
	if key.Matches(k, m.keyMap.Diff) {
		m.diff()
		return nil, true
	}
	if !key.Matches(k, m.keyMap.Open) {
		return nil, false
	}
	app, es := m.Selected()
	switch {
	case m.actions == nil:
		m.Tell(common.NoteMsg{Text: "actions are not available in this session"})
		return nil, true
	case app == nil && es == nil:
		m.Tell(common.NoteMsg{Text: "no application or ExternalSecret selected"})
		return nil, true
	}
	if app != nil {
		m.PushChild(actionsui.NewMenu(c, "application "+app.Namespace+"/"+app.Name, "app/"+app.Namespace+"/"+app.Name,
			actionsui.ArgoItems(c, m.actions, *app), nil, false, m.actions))
	} else {
		m.PushChild(actionsui.NewMenu(c, strings.ToLower(es.Kind)+" "+nsName(es.Namespace, es.Name), "es/"+es.Namespace+"/"+es.Name,
			actionsui.SecretItems(c, m.actions, *es), nil, false, m.actions))
	}
	return nil, true
}

// yaml shows the selected application's YAML, or offers the selected
// ExternalSecret's and its target Secret's.
func (m *Model) yaml() {
	c, d := m.Common, m.Data
	app, es := m.Selected()
	switch {
	case app != nil:
		m.PushChild(manifest.New(c, d.Manifest, estate.ObjectRef{Kind: "Application", Namespace: app.Namespace, Name: app.Name}))
	case es != nil:
		refs := []estate.ObjectRef{{Kind: es.Kind, Namespace: es.Namespace, Name: es.Name}}
		if es.Namespace != "" && es.Target != "" {
			refs = append(refs, estate.ObjectRef{Kind: "Secret", Namespace: es.Namespace, Name: es.Target})
		}
		m.PushChild(objects.NewChooser(c, "YAML of", refs, func(ref estate.ObjectRef) common.Component {
			return manifest.New(c, d.Manifest, ref)
		}))
	default:
		m.Tell(common.NoteMsg{Text: "no application or ExternalSecret selected"})
	}
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

func section(st theme.Theme, title string, width int) string {
	return st.Accent.Render(title) + " " + st.Muted.Render(strings.Repeat("─", max(0, width-len([]rune(title))-1)))
}

func build(st theme.Theme, d *common.Data, width int) (out []string, rows []int, picks []pick) {
	if !d.HaveSnap {
		return []string{st.Muted.Render("loading…")}, nil, nil
	}
	snap := d.Snap
	apps := snap.Visibility("", checks.ResApplications)
	out = []string{section(st, fmt.Sprintf("ARGO CD APPLICATIONS (%s)", render.Count(len(snap.ArgoApps), apps)), width)}
	out = append(out, render.UnseenLines(st, "", apps, width)...)
	if apps.Seen() && len(snap.ArgoApps) == 0 {
		out = append(out, st.Muted.Render("no Applications"))
	}
	for _, a := range snap.ArgoApps {
		lvl := theme.LevelOK
		switch {
		case a.Health == "Degraded" || a.Health == "Missing" || a.Operation.Phase == "Failed" || a.Operation.Phase == "Error":
			lvl = theme.LevelCrit
		case a.Sync != "Synced" || a.Health != "Healthy":
			lvl = theme.LevelWarn
		}
		if a.Operation.Pending {
			lvl = max(lvl, theme.LevelWarn)
		}
		mode := "manual sync"
		if a.Suspension != nil {
			mode = "auto-sync SUSPENDED"
			lvl = max(lvl, theme.LevelWarn)
		}
		if a.AutoSync {
			mode = "auto-sync"
			if a.Prune {
				mode += "+prune"
			}
			if a.SelfHeal {
				mode += "+self-heal"
			}
		}
		out = append(out, "")
		rows, picks = append(rows, len(out)), append(picks, pick{app: &a})
		out = append(out, st.For(lvl).Render(widgets.Fit(fmt.Sprintf("%s/%s  %s / %s  at %s  project %s  %s", a.Namespace, a.Name, a.Sync, a.Health, short(a.Revision), a.Project, mode), width)))
		out = append(out, st.Muted.Render(widgets.Fit(fmt.Sprintf("  source %s %s@%s → %s %s · %d resources, %d out of sync",
			a.RepoURL, a.Path+a.Chart, a.TargetRevision, a.DestServer, a.DestNamespace, a.Resources, a.OutOfSync), width)))
		if sus := a.Suspension; sus != nil {
			line := "  " + sus.Reminder(a.Name, d.Now)
			if sus.Reason != "" {
				line += " (reason: " + sus.Reason + ")"
			}
			if a.OutOfSync > 0 {
				line += fmt.Sprintf("; drift: %d resources out of sync", a.OutOfSync)
			}
			out = append(out, st.Warn.Render(widgets.Fit(line, width)))
		}
		if a.HealthMessage != "" {
			out = append(out, st.For(lvl).Render(widgets.Fit("  health: "+a.HealthMessage, width)))
		}
		if op := a.Operation; op.Phase != "" {
			out = append(out, operationLine(st, op, d, width))
		}
		for _, c := range a.Conditions {
			out = append(out, st.Warn.Render(widgets.Fit("  "+c.Type+": "+c.Message, width)))
		}
		for _, w := range a.Windows {
			wl := theme.LevelMuted
			state := "closed"
			if w.Active {
				state = "OPEN"
				if w.Kind == "deny" {
					wl = theme.LevelWarn
				}
			}
			manual := ""
			if w.ManualSync {
				manual = ", manual sync allowed"
			}
			out = append(out, st.For(wl).Render(widgets.Fit(fmt.Sprintf("  sync window %s %q for %s (%s)%s", w.Kind, w.Schedule, w.Duration, state, manual), width)))
		}
		if a.SyncBlocked {
			out = append(out, st.Warn.Render(widgets.Fit("  sync blocked now by "+a.BlockedBy, width)))
		}
		for i, h := range a.History {
			if i == 5 {
				out = append(out, st.Muted.Render(fmt.Sprintf("  … %d older deployments", len(a.History)-5)))
				break
			}
			out = append(out, st.Muted.Render(widgets.Fit(fmt.Sprintf("  history %-3d %s deployed %s ago", h.ID, short(h.Revision), widgets.Since(d.Now, h.DeployedAt)), width)))
		}
	}

	ess := snap.Visibility("", checks.ResExternalSecrets, checks.ResClusterExtSecrets)
	out = append(out, "", section(st, fmt.Sprintf("EXTERNAL SECRETS (%s)", render.Count(len(snap.ExternalSecrets), ess)), width))
	out = append(out, render.UnseenLines(st, "", ess, width)...)
	if ess.Access != estate.AccessNotInstalled {
		for i, l := range externalSecrets(st, d, snap.ExternalSecrets, ess.Seen(), width) {
			if i > 0 && len(snap.ExternalSecrets) > 0 {
				rows, picks = append(rows, len(out)), append(picks, pick{secret: &snap.ExternalSecrets[i-1]})
			}
			out = append(out, l)
		}
	}
	stores := snap.Visibility("", checks.ResSecretStores, checks.ResClusterSecretStores)
	if stores.Access != estate.AccessNotInstalled {
		out = append(out, "", section(st, fmt.Sprintf("SECRET STORES (%s)", render.Count(len(snap.SecretStores), stores)), width))
		out = append(out, render.UnseenLines(st, "", stores, width)...)
		cells := make([][]string, len(snap.SecretStores))
		for i, s := range snap.SecretStores {
			ready := "Ready"
			if !s.Ready {
				ready = "NotReady"
			}
			cells[i] = []string{s.Kind, nsName(s.Namespace, s.Name), s.Provider, ready, strings.TrimSpace(s.Reason + " " + s.Message)}
		}
		w := widgets.TextWidths(width, []int{18, 34, 8, 9, 12}, -1, cells...)
		for i, s := range snap.SecretStores {
			lvl := theme.LevelOK
			if !s.Ready {
				lvl = theme.LevelCrit
			}
			out = append(out, st.For(lvl).Render(widgets.Fit(widgets.Row(w, cells[i]...), width)))
		}
	}

	sealed := snap.Visibility("", checks.ResSealedSecrets)
	out = append(out, "", section(st, fmt.Sprintf("SEALED SECRETS (%s)", render.Count(len(snap.SealedSecrets), sealed)), width))
	out = append(out, render.UnseenLines(st, "", sealed, width)...)
	for _, s := range snap.SealedSecrets {
		lvl, synced := theme.LevelOK, "Synced"
		if !s.Synced {
			lvl, synced = theme.LevelCrit, "NotSynced"
		}
		out = append(out, st.For(lvl).Render(widgets.Fit(fmt.Sprintf("%-40s %-9s keys %s %s", nsName(s.Namespace, s.Name), synced, strings.Join(s.Keys, ","), s.Message), width)))
	}
	return out, rows, picks
}

// operationLine is an application's operation: pending (requested, or
// running, until Argo CD's controller finishes it) with its phase, who
// asked and since when, or the last one's result.
func operationLine(st theme.Theme, op estate.ArgoOperation, d *common.Data, width int) string {
	var text string
	lvl := theme.LevelMuted
	switch {
	case op.Pending && op.Phase == estate.ArgoPhaseRequested:
		lvl = theme.LevelWarn
		text = fmt.Sprintf("  operation PENDING: requested by %s, to %s; Argo CD's application controller has not started it yet", orDash(op.InitiatedBy), short(op.Revision))
	case op.Pending:
		lvl = theme.LevelWarn
		text = fmt.Sprintf("  operation PENDING: %s, started %s ago by %s, to %s", op.Phase, widgets.Since(d.Now, op.StartedAt), orDash(op.InitiatedBy), short(op.Revision))
		if op.Message != "" {
			text += ": " + op.Message
		}
	default:
		if op.Phase == "Failed" || op.Phase == "Error" {
			lvl = theme.LevelCrit
		}
		text = fmt.Sprintf("  operation %s to %s by %s, started %s ago: %s", op.Phase, short(op.Revision), op.InitiatedBy, widgets.Since(d.Now, op.StartedAt), op.Message)
	}
	return st.For(lvl).Render(widgets.Fit(text, width))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nsName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// externalSecrets is the table of es; seen says they are all there are
// (else an empty list says nothing: the reason is on the line above).
func externalSecrets(st theme.Theme, d *common.Data, es []estate.ExternalSecretInfo, seen bool, width int) []string {
	switch {
	case len(es) == 0 && seen:
		return []string{st.Muted.Render("no ExternalSecrets")}
	case len(es) == 0:
		return nil
	}
	head := []string{"NAME", "READY", "REFRESHED", "INTERVAL", "STORE → SECRET", "REASON"}
	cells := [][]string{head}
	for _, e := range es {
		ready := "True"
		if !e.Ready {
			ready = "False"
		}
		name := nsName(e.Namespace, e.Name)
		if e.Kind == "ClusterExternalSecret" {
			name = "cluster/" + e.Name
		}
		refreshed := widgets.Since(d.Now, e.LastRefresh)
		if refreshed != "-" {
			refreshed += " ago"
		}
		if e.Stale {
			refreshed += " (stale)"
		}
		reason := e.Reason
		if e.Message != "" && !e.Ready {
			reason += ": " + e.Message
		}
		if len(e.Namespaces) > 0 {
			reason += " ns " + strings.Join(e.Namespaces, ",")
		}
		cells = append(cells, []string{name, ready, refreshed, e.RefreshInterval, e.StoreKind + "/" + e.Store + " → " + e.Target, reason})
	}
	w := widgets.TextWidths(width, []int{46, 8, 9, 8, 30, 12}, -1, cells...)
	out := []string{st.TableHeader.Render(widgets.Fit(widgets.Row(w, head...), width))}
	for i, e := range es {
		lvl := theme.LevelOK
		if !e.Ready {
			lvl = theme.LevelCrit
		} else if e.Stale {
			lvl = theme.LevelWarn
		}
		out = append(out, st.For(lvl).Render(widgets.Fit(widgets.Row(w, cells[i+1]...), width)))
	}
	return out
}
