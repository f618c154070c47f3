package common

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

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
	// Help is the page's key map, with the bindings Keys handles; nil is
	// PageKeys with none of its own.
	Help Help
	// Pop makes Esc pop the page (a drill-down) rather than do nothing.
	Pop bool
	// Select, when set, replaces Build and makes rows selectable: it
	// returns the lines and the line index of each selectable row; the
	// cursor moves over those rows (Cursor).
	Select func(width int) (lines []string, rows []int)
	pager  widgets.Pager
	width  int
	height int
	lines  []string
	rows   []int
	cursor int
}

// Cursor returns the selected row (an index into Select's rows); ok is
// false when the page has none.
func (p *Page) Cursor() (int, bool) {
	return p.cursor, p.cursor < len(p.rows)
}

// SetCursor moves the cursor to row i.
func (p *Page) SetCursor(i int) {
	p.cursor = i
	p.place()
}

// place clamps the cursor, draws it and scrolls it into view.
func (p *Page) place() {
	p.cursor = max(0, min(p.cursor, len(p.rows)-1))
	if len(p.rows) == 0 {
		p.pager.SetLines(p.lines)
		return
	}
	lines := append([]string(nil), p.lines...)
	at := p.rows[p.cursor]
	lines[at] = p.Common.Styles.Selected.Render(widgets.Pad("› "+ansi.Strip(lines[at]), p.width, false))
	p.pager.SetLines(lines)
	if off := p.pager.Offset(); at < off {
		p.pager.ScrollTo(at)
	} else if at >= off+p.height {
		p.pager.ScrollTo(at - p.height + 1)
	}
}

// move moves the cursor for a navigation key; it reports whether k was one.
func (p *Page) move(k tea.KeyPressMsg) bool {
	to, ok := NavKeys(p.Common.Keys).Step(k, p.cursor, max(1, p.height/2), len(p.rows)-1)
	if !ok {
		return false
	}
	p.cursor = to
	p.place()
	return true
}

// Title implements Titled.
func (p *Page) Title() string { return p.Name }

// Refresh implements Refresher.
func (p *Page) Refresh() {
	if p.width <= 0 {
		return
	}
	if p.Select == nil {
		p.pager.SetLines(p.Build(p.width))
		return
	}
	p.lines, p.rows = p.Select(p.width)
	p.place()
}

// Clocked implements Clocked: pages render ages ahead of View.
func (p *Page) Clocked() {}

// SetSize implements Component.
func (p *Page) SetSize(w, h int) {
	p.width, p.height = w, h
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
	if p.Select != nil && p.move(k) {
		return p, nil
	}
	p.pager.Move(k, NavKeys(p.Common.Keys))
	return p, nil
}

// View implements Component.
func (p *Page) View() string { return p.pager.View() }

// help is the page's key map.
func (p *Page) help() Help {
	if p.Help != nil {
		return p.Help
	}
	return PageKeys{KeyMap: p.Common.Keys, Pushed: p.Pop}
}

// ShortHelp implements Component.
func (p *Page) ShortHelp() []key.Binding { return p.help().ShortHelp() }

// FullHelp implements Component.
func (p *Page) FullHelp() [][]key.Binding { return p.help().FullHelp() }

// Picker is a Page whose selectable rows each stand for a value (an alert,
// an application, ...), so a screen can act on the row under the cursor.
type Picker[T any] struct {
	*Page
	picks []T
}

// NewPicker makes p's rows selectable: build renders the lines for a width
// and returns, with each selectable row's line index, the value it stands for.
func NewPicker[T any](p *Page, build func(width int) (lines []string, rows []int, picks []T)) *Picker[T] {
	pk := &Picker[T]{Page: p}
	p.Select = func(w int) ([]string, []int) {
		lines, rows, picks := build(w)
		pk.picks = picks
		return lines, rows
	}
	return pk
}

// Picked returns the value of the row under the cursor; ok is false when
// there is none.
func (pk *Picker[T]) Picked() (v T, ok bool) {
	i, ok := pk.Cursor()
	if !ok || i >= len(pk.picks) {
		return v, false
	}
	return pk.picks[i], true
}
