package common

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/ui/widgets"
)

// NavKeys returns the navigation bindings of k for widgets.
func NavKeys(k KeyMap) widgets.NavKeys {
	return widgets.NavKeys{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown, Top: k.Top, Bottom: k.Bottom}
}

// Page is a scrolling screen of pre-rendered lines: Build renders them
// (on Refresh and resize, never in View), the pager draws what fits.
type Page struct {
	Nav
	Common Common
	Data   *Data
	// Name is the tab title.
	Name string
	// Build renders the page for a width.
	Build func(width int) []string
	// Keys handles screen-specific keys before scrolling; nil for none.
	Keys func(k tea.KeyPressMsg) (tea.Cmd, bool)
	// Extra are help bindings of the screen-specific keys.
	Extra []key.Binding
	// Pop makes Esc pop the page (a drill-down) rather than do nothing.
	Pop   bool
	pager widgets.Pager
	width int
}

// Title implements Titled.
func (p *Page) Title() string { return p.Name }

// Refresh implements Refresher.
func (p *Page) Refresh() {
	if p.width > 0 {
		p.pager.SetLines(p.Build(p.width))
	}
}

// SetSize implements Component.
func (p *Page) SetSize(w, h int) {
	p.width = w
	p.pager.SetSize(w, h)
	p.Refresh()
}

// Update implements Component.
func (p *Page) Update(msg tea.Msg) (Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	if p.Keys != nil {
		if cmd, ok := p.Keys(k); ok {
			return p, cmd
		}
	}
	if p.Pop && key.Matches(k, p.Common.Keys.Back) {
		p.PopSelf()
		return p, nil
	}
	p.pager.Move(k, NavKeys(p.Common.Keys))
	return p, nil
}

// View implements Component.
func (p *Page) View() string { return p.pager.View() }

// ShortHelp implements Component.
func (p *Page) ShortHelp() []key.Binding {
	k := p.Common.Keys
	out := append([]key.Binding{k.Down, k.PageDown}, p.Extra...)
	if p.Pop {
		out = append(out, k.Back)
	}
	return append(out, k.Command, k.Help, k.Quit)
}

// FullHelp implements Component.
func (p *Page) FullHelp() [][]key.Binding {
	k := p.Common.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, append(p.Extra, k.Back, k.NextTab, k.PrevTab), {k.Command, k.Help, k.Quit}}
}
