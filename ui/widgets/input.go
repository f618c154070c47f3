package widgets

import (
	tea "charm.land/bubbletea/v2"
)

// Input is a one-line text field: printable keys append, backspace
// deletes, ctrl+u clears. The caller decides what Enter and Esc mean.
type Input struct {
	// Prompt is drawn before the value ("/", ":").
	Prompt string
	value  []rune
}

// Value returns the text typed so far.
func (i *Input) Value() string { return string(i.value) }

// SetValue replaces the text.
func (i *Input) SetValue(s string) { i.value = []rune(s) }

// Update edits the text for a key; it reports whether the key was used.
func (i *Input) Update(k tea.KeyPressMsg) bool {
	switch k.String() {
	case "backspace", "ctrl+h":
		if len(i.value) > 0 {
			i.value = i.value[:len(i.value)-1]
		}
		return true
	case "ctrl+u":
		i.value = nil
		return true
	case "ctrl+w":
		j := len(i.value)
		for j > 0 && i.value[j-1] == ' ' {
			j--
		}
		for j > 0 && i.value[j-1] != ' ' {
			j--
		}
		i.value = i.value[:j]
		return true
	}
	if k.Text != "" && k.Mod&^tea.ModShift == 0 {
		i.value = append(i.value, []rune(k.Text)...)
		return true
	}
	return false
}

// View draws the prompt, the text and a block cursor.
func (i *Input) View() string { return i.Prompt + string(i.value) + "█" }
