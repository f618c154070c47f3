package actionsui

import (
	"charm.land/bubbles/v2/key"

	"github.com/vigil-k8s/vigil/ui/common"
)

// ListKeyMap is the keys of the action menu and the picker: the help shows
// them and the modal handles them. Above a modal the root still takes
// :, ? and q.
type ListKeyMap struct {
	common.KeyMap
	// Choose (enter) runs the item (menu) or picks the row (picker).
	Choose key.Binding
}

// MenuKeyMap returns the action menu's keys over the shared ones.
func MenuKeyMap(shared common.KeyMap) ListKeyMap {
	return ListKeyMap{KeyMap: shared, Choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run"))}
}

// PickerKeyMap returns the picker's keys over the shared ones.
func PickerKeyMap(shared common.KeyMap) ListKeyMap {
	return ListKeyMap{KeyMap: shared, Choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "preview (confirmation follows)"))}
}

// ShortHelp implements common.Help.
func (k ListKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down, k.Choose, k.Back} }

// FullHelp implements common.Help.
func (k ListKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.ShortHelp(), k.RootHelp(false)}
}

// FormKeyMap is the form's keys: the help shows them and the form handles
// them; every other key edits the focused field.
type FormKeyMap struct {
	// Next (tab, down) and Prev (shift+tab, up) move between fields.
	Next, Prev key.Binding
	// Toggle (space, y, n) flips a yes/no field.
	Toggle key.Binding
	// Submit (enter) previews; the confirmation follows.
	Submit key.Binding
	// Cancel (esc) closes the form.
	Cancel key.Binding
}

// DefaultFormKeyMap returns the form's keys.
func DefaultFormKeyMap() FormKeyMap {
	return FormKeyMap{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "prev field")),
		Toggle: key.NewBinding(key.WithKeys("space", "y", "n"), key.WithHelp("space", "toggle")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "preview (confirmation follows)")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp implements common.Help.
func (k FormKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Next, k.Submit, k.Cancel} }

// FullHelp implements common.Help.
func (k FormKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Next, k.Prev, k.Toggle}, {k.Submit, k.Cancel}}
}

// keys is the form's key map in its state: moving only between two or
// more fields, toggling only on a yes/no field.
func (f *Form) keys() FormKeyMap {
	k := f.keyMap
	k.Next.SetEnabled(len(f.inputs) > 1)
	k.Prev.SetEnabled(len(f.inputs) > 1)
	k.Toggle.SetEnabled(len(f.inputs) > 0 && f.toggles[f.focus])
	return k
}

// ConfirmKeyMap is the confirmation's keys: the help shows them and the
// modal handles them; every other key types the answer or the reason.
type ConfirmKeyMap struct {
	// Submit (enter) submits the typed answer (Enter alone never confirms).
	Submit key.Binding
	// Cancel (esc) cancels the action.
	Cancel key.Binding
	// Field (tab) moves between the answer and the reason, when one is asked.
	Field key.Binding
	// Scroll (↑/↓, pgup/pgdn) scrolls a preview taller than the modal.
	Scroll key.Binding
}

// DefaultConfirmKeyMap returns the confirmation's keys.
func DefaultConfirmKeyMap() ConfirmKeyMap {
	return ConfirmKeyMap{
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit the typed answer")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Field:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "answer/reason")),
		Scroll: key.NewBinding(key.WithKeys("up", "down", "pgup", "pgdown"), key.WithHelp("↑/↓", "scroll preview")),
	}
}

// ShortHelp implements common.Help.
func (k ConfirmKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Cancel, k.Field, k.Scroll}
}

// FullHelp implements common.Help.
func (k ConfirmKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// keys is the confirmation's key map: tab only when a reason is asked, the
// arrows only when the preview scrolls.
func (m *Confirm) keys() ConfirmKeyMap {
	k := m.keyMap
	k.Field.SetEnabled(m.req.NeedReason)
	k.Scroll.SetEnabled(m.scrolls)
	return k
}
