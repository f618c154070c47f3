// Package palette is the ":" command line, as in k9s: `:svc`, `:hpa`,
// `:alerts`, `:check`, `:gitops`, `:ctx [NAME]`, `:audit`, `:ns [NAME]`, `:q`.
package palette

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Command is one palette command.
type Command struct {
	// Name is what the root's ScreenMsg carries; Aliases also select it.
	Name    string
	Aliases []string
	// Help says what it does.
	Help string
}

// Commands are the palette's commands, in the order shown.
var Commands = []Command{
	{Name: "svc", Aliases: []string{"services", "service", "deploy", "deployments", "sts"}, Help: "services"},
	{Name: "hpa", Aliases: []string{"vpa", "autoscaling", "scale"}, Help: "autoscaling: HPAs and VPAs"},
	{Name: "alerts", Aliases: []string{"alert", "al"}, Help: "alerts"},
	{Name: "check", Aliases: []string{"checks", "compliance", "pulse"}, Help: "compliance checklist"},
	{Name: "gitops", Aliases: []string{"argo", "apps", "secrets", "es", "sealed"}, Help: "Argo CD apps and secrets"},
	{Name: "who-can", Aliases: []string{"whocan", "can", "rbac"}, Help: "who can VERB RESOURCE [NAME] [-n NS], from RBAC"},
	{Name: "reach", Aliases: []string{"reachability", "netpol"}, Help: "who reaches the PCI scope (NetworkPolicy)"},
	{Name: "ctx", Aliases: []string{"context", "contexts", "fleet"}, Help: "contexts; :ctx NAME switches"},
	{Name: "audit", Aliases: []string{"log", "audit-log"}, Help: "the local audit log of actions, verified"},
	{Name: "ns", Aliases: []string{"namespace"}, Help: "namespace filter; :ns NAME, :ns all"},
	{Name: "q", Aliases: []string{"quit", "q!", "exit"}, Help: "quit"},
}

// Resolve maps typed text to a command name and its argument; ok is false
// when no command matches.
func Resolve(text string) (name, arg string, ok bool) {
	f := strings.Fields(text)
	if len(f) == 0 {
		return "", "", false
	}
	word := strings.ToLower(f[0])
	arg = strings.Join(f[1:], " ")
	for _, c := range Commands {
		if c.Name == word || slices.Contains(c.Aliases, word) {
			return c.Name, arg, true
		}
	}
	return "", "", false
}

// Model is the palette; it is an overlay at the bottom of the screen.
type Model struct {
	common.Nav
	common common.Common
	input  widgets.Input
	note   string
	width  int
	// Contexts completes `:ctx NAME`; Namespaces completes `:ns NAME`.
	Contexts, Namespaces []string
	// cycle is what a second Tab steps through once the typed text is the
	// candidates' longest common prefix; cycleAt is the one shown.
	cycle   []string
	cycleAt int
	keyMap  KeyMap
}

var _ common.Component = (*Model)(nil)

// KeyMap is the palette's keys: the help shows them and the palette
// handles them; every other key edits the command.
type KeyMap struct {
	// Run (enter) runs the command; Complete (tab) completes it; Cancel
	// (esc) closes the palette.
	Run, Complete, Cancel key.Binding
}

// DefaultKeyMap returns the palette's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Run:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Run, k.Complete, k.Cancel} }

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// New returns an empty palette.
func New(c common.Common, contexts []string) *Model {
	return &Model{common: c, input: widgets.Input{Prompt: ":"}, Contexts: contexts, keyMap: DefaultKeyMap()}
}

// Value returns the text typed.
func (m *Model) Value() string { return m.input.Value() }

// Capturing implements common.Capturing.
func (m *Model) Capturing() bool { return true }

// Placement implements common.Overlay.
func (m *Model) Placement() string { return "bottom" }

// Title implements common.Titled.
func (m *Model) Title() string { return "command" }

// SetSize implements common.Component.
func (m *Model) SetSize(w, _ int) { m.width = w }

// Update implements common.Component: Enter runs, Tab completes, Esc closes.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	switch {
	case key.Matches(k, m.keyMap.Cancel):
		m.PopSelf()
		return m, nil
	case key.Matches(k, m.keyMap.Complete):
		m.complete()
		return m, nil
	case key.Matches(k, m.keyMap.Run):
		name, arg, ok := Resolve(m.input.Value())
		if !ok {
			if strings.TrimSpace(m.input.Value()) == "" {
				m.PopSelf()
				return m, nil
			}
			m.note = "unknown command: " + m.input.Value()
			return m, nil
		}
		if name == "q" {
			return m, tea.Quit
		}
		m.PopSelf()
		m.Tell(common.ScreenMsg{Name: name, Arg: arg})
		return m, nil
	}
	m.input.Update(k)
	m.note, m.cycle = "", nil
	return m, nil
}

// complete is Tab, as in a shell: the first completes the typed text to
// the candidates' longest common prefix; once there, each Tab steps
// through the candidates (the hint line lists them).
func (m *Model) complete() {
	if len(m.cycle) > 0 && m.input.Value() == m.cycle[m.cycleAt] {
		m.cycleAt = (m.cycleAt + 1) % len(m.cycle)
		m.input.SetValue(m.cycle[m.cycleAt])
		return
	}
	m.cycle = nil
	s := m.suggestions()
	switch {
	case len(s) == 0:
		m.note = "nothing completes " + m.input.Value()
		return
	case len(s) == 1:
		m.input.SetValue(s[0])
		return
	}
	if p := commonPrefix(s); len(p) > len(m.input.Value()) {
		m.input.SetValue(p)
		return
	}
	m.cycle, m.cycleAt = s, 0
	m.input.SetValue(s[0])
}

// commonPrefix is the longest prefix every one of s starts with.
func commonPrefix(s []string) string {
	p := s[0]
	for _, x := range s[1:] {
		i := 0
		for i < len(p) && i < len(x) && p[i] == x[i] {
			i++
		}
		p = p[:i]
	}
	return p
}

// suggestions are the completions of the typed text.
func (m *Model) suggestions() []string {
	v := strings.ToLower(m.input.Value())
	var out []string
	for cmd, names := range map[string][]string{"ctx ": m.Contexts, "ns ": m.Namespaces} {
		if rest, ok := strings.CutPrefix(v, cmd); ok {
			for _, c := range names {
				if strings.HasPrefix(strings.ToLower(c), rest) {
					out = append(out, cmd+c)
				}
			}
			return out
		}
	}
	for _, c := range Commands {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if v != "" && strings.HasPrefix(n, v) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding { return m.keyMap.ShortHelp() }

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding { return m.keyMap.FullHelp() }

// View is the command line: prompt, text, and the matching commands.
func (m *Model) View() string {
	st := m.common.Styles
	line := st.Accent.Render(m.input.View())
	switch {
	case m.note != "":
		line += "  " + st.Warn.Render(m.note)
	default:
		var hints []string
		if len(m.cycle) > 0 {
			hints = append(hints, m.cycle...)
		} else {
			hints = append(hints, m.suggestions()...)
		}
		if len(hints) == 0 && m.input.Value() == "" {
			for _, c := range Commands {
				hints = append(hints, c.Name)
			}
		}
		line += "  " + st.Muted.Render(strings.Join(hints, " "))
	}
	// The whole width: the line it is drawn over must not show through.
	return widgets.Pad(line, m.width, false)
}
