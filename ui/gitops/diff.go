package gitops

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Keys of the diff view beyond the common ones.
var (
	keyResource = key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n/N", "next/prev resource"))
)

// Diff is what a sync of one Argo CD application would change, resource by
// resource (common.Data.ArgoDiff, argocd-server's managed-resources API),
// scrollable; in Kubernetes mode it says that the diff needs the Argo CD
// server and how to configure it.
type Diff struct {
	common.Nav
	c          common.Common
	fetch      common.ArgoDiffFunc
	off        string
	app        estate.ArgoApp
	loaded     bool
	err        string
	diff       estate.ArgoDiff
	raw        []string // the lines shown, unstyled
	heads      []int    // the lines that head a resource
	pager      widgets.Pager
	width, hgt int
}

// NewDiff returns the diff view of app, read with fetch; off says why there
// is none when fetch is nil.
func NewDiff(c common.Common, fetch common.ArgoDiffFunc, off string, app estate.ArgoApp) *Diff {
	m := &Diff{c: c, fetch: fetch, off: off, app: app}
	m.SetSize(c.Width, c.Height)
	if fetch == nil {
		m.loaded = true
		m.rebuild()
	}
	return m
}

// Title implements common.Titled.
func (m *Diff) Title() string { return "diff " + m.app.Namespace + "/" + m.app.Name }

// diffMsg carries what a sync of an application would change (or why not).
type diffMsg struct {
	namespace, name string
	diff            estate.ArgoDiff
	err             error
}

// Init implements common.Initer: it reads the diff.
func (m *Diff) Init() tea.Cmd {
	fetch, ns, name := m.fetch, m.app.Namespace, m.app.Name
	if fetch == nil {
		return nil
	}
	return func() tea.Msg {
		d, err := fetch(context.Background(), ns, name)
		return diffMsg{namespace: ns, name: name, diff: d, err: err}
	}
}

// Update implements common.Component.
func (m *Diff) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case diffMsg:
		if msg.namespace != m.app.Namespace || msg.name != m.app.Name {
			return m, nil
		}
		m.loaded, m.diff = true, msg.diff
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.rebuild()
	case tea.KeyPressMsg:
		keys := m.c.Keys
		switch {
		case m.pager.Move(msg, common.NavKeys(keys)):
		case key.Matches(msg, keys.Back):
			m.PopSelf()
		case key.Matches(msg, keyResource) && msg.String() == "N":
			m.jump(-1)
		case key.Matches(msg, keyResource):
			m.jump(1)
		}
	}
	return m, nil
}

// jump scrolls to the next (1) or previous (-1) resource's heading.
func (m *Diff) jump(dir int) {
	at := m.pager.Offset()
	if dir > 0 {
		for _, h := range m.heads {
			if h > at {
				m.pager.ScrollTo(h)
				return
			}
		}
		return
	}
	for i := len(m.heads) - 1; i >= 0; i-- {
		if m.heads[i] < at {
			m.pager.ScrollTo(m.heads[i])
			return
		}
	}
}

// Offset is the first line shown; Lines the lines, unstyled.
func (m *Diff) Offset() int     { return m.pager.Offset() }
func (m *Diff) Lines() []string { return m.raw }

// rebuild lays out the lines: the Kubernetes-mode explanation, or each
// resource's heading, changed fields and diff, styled as a diff is.
func (m *Diff) rebuild() {
	st := m.c.Styles
	m.raw, m.heads = nil, nil
	var out []string
	add := func(raw, styled string) {
		m.raw = append(m.raw, raw)
		out = append(out, styled)
	}
	switch {
	case m.fetch == nil:
		for _, l := range strings.Split(ansi.Wrap(m.off, max(20, m.width), " "), "\n") {
			add(l, st.Warn.Render(l))
		}
	case m.err != "":
		for _, l := range strings.Split(ansi.Wrap(m.err, max(20, m.width), " /"), "\n") {
			add(l, st.Crit.Render(l))
		}
	default:
		if len(m.diff.Resources) == 0 {
			add("nothing would change: the live state is the desired state", st.OK.Render("nothing would change: the live state is the desired state"))
		}
		for _, r := range m.diff.Resources {
			if len(m.raw) > 0 {
				add("", "")
			}
			m.heads = append(m.heads, len(m.raw))
			head := r.Title() + "  (" + r.Change + ")"
			add(head, st.Accent.Render(head))
			if len(r.Fields) > 0 {
				f := r.Fields
				more := ""
				if len(f) > estate.ArgoDiffFieldsShown {
					f, more = f[:estate.ArgoDiffFieldsShown], fmt.Sprintf(" … %d more", len(r.Fields)-estate.ArgoDiffFieldsShown)
				}
				l := "changed: " + strings.Join(f, ", ") + more
				add(l, st.Value.Render(l))
			}
			for _, l := range r.Lines {
				switch {
				case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "@@"):
					add(l, st.Muted.Render(l))
				case strings.HasPrefix(l, "+"):
					add(l, st.OK.Render(l))
				case strings.HasPrefix(l, "-"):
					add(l, st.Crit.Render(l))
				default:
					add(l, l)
				}
			}
		}
	}
	m.pager.SetLines(out)
}

// SetSize implements common.Component.
func (m *Diff) SetSize(w, h int) {
	m.width, m.hgt = w, h
	m.pager.SetSize(w, max(1, h-2))
	if m.loaded {
		m.rebuild()
	}
}

// View implements common.Component.
func (m *Diff) View() string {
	st := m.c.Styles
	var b strings.Builder
	head := "what Argo CD would change for " + m.app.Namespace + "/" + m.app.Name + " (" + m.app.Sync + ")"
	switch {
	case m.fetch == nil:
		head += " · Kubernetes mode"
	case !m.loaded:
		head += " · reading managed resources…"
	case m.err == "":
		head += " · " + m.diff.Summary() + " · live (-) → desired (+)"
	}
	b.WriteString(st.Accent.Render(widgets.Fit(head, m.width)) + "\n")
	body := m.pager.View()
	b.WriteString(body)
	for n := strings.Count(body, "\n") + 1; n < m.hgt-1; n++ {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	switch {
	case len(m.heads) > 1:
		b.WriteString(st.Muted.Render(widgets.Fit("n/N next/prev resource · g/G top/bottom · esc back", m.width)))
	default:
		b.WriteString(st.Muted.Render(widgets.Fit("g/G top/bottom · esc back", m.width)))
	}
	return b.String()
}

// ShortHelp implements common.Component.
func (m *Diff) ShortHelp() []key.Binding {
	if len(m.heads) > 1 {
		return []key.Binding{keyResource, m.c.Keys.Back}
	}
	return []key.Binding{m.c.Keys.Back}
}

// diff opens what a sync of the selected application would change.
func (m *Model) diff() {
	app, _ := m.Selected()
	if app == nil {
		m.Tell(common.NoteMsg{Text: "no application selected: d shows what a sync of an Argo CD application would change"})
		return
	}
	m.PushChild(NewDiff(m.Common, m.Data.ArgoDiff, m.Data.ArgoDiffOff, *app))
}

// FullHelp implements common.Component.
func (m *Diff) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.c.Keys.NavHelp(), m.ShortHelp(), m.c.Keys.RootHelp(false)}
}
