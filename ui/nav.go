package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/ui/access"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/palette"
)

// onNav handles the focus stack, screens and requests components make of
// the root.
func (m *Model) onNav(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case common.PushMsg:
		return m.push(msg.Component), true
	case common.PopMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
			m.resize()
		}
		return nil, true
	case common.ScreenMsg:
		return m.command(msg), true
	case common.SwitchContextMsg:
		return m.switchTo(msg.Name), true
	case common.RefreshFleetMsg:
		return m.refreshFleet(), true
	case common.NoteMsg:
		m.note(msg.Text, msg.Bad)
		return nil, true
	case actionsui.ConfirmMsg:
		return tea.Batch(m.push(actionsui.NewConfirm(m.common, msg)), msg.Next), true
	}
	return nil, false
}

// push puts c on the focus stack, sized, and starts its work.
func (m *Model) push(c common.Component) tea.Cmd {
	m.stack = append(m.stack, c)
	m.resize()
	if in, ok := c.(common.Initer); ok {
		return in.Init()
	}
	return nil
}

// command runs a palette command.
func (m *Model) command(msg common.ScreenMsg) tea.Cmd {
	switch msg.Name {
	case "ctx":
		if msg.Arg != "" {
			return m.switchTo(msg.Arg)
		}
		m.show("ctx")
		return m.refreshFleet()
	case "ns":
		ns := msg.Arg
		if ns == "all" || ns == "-A" {
			ns = ""
		}
		if why := m.badNamespace(ns); why != "" {
			m.flash(why, true)
			return nil
		}
		m.show("svc")
		m.Services().SetNamespace(ns)
		return nil
	case "audit":
		m.show("audit")
		return m.audit.Reload()
	case "check":
		m.show("check")
		return nil
	case "who-can":
		return m.push(access.NewWhoCan(m.common, m.data, msg.Arg))
	case "reach":
		return m.push(access.NewReach(m.common, m.data))
	}
	m.show(msg.Name)
	return nil
}

// watchedNamespaces are the namespaces the session watches (those with
// services when the snapshot does not list them), sorted.
func (m *Model) watchedNamespaces() []string {
	var out []string
	for _, ns := range m.data.Snap.Namespaces {
		if ns.Name != "" {
			out = append(out, ns.Name)
		}
	}
	if len(out) == 0 {
		for _, s := range m.data.Snap.Services {
			out = append(out, s.Namespace)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// badNamespace says why ns cannot be the namespace filter: it does not
// exist or is not watched. "" (all) and anything before the first
// snapshot pass.
func (m *Model) badNamespace(ns string) string {
	if ns == "" || !m.data.HaveSnap {
		return ""
	}
	for _, st := range m.data.Snap.Namespaces {
		if st.Name == ns && st.Missing {
			return "namespace " + ns + " does not exist in " + m.onScreen.Context
		}
	}
	watched := m.watchedNamespaces()
	if slices.Contains(watched, ns) {
		return ""
	}
	return "namespace " + ns + " is not watched in " + m.onScreen.Context + " (watched: " + strings.Join(watched, ", ") + "; :ns all for every one)"
}

// show makes the named screen active, dropping details and modals.
func (m *Model) show(name string) {
	for i, s := range m.screens {
		if s.name == name {
			m.active = i
			m.stack = []common.Component{s.comp}
			m.resize()
			return
		}
	}
}

// onKey handles the global keys unless the top component is typing.
func (m *Model) onKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	if k.String() == "ctrl+c" {
		return tea.Quit, true
	}
	if c, ok := m.Top().(common.Capturing); ok && c.Capturing() {
		return nil, false
	}
	keys := m.common.Keys
	switch {
	case key.Matches(k, keys.Quit):
		return tea.Quit, true
	case key.Matches(k, keys.Help), m.fullHelp && key.Matches(k, keys.Back):
		// esc closes the full help before it goes back anywhere: the help
		// is what the user opened last.
		m.fullHelp = !m.fullHelp
		m.resize()
		return nil, true
	case key.Matches(k, keys.Command):
		var names []string
		for _, c := range m.data.Contexts {
			names = append(names, c.Name)
		}
		p := palette.New(m.common, names)
		p.Namespaces = append([]string{"all"}, m.watchedNamespaces()...)
		return m.push(p), true
	case len(m.stack) == 1 && key.Matches(k, keys.NextTab):
		m.show(m.screens[(m.active+1)%len(m.screens)].name)
		return m.onShow(), true
	case len(m.stack) == 1 && key.Matches(k, keys.PrevTab):
		m.show(m.screens[(m.active+len(m.screens)-1)%len(m.screens)].name)
		return m.onShow(), true
	}
	return nil, false
}

// onShow starts what a screen needs when it becomes active.
func (m *Model) onShow() tea.Cmd {
	switch m.Screen() {
	case "ctx":
		return m.refreshFleet()
	case "audit":
		return m.audit.Reload()
	}
	return nil
}

// wheelKey turns the mouse wheel into the up/down keys.
func wheelKey(msg tea.MouseWheelMsg) tea.Msg {
	switch msg.Button {
	case tea.MouseWheelUp:
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case tea.MouseWheelDown:
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	return nil
}

// chromeHeight is the header, tab bar, status line and footer.
func (m *Model) chromeHeight() int {
	return headerHeight + 1 + 1 + m.footerHeight()
}

// headerHeight is the header's two lines.
const headerHeight = 2

// resize gives every component the height the chrome leaves over.
func (m *Model) resize() {
	m.help.SetWidth(m.common.Width)
	h := max(0, m.common.Height-m.chromeHeight())
	for _, s := range m.screens {
		s.comp.SetSize(m.common.Width, h)
	}
	for _, c := range m.stack[1:] {
		c.SetSize(m.common.Width, h)
	}
}

func (m *Model) footerHeight() int {
	return strings.Count(m.helpView(), "\n") + 1
}

func (m *Model) helpView() string {
	top := m.Top()
	if m.fullHelp {
		return m.help.FullHelpView(top.FullHelp())
	}
	return m.help.ShortHelpView(top.ShortHelp())
}
