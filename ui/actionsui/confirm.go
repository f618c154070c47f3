package actionsui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Confirm is the confirmation modal of a running action. It shows the
// preview and asks for the typed target (`<context>/<namespace>/<name>`)
// or y/yes. Enter alone never confirms: an answer the pipeline would
// refuse keeps the modal open with the reason; Esc cancels.
type Confirm struct {
	common.Nav
	common        common.Common
	req           spec.ConfirmRequest
	reply         chan<- spec.Confirmation
	answer        widgets.Input
	reason        widgets.Input
	onReason      bool
	note          string
	answered      bool
	keyMap        ConfirmKeyMap
	width, height int
	// scroll is the first preview line shown when the preview is taller than the modal's room
	// (the question and the answer always stay on screen); scrolls says it was, at the last View.
	scroll  int
	scrolls bool
}

var _ common.Component = (*Confirm)(nil)

// NewConfirm returns the modal for msg.
func NewConfirm(c common.Common, msg ConfirmMsg) *Confirm {
	m := &Confirm{common: c, req: msg.Request, reply: msg.Reply, answer: widgets.Input{Prompt: "> "}, reason: widgets.Input{Prompt: "reason: "}, keyMap: DefaultConfirmKeyMap()}
	m.reason.SetValue(msg.Request.Reason)
	m.onReason = msg.Request.NeedReason && strings.TrimSpace(msg.Request.Reason) == ""
	return m
}

// Title implements common.Titled.
func (m *Confirm) Title() string { return "confirm" }

// Capturing implements common.Capturing: every key goes to the modal.
func (m *Confirm) Capturing() bool { return true }

// Answered reports whether the modal sent an answer (confirm or cancel).
func (m *Confirm) Answered() bool { return m.answered }

// SetSize implements common.Component.
func (m *Confirm) SetSize(w, h int) { m.width, m.height = w, h }

// Update implements common.Component.
func (m *Confirm) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || m.answered {
		return m, nil
	}
	keys := m.keys()
	switch {
	case key.Matches(k, keys.Cancel):
		// A cancellation, with what was typed: the pipeline records it as cancelled and
		// never lets it confirm.
		m.send(spec.Confirmation{Answer: m.answer.Value(), Reason: m.reason.Value(), Cancelled: true})
		m.PopSelf()
		return m, nil
	case key.Matches(k, keys.Scroll):
		step := map[string]int{"up": -1, "down": 1, "pgup": -max(1, m.height/2), "pgdown": max(1, m.height/2)}[k.String()]
		m.scroll = max(0, m.scroll+step) // View clamps the upper end
		return m, nil
	case key.Matches(k, keys.Field):
		m.onReason = !m.onReason
		return m, nil
	case key.Matches(k, keys.Submit):
		if m.onReason {
			if strings.TrimSpace(m.reason.Value()) == "" {
				m.note = "a reason (ticket or incident) is required"
				return m, nil
			}
			m.onReason = false
			return m, nil
		}
		if err := spec.CheckAnswer(m.req, m.answer.Value()); err != nil {
			m.note = err.Error()
			return m, nil
		}
		if m.req.NeedReason && strings.TrimSpace(m.reason.Value()) == "" {
			m.onReason, m.note = true, "a reason (ticket or incident) is required"
			return m, nil
		}
		m.send(spec.Confirmation{Answer: m.answer.Value(), Reason: m.reason.Value()})
		m.PopSelf()
		return m, nil
	}
	if m.onReason {
		m.reason.Update(k)
	} else {
		m.answer.Update(k)
	}
	m.note = ""
	return m, nil
}

func (m *Confirm) send(c spec.Confirmation) {
	m.answered = true
	select {
	case m.reply <- c:
	default:
	}
}

// ShortHelp implements common.Component.
func (m *Confirm) ShortHelp() []key.Binding { return m.keys().ShortHelp() }

// FullHelp implements common.Component.
func (m *Confirm) FullHelp() [][]key.Binding { return m.keys().FullHelp() }

// View implements common.Component.
func (m *Confirm) View() string {
	st := m.common.Styles
	w := max(20, min(m.width-6, 140)) // wide enough for a long token on one line
	r := m.req
	var b []string
	title := r.Title + " " + r.Object.String() + " in " + termsafe.Line(r.Context)
	// The title, the question and what is typed wrap, never cut: the context name and the
	// token to type are what the operator reads and copies, however long (an EKS ARN).
	titleStyle := st.Accent
	if r.Dangerous {
		titleStyle, title = st.Crit, "⚠ "+title
	}
	for _, l := range wrapWords(title, w) {
		b = append(b, titleStyle.Render(l))
	}
	// The preview wraps rather than being cut: the diff is what the
	// operator confirms.
	var preview []string
	for _, l := range strings.Split(strings.TrimRight(r.Preview.String(), "\n"), "\n") {
		for _, wl := range strings.Split(ansi.Wrap(l, w, " /,"), "\n") {
			preview = append(preview, widgets.Fit(wl, w))
		}
	}
	tail := []string{""}
	for _, l := range wrapWords(r.Prompt(), w) {
		tail = append(tail, st.Value.Render(l))
	}
	if r.NeedReason {
		line := m.reason.Prompt + m.reason.Value()
		if m.onReason {
			line = m.reason.View()
		}
		tail = append(tail, strings.Split(ansi.Hardwrap(line, w, true), "\n")...)
	}
	answer := m.answer.View()
	if m.onReason {
		answer = m.answer.Prompt + m.answer.Value()
	}
	tail = append(tail, strings.Split(ansi.Hardwrap(answer, w, true), "\n")...)
	if m.note != "" {
		for _, l := range wrapWords(m.note, w) {
			tail = append(tail, st.Warn.Render(l))
		}
	} else {
		hint := spec.EnterAloneNeverConfirms + " · Esc cancels"
		if strings.Contains(r.Prompt(), spec.EnterAloneNeverConfirms) {
			hint = "Esc cancels" // the question already says it
		}
		tail = append(tail, st.Muted.Render(hint))
	}
	// Taller than the room (2 lines of frame): the preview scrolls, the question stays.
	room := m.height - 2 - len(b) - len(tail)
	m.scrolls = m.height > 0 && len(preview) > room
	if m.scrolls {
		show := max(1, room-1)
		m.scroll = min(m.scroll, max(0, len(preview)-show))
		end := min(len(preview), m.scroll+show)
		more := fmt.Sprintf("preview lines %d–%d of %d (↑/↓ pgup/pgdn scroll)", m.scroll+1, end, len(preview))
		preview = append(preview[m.scroll:end:end], st.Muted.Render(widgets.Fit(more, w)))
	}
	b = append(append(b, preview...), tail...)
	frame := st.Frame
	if r.Dangerous {
		frame = st.FrameDanger
	}
	return frame.Render(strings.Join(b, "\n"))
}

// Placement implements common.Overlay.
func (m *Confirm) Placement() string { return "center" }

// wrapWords wraps plain text to lines of at most w cells at spaces. A word longer than a line
// (a long context name in a token to type) is broken after its "/" separators, and only when
// a part is still too long, inside it: every character is shown, in order, each part of a
// broken word starting a line of its own.
func wrapWords(text string, w int) []string {
	var lines []string
	line := ""
	add := func(word string) {
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line+" "+word) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	for _, word := range strings.Fields(text) {
		if ansi.StringWidth(word) <= w {
			add(word)
			continue
		}
		var parts []string
		part := ""
		for _, piece := range strings.SplitAfter(word, "/") {
			if part != "" && ansi.StringWidth(part+piece) > w {
				parts = append(parts, part)
				part = ""
			}
			part += piece
		}
		for _, p := range append(parts, part) {
			for _, hp := range strings.Split(ansi.Hardwrap(p, w, false), "\n") {
				if line != "" {
					lines = append(lines, line)
				}
				line = hp
			}
		}
	}
	return append(lines, line)
}
