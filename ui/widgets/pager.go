package widgets

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Pager scrolls a list of pre-rendered lines, drawing only those on screen.
type Pager struct {
	lines         []string
	offset        int
	width, height int
}

// SetLines replaces the content, keeping the scroll position when it fits.
func (p *Pager) SetLines(lines []string) {
	p.lines = lines
	p.clamp()
}

// SetSize sets the pager's size.
func (p *Pager) SetSize(w, h int) {
	p.width, p.height = w, h
	p.clamp()
}

// Offset returns the first visible line.
func (p *Pager) Offset() int { return p.offset }

// ScrollTo makes line i the first visible one (as far as it can).
func (p *Pager) ScrollTo(i int) {
	p.offset = i
	p.clamp()
}

// Move handles the navigation keys (which scroll); it reports whether k was one.
func (p *Pager) Move(k tea.KeyPressMsg, keys NavKeys) bool {
	to, ok := keys.Step(k, p.offset, max(1, p.height-1), len(p.lines))
	if !ok {
		return false
	}
	p.offset = to
	p.clamp()
	return true
}

func (p *Pager) clamp() {
	p.offset = max(0, min(p.offset, len(p.lines)-p.height))
}

// View draws the visible lines, each cut to the width.
func (p *Pager) View() string {
	if p.height <= 0 {
		return ""
	}
	end := min(len(p.lines), p.offset+p.height)
	out := make([]string, 0, end-p.offset)
	for _, l := range p.lines[p.offset:end] {
		out = append(out, Fit(l, p.width))
	}
	return strings.Join(out, "\n")
}
