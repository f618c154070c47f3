package actionsui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/ui/theme"
)

// Activity tracks the actions running now, one per target, with the
// pipeline stage each one reached; a spinner turns while any runs.
type Activity struct {
	spin    spinner.Model
	running map[string]Running
	order   []string
	ticking bool
}

// Running is one action in progress.
type Running struct {
	// Title names the action; Target what it acts on.
	Title, Target string
	// Stage is the pipeline stage reached; Message its last progress line.
	Stage, Message string
}

// NewActivity returns an empty tracker.
func NewActivity() *Activity {
	return &Activity{spin: spinner.New(spinner.WithSpinner(spinner.MiniDot)), running: map[string]Running{}}
}

// Busy reports whether an action runs.
func (a *Activity) Busy() bool { return len(a.order) > 0 }

// Running lists the actions in progress, oldest first.
func (a *Activity) Running() []Running {
	out := make([]Running, 0, len(a.order))
	for _, k := range a.order {
		out = append(out, a.running[k])
	}
	return out
}

// Progress records msg; it returns the spinner's first tick when an action
// starts while none ran.
func (a *Activity) Progress(msg ProgressMsg) tea.Cmd {
	k := msg.Object.String() + " " + msg.Title
	if msg.Progress.Done {
		if _, ok := a.running[k]; ok {
			delete(a.running, k)
			a.order = slices.DeleteFunc(a.order, func(s string) bool { return s == k })
		}
		return nil
	}
	if _, ok := a.running[k]; !ok {
		a.order = append(a.order, k)
	}
	a.running[k] = Running{Title: msg.Title, Target: msg.Object.String(), Stage: string(msg.Progress.Stage), Message: msg.Progress.Message}
	if !a.ticking {
		a.ticking = true
		return a.spin.Tick
	}
	return nil
}

// Update advances the spinner; it stops ticking when nothing runs.
func (a *Activity) Update(msg spinner.TickMsg) tea.Cmd {
	if !a.Busy() {
		a.ticking = false
		return nil
	}
	var cmd tea.Cmd
	a.spin, cmd = a.spin.Update(msg)
	return cmd
}

// View is one line: spinner, stage and message of each running action.
func (a *Activity) View(st theme.Theme) string {
	var parts []string
	for _, r := range a.Running() {
		p := r.Title + " " + r.Target + " [" + r.Stage + "]"
		if r.Message != "" {
			p += " " + r.Message
		}
		parts = append(parts, p)
	}
	return st.Accent.Render(a.spin.View()) + " " + st.Value.Render(strings.Join(parts, " · "))
}
