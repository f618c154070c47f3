package actionsui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/actions/spec"
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
	width, height int
}

var _ common.Component = (*Confirm)(nil)

// NewConfirm returns the modal for msg.
func NewConfirm(c common.Common, msg ConfirmMsg) *Confirm {
	m := &Confirm{common: c, req: msg.Request, reply: msg.Reply, answer: widgets.Input{Prompt: "> "}, reason: widgets.Input{Prompt: "reason: "}}
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
	switch {
	case key.Matches(k, m.common.Keys.Back):
		// A cancellation, with what was typed: the pipeline records it as cancelled and
		// never lets it confirm.
		m.send(spec.Confirmation{Answer: m.answer.Value(), Reason: m.reason.Value(), Cancelled: true})
		m.PopSelf()
		return m, nil
	case k.String() == "tab" && m.req.NeedReason:
		m.onReason = !m.onReason
		return m, nil
	case k.String() == "enter":
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
func (m *Confirm) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit the typed answer")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// FullHelp implements common.Component.
func (m *Confirm) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// View implements common.Component.
func (m *Confirm) View() string {
	st := m.common.Styles
	w := max(20, min(m.width-6, 100))
	r := m.req
	var b []string
	title := r.Title + " " + r.Object.String() + " in " + r.Context
	if r.Dangerous {
		b = append(b, st.Crit.Render(widgets.Fit("⚠ "+title, w)))
	} else {
		b = append(b, st.Accent.Render(widgets.Fit(title, w)))
	}
	// The preview wraps rather than being cut: the diff is what the
	// operator confirms.
	for _, l := range strings.Split(strings.TrimRight(r.Preview.String(), "\n"), "\n") {
		for _, wl := range strings.Split(ansi.Wrap(l, w, " /,"), "\n") {
			b = append(b, widgets.Fit(wl, w))
		}
	}
	b = append(b, "", st.Value.Render(widgets.Fit(r.Prompt(), w)))
	if r.NeedReason {
		line := m.reason.Prompt + m.reason.Value()
		if m.onReason {
			line = m.reason.View()
		}
		b = append(b, widgets.Fit(line, w))
	}
	if m.onReason {
		b = append(b, m.answer.Prompt+m.answer.Value())
	} else {
		b = append(b, widgets.Fit(m.answer.View(), w))
	}
	if m.note != "" {
		b = append(b, st.Warn.Render(widgets.Fit(m.note, w)))
	} else {
		hint := spec.EnterAloneNeverConfirms + " · Esc cancels"
		if strings.Contains(r.Prompt(), spec.EnterAloneNeverConfirms) {
			hint = "Esc cancels" // the question already says it
		}
		b = append(b, st.Muted.Render(hint))
	}
	frame := st.Frame
	if r.Dangerous {
		frame = st.FrameDanger
	}
	return frame.Render(strings.Join(b, "\n"))
}

// Placement implements common.Overlay.
func (m *Confirm) Placement() string { return "center" }
