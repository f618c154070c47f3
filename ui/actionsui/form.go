package actionsui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Field is one input of a Form.
type Field struct {
	// Label names the field; Value is its default.
	Label, Value string
	// Toggle fields flip between "yes" and "no" with space.
	Toggle bool
}

// Form is a modal that collects an action's parameters (replicas, a
// silence's duration and reason …). Enter submits: the submit func either
// refuses with a note (the form stays open) or returns the command that
// starts the action. It is not the confirmation: the pipeline still asks.
type Form struct {
	common.Nav
	common        common.Common
	title         string
	notes         []string
	labels        []string
	toggles       []bool
	inputs        []widgets.Input
	focus         int
	note          string
	submit        func(values []string) (tea.Cmd, error)
	keyMap        FormKeyMap
	width, height int
}

var _ common.Component = (*Form)(nil)

// NewForm returns a form titled title with notes (warnings, context) above
// its fields; submit receives the values in field order.
func NewForm(c common.Common, title string, notes []string, fields []Field, submit func(values []string) (tea.Cmd, error)) *Form {
	f := &Form{common: c, title: title, notes: notes, submit: submit, keyMap: DefaultFormKeyMap()}
	for _, fd := range fields {
		in := widgets.Input{Prompt: fd.Label + ": "}
		in.SetValue(fd.Value)
		f.labels = append(f.labels, fd.Label)
		f.toggles = append(f.toggles, fd.Toggle)
		f.inputs = append(f.inputs, in)
	}
	return f
}

// Title implements common.Titled.
func (f *Form) Title() string { return f.title }

// Capturing implements common.Capturing: the form takes every key.
func (f *Form) Capturing() bool { return true }

// Values returns the fields' current values.
func (f *Form) Values() []string {
	out := make([]string, len(f.inputs))
	for i := range f.inputs {
		out[i] = f.inputs[i].Value()
	}
	return out
}

// Note returns why the last submit was refused.
func (f *Form) Note() string { return f.note }

// SetSize implements common.Component.
func (f *Form) SetSize(w, h int) { f.width, f.height = w, h }

// Update implements common.Component.
func (f *Form) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return f, nil
	}
	keys := f.keys()
	switch {
	case key.Matches(k, keys.Cancel):
		f.PopSelf()
		return f, nil
	case key.Matches(k, keys.Next):
		f.focus = (f.focus + 1) % max(1, len(f.inputs))
		return f, nil
	case key.Matches(k, keys.Prev):
		f.focus = (f.focus + len(f.inputs) - 1) % max(1, len(f.inputs))
		return f, nil
	case key.Matches(k, keys.Submit):
		cmd, err := f.submit(f.Values())
		if err != nil {
			f.note = err.Error()
			return f, nil
		}
		f.PopSelf()
		return f, cmd
	}
	if len(f.inputs) == 0 {
		return f, nil
	}
	if f.toggles[f.focus] {
		if key.Matches(k, keys.Toggle) {
			v := "yes"
			if f.inputs[f.focus].Value() == "yes" {
				v = "no"
			}
			f.inputs[f.focus].SetValue(v)
		}
		return f, nil
	}
	f.inputs[f.focus].Update(k)
	f.note = ""
	return f, nil
}

// ShortHelp implements common.Component.
func (f *Form) ShortHelp() []key.Binding { return f.keys().ShortHelp() }

// FullHelp implements common.Component.
func (f *Form) FullHelp() [][]key.Binding { return f.keys().FullHelp() }

// View implements common.Component.
func (f *Form) View() string {
	st := f.common.Styles
	w := max(20, min(f.width-8, 100))
	b := []string{st.Accent.Render(widgets.Fit(f.title, w))}
	for _, n := range f.notes {
		// Notes wrap rather than being cut: they say what will happen.
		for _, l := range strings.Split(ansi.Wrap(n, w, " /,"), "\n") {
			b = append(b, st.Warn.Render(widgets.Fit(l, w)))
		}
	}
	b = append(b, "")
	for i := range f.inputs {
		line := f.inputs[i].Prompt + f.inputs[i].Value()
		if f.toggles[i] {
			line += st.Muted.Render("  (space toggles)")
		}
		if i == f.focus {
			line = f.inputs[i].View()
			if f.toggles[i] {
				line = f.inputs[i].Prompt + "[" + f.inputs[i].Value() + "]" + st.Muted.Render("  (space toggles)")
			}
			b = append(b, st.Value.Render("› ")+widgets.Fit(line, w-2))
			continue
		}
		b = append(b, "  "+widgets.Fit(line, w-2))
	}
	b = append(b, "")
	if f.note != "" {
		b = append(b, st.Warn.Render(widgets.Fit(f.note, w)))
	} else {
		b = append(b, st.Muted.Render(widgets.Fit("Enter previews; the confirmation follows · Esc cancels", w)))
	}
	return st.Frame.Render(strings.Join(b, "\n"))
}

// Placement implements common.Overlay.
func (f *Form) Placement() string { return "center" }

// Choice is one row of a Picker.
type Choice struct {
	// Label is the row; Disabled, when set, says why it cannot be picked.
	Label, Disabled string
}

// Picker is a modal list (a revision, a history id): Enter on an enabled
// row calls pick, whose command starts the action.
type Picker struct {
	common.Nav
	common        common.Common
	title, header string
	choices       []Choice
	cursor        int
	note          string
	pick          func(i int) tea.Cmd
	keyMap        ListKeyMap
	width, height int
}

var _ common.Component = (*Picker)(nil)

// NewPicker returns a picker with the cursor on row def.
func NewPicker(c common.Common, title, header string, choices []Choice, def int, pick func(i int) tea.Cmd) *Picker {
	return &Picker{common: c, title: title, header: header, choices: choices, cursor: max(0, min(def, len(choices)-1)), pick: pick, keyMap: PickerKeyMap(c.Keys)}
}

// Title implements common.Titled.
func (p *Picker) Title() string { return p.title }

// Cursor returns the row under the cursor.
func (p *Picker) Cursor() int { return p.cursor }

// Note returns why the last Enter did nothing.
func (p *Picker) Note() string { return p.note }

// SetSize implements common.Component.
func (p *Picker) SetSize(w, h int) { p.width, p.height = w, h }

// Update implements common.Component.
func (p *Picker) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	keys := p.keyMap
	switch {
	case key.Matches(k, keys.Back):
		p.PopSelf()
	case key.Matches(k, keys.Up):
		p.cursor = max(0, p.cursor-1)
	case key.Matches(k, keys.Down):
		p.cursor = max(0, min(len(p.choices)-1, p.cursor+1))
	case key.Matches(k, keys.Choose):
		if p.cursor >= len(p.choices) {
			return p, nil
		}
		if why := p.choices[p.cursor].Disabled; why != "" {
			p.note = "cannot pick this one: " + why
			return p, nil
		}
		p.PopSelf()
		return p, p.pick(p.cursor)
	}
	return p, nil
}

// ShortHelp implements common.Component.
func (p *Picker) ShortHelp() []key.Binding { return p.keyMap.ShortHelp() }

// FullHelp implements common.Component.
func (p *Picker) FullHelp() [][]key.Binding { return p.keyMap.FullHelp() }

// View implements common.Component.
func (p *Picker) View() string {
	st := p.common.Styles
	w := max(20, min(p.width-8, 110))
	b := []string{st.Accent.Render(widgets.Fit(p.title, w)), "", st.TableHeader.Render(widgets.Pad("  "+p.header, w, false))}
	h := max(3, p.height-8)
	start := max(0, min(p.cursor-h/2, len(p.choices)-h))
	for i := start; i < min(len(p.choices), start+h); i++ {
		c := p.choices[i]
		line := c.Label
		if c.Disabled != "" {
			line += "  (" + c.Disabled + ")"
		}
		line = widgets.Fit(line, w-2)
		switch {
		case i == p.cursor:
			b = append(b, st.Selected.Render(widgets.Pad("› "+line, w, false)))
		case c.Disabled != "":
			b = append(b, st.Muted.Render("  "+line))
		default:
			b = append(b, "  "+line)
		}
	}
	if p.note != "" {
		b = append(b, "", st.Warn.Render(widgets.Fit(p.note, w)))
	}
	return st.Frame.Render(strings.Join(b, "\n"))
}

// Placement implements common.Overlay.
func (p *Picker) Placement() string { return "center" }
