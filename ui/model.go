// Package ui is vigil's terminal interface: one root model that owns the
// header, the focused component stack and the help footer. It never talks to
// the API itself; cluster snapshots arrive as messages.
package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/services"
)

// StaleAfter is the data age past which the header turns red.
const StaleAfter = 30 * time.Second

// Target describes the kube context on screen, for the header.
type Target struct {
	Context, Server, User string
	// Generation is the session generation whose snapshots are accepted.
	Generation uint64
}

// Options configure the root model.
type Options struct {
	// Common is shared with every component; Width/Height are set on resize.
	Common common.Common
	// Target is the context being shown.
	Target Target
	// Snapshots is the session subscription; nil in tests that send
	// SnapshotMsg themselves.
	Snapshots <-chan cluster.Snapshot
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Model is the root Bubble Tea model.
type Model struct {
	common    common.Common
	target    Target
	snapshots <-chan cluster.Snapshot
	nowFn     func() time.Time
	now       time.Time

	services *services.Model
	// stack is the focus stack; the top receives keys and supplies help.
	stack    []common.Component
	help     help.Model
	fullHelp bool

	snap     cluster.Snapshot
	haveSnap bool
	closed   bool
}

// New returns the root model.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Target.Generation == 0 {
		o.Target.Generation = 1
	}
	svc := services.New(o.Common)
	h := help.New()
	h.Styles.ShortKey = o.Common.Styles.Value
	h.Styles.FullKey = o.Common.Styles.Value
	h.Styles.ShortDesc = o.Common.Styles.Muted
	h.Styles.FullDesc = o.Common.Styles.Muted
	h.Styles.ShortSeparator = o.Common.Styles.Muted
	h.Styles.FullSeparator = o.Common.Styles.Muted
	h.Styles.Ellipsis = o.Common.Styles.Muted
	m := &Model{
		common:    o.Common,
		target:    o.Target,
		snapshots: o.Snapshots,
		nowFn:     o.Now,
		now:       o.Now(),
		services:  svc,
		stack:     []common.Component{svc},
		help:      h,
	}
	m.resize()
	return m
}

// Init implements tea.Model: wait for snapshots and start the clock.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tick()}
	if m.snapshots != nil {
		cmds = append(cmds, WaitForSnapshot(m.snapshots, m.target.Context, m.target.Generation))
	}
	return tea.Batch(cmds...)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.common.Width, m.common.Height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case tickMsg:
		m.now = m.nowFn()
		m.services.SetNow(m.now)
		return m, tick()
	case SnapshotMsg:
		return m, m.onSnapshot(msg.Snapshot)
	case SessionClosedMsg:
		if msg.Context == m.target.Context && msg.Generation == m.target.Generation {
			m.closed = true
		}
		return m, nil
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.common.Keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.common.Keys.Help):
			m.fullHelp = !m.fullHelp
			m.resize()
			return m, nil
		}
	}
	top, cmd := m.stack[len(m.stack)-1].Update(msg)
	m.stack[len(m.stack)-1] = top
	return m, cmd
}

// onSnapshot takes a snapshot from the current generation and drops any
// other (a late one from a session already switched away from).
func (m *Model) onSnapshot(s cluster.Snapshot) tea.Cmd {
	var next tea.Cmd
	if m.snapshots != nil {
		next = WaitForSnapshot(m.snapshots, m.target.Context, m.target.Generation)
	}
	if s.Generation != m.target.Generation {
		return next
	}
	m.now = m.nowFn()
	m.snap, m.haveSnap = s, true
	m.services.SetServices(s.Services, s.Synced, m.now)
	m.resize() // the notes area may have changed height
	return next
}

// Snapshot returns the snapshot on screen; ok is false before the first.
func (m *Model) Snapshot() (cluster.Snapshot, bool) { return m.snap, m.haveSnap }

// Services returns the Services pane.
func (m *Model) Services() *services.Model { return m.services }

// FullHelp reports whether the full help is open.
func (m *Model) FullHelp() bool { return m.fullHelp }

// maxNotes bounds the notes area so the table keeps most of a small screen.
const maxNotes = 3

// resize gives the focused component the height the chrome leaves over.
func (m *Model) resize() {
	m.help.SetWidth(m.common.Width)
	chrome := 2 + len(m.noteLines()) + detailHeight + m.footerHeight() // header, notes, detail, help
	for _, c := range m.stack {
		c.SetSize(m.common.Width, max(0, m.common.Height-chrome))
	}
}

func (m *Model) footerHeight() int {
	return strings.Count(m.helpView(), "\n") + 1
}

func (m *Model) helpView() string {
	top := m.stack[len(m.stack)-1]
	if m.fullHelp {
		return m.help.FullHelpView(top.FullHelp())
	}
	return m.help.ShortHelpView(top.ShortHelp())
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "vigil " + m.target.Context
	return v
}

// Render returns the screen as a string (View's content), for tests.
func (m *Model) Render() string {
	if m.common.Width <= 0 || m.common.Height <= 0 {
		return ""
	}
	parts := []string{m.headerView()}
	for _, n := range m.noteLines() {
		parts = append(parts, n)
	}
	parts = append(parts, m.stack[len(m.stack)-1].View())
	body := strings.Join(parts, "\n")
	// Pin detail and help to the bottom whatever the table's height.
	used := strings.Count(body, "\n") + 1
	footer := m.detailView() + "\n" + m.helpView()
	gap := m.common.Height - used - strings.Count(footer, "\n") - 1
	if gap > 0 {
		body += strings.Repeat("\n", gap)
	}
	return body + "\n" + footer
}

// detailHeight is the fixed height of the detail area, so the table does
// not jump as the cursor moves.
const detailHeight = 2

// detailView is the selected service's full reason, which the table may
// have truncated or (at 80 columns) not shown at all, wrapped to
// detailHeight lines.
func (m *Model) detailView() string {
	st := m.common.Styles
	s, ok := m.services.Selected()
	text := ""
	if ok {
		text = s.Namespace + "/" + s.Name + " " + s.Health.Status.String()
		if s.Health.Reason != "" {
			text += ": " + s.Health.Reason
		}
		if s.HPA.Name != "" {
			text += fmt.Sprintf(" · hpa %s %d–%d (now %d)", s.HPA.Name, s.HPA.Min, s.HPA.Max, s.HPA.Current)
		}
	}
	lines := strings.Split(ansi.Wrap(text, max(1, m.common.Width), " -"), "\n")
	if len(lines) > detailHeight {
		lines = lines[:detailHeight]
		lines[detailHeight-1] = ansi.Truncate(lines[detailHeight-1]+" …", m.common.Width, "…")
	}
	for len(lines) < detailHeight {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = st.Muted.Render(l)
	}
	return strings.Join(lines, "\n")
}
