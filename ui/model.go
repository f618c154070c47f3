// Package ui is vigil's terminal interface: one root model that owns the
// header, the screens (tabs), the focus stack of details and modals, and
// the help footer. It never talks to the API itself: snapshots arrive as
// messages, and everything else goes through the Backend from tea.Cmds.
package ui

import (
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/checks"
	evalhistory "github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/auditlog"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/history"
	"github.com/vigil-k8s/vigil/ui/services"
)

// StaleAfter is the data age past which the header turns red.
const StaleAfter = 30 * time.Second

// OnScreen is the kube context on screen, for the header and to drop
// results of other contexts and older generations.
type OnScreen struct {
	Context, Server, User string
	// As is the user the connection impersonates: the API server
	// authorizes every request as As, not User.
	As string
	// Anonymous says the connection has no credentials: User names a
	// kubeconfig user that is not there, and the server sees system:anonymous.
	Anonymous bool
	// Generation is the session generation whose snapshots are accepted.
	Generation uint64
}

// identity is who the API server authorizes the session's requests as.
func (o OnScreen) identity() string { return evalhistory.Identity(o.User, o.As, o.Anonymous) }

// Options configure the root model.
type Options struct {
	// Common is shared with every component; Width/Height are set on resize.
	Common common.Common
	// Feed is the context shown first (its Snapshots may be nil in
	// tests that send SnapshotMsg themselves).
	Feed Feed
	// Backend switches contexts, summarises the fleet and evaluates
	// checks; nil disables those.
	Backend Backend
	// Now is the clock; default time.Now.
	Now func() time.Time
	// AuditPath is the local audit log the audit pane shows; "" for none.
	AuditPath string
	// Attest lays a context's attestations over its findings (common.Data.Attest); nil for none.
	Attest func(kubeContext string, cat []checks.Check, findings []checks.Finding, now time.Time) []checks.Finding
	// Evaluations is the checklist's history (common.Data.Evaluations); nil for none.
	Evaluations common.Evaluations
	// Connect, when set, starts the session of Feed.OnScreen.Context
	// through Backend.Switch (Feed has no session yet): the header says
	// so until it lands, and a context that cannot be reached opens the
	// Contexts screen with why, from which another can be chosen.
	Connect bool
}

// screen is one top-level screen, selectable with Tab or its palette name.
type screen struct {
	name string
	comp common.Component
}

// Model is the root Bubble Tea model.
type Model struct {
	common    common.Common
	data      *common.Data
	onScreen  OnScreen
	snapshots <-chan estate.Snapshot
	backend   Backend
	actions   actionsui.Provider
	nowFn     func() time.Time
	// activity is the actions running now, shown with a spinner.
	activity *actionsui.Activity
	audit    *auditlog.Model

	screens []screen
	active  int
	// stack is the focus stack above the active screen: details and
	// modals. Its top receives keys and supplies help.
	stack    []common.Component
	help     help.Model
	fullHelp bool

	// writeWarning is the Feed's WriteWarning, shown next to READ-ONLY.
	writeWarning string
	// status is a one-line flash (switch errors, action outcomes).
	status    string
	statusBad bool
	// statusAbout is the service an action outcome in the status line is
	// about (its Key); statusWas is how that service looked in the first
	// snapshot after the outcome. When a later one differs (an HPA set the
	// replicas back), the outcome is stale and the line is cleared.
	statusAbout, statusWas string
	// statusUntil, when set, is when a note (why a key did nothing) leaves
	// the status line.
	statusUntil time.Time
	// sess is the state of context switches (session.go).
	sess   session
	closed bool
	// connect is Init's switch to the first context (Options.Connect).
	connect tea.Cmd
}

// New returns the root model.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Common.ReadOnly = o.Common.ReadOnly || o.Feed.ReadOnly
	t := o.Feed.OnScreen
	if t.Generation == 0 && !o.Connect {
		t.Generation = 1
	}
	d := &common.Data{Context: t.Context, Generation: t.Generation, Identity: t.identity(), Now: o.Now(), History: history.New(60, 5*time.Second),
		Logs: o.Feed.Logs, LogsOff: o.Feed.LogsOff, Attest: o.Attest, Evaluations: o.Evaluations, ArgoDiff: o.Feed.ArgoDiff, ArgoDiffOff: o.Feed.ArgoDiffOff}
	m := &Model{
		common:    o.Common,
		data:      d,
		onScreen:  t,
		snapshots: o.Feed.Snapshots,
		backend:   o.Backend,
		actions:   o.Feed.Actions,
		nowFn:     o.Now,
		help:      newHelp(o.Common),
		activity:  actionsui.NewActivity(),
		audit:     auditlog.New(o.Common, d, o.AuditPath),

		writeWarning: o.Feed.WriteWarning,
	}
	if o.Backend != nil {
		d.Contexts = o.Backend.Contexts()
		d.Manifest, d.Events = o.Backend.Manifest, o.Backend.Events
	}

	m.screens = m.newScreens()
	if o.Connect && o.Backend != nil {
		m.sess.seq++
		m.sess.switching = t.Context
		m.sess.recording = true
		m.connect = switchCmd(o.Backend, t.Context, m.sess.seq)
	}
	m.stack = []common.Component{m.screens[0].comp}
	m.refreshAll()
	m.resize()
	return m
}

func newHelp(c common.Common) help.Model {
	h := help.New()
	h.Styles.ShortKey = c.Styles.Value
	h.Styles.FullKey = c.Styles.Value
	h.Styles.ShortDesc = c.Styles.Muted
	h.Styles.FullDesc = c.Styles.Muted
	h.Styles.ShortSeparator = c.Styles.Muted
	h.Styles.FullSeparator = c.Styles.Muted
	h.Styles.Ellipsis = c.Styles.Muted
	return h
}

// Init implements tea.Model: wait for snapshots and start the clock; the
// checks run once the first synced snapshot arrives.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tick(), m.audit.Reload(), m.connect}
	if m.snapshots != nil {
		cmds = append(cmds, WaitForSnapshot(m.snapshots, m.onScreen.Context, m.onScreen.Generation))
	}
	return tea.Batch(cmds...)
}

// Update implements tea.Model. Domain messages go to onData, navigation
// to onNav, keys to onKey; whatever none of them takes goes to the top of
// the focus stack.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := m.onData(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.onNav(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.common.Width, m.common.Height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case tea.KeyPressMsg:
		if m.tooSmall() {
			// Nothing is drawn but the request to enlarge: no key acts
			// unseen, but quitting.
			if k := msg.String(); k == "ctrl+c" || key.Matches(msg, m.common.Keys.Quit) {
				return m, tea.Quit
			}
			return m, nil
		}
		m.record(msg)
		if cmd, ok := m.onKey(msg); ok {
			return m, cmd
		}
	case tea.PasteMsg:
		m.record(msg)
	case tea.MouseWheelMsg:
		if m.tooSmall() {
			return m, nil
		}
		return m, m.toTop(wheelKey(msg))
	}
	return m, m.toTop(msg)
}

// toTop sends msg to the top of the focus stack.
func (m *Model) toTop(msg tea.Msg) tea.Cmd {
	if msg == nil {
		return nil
	}
	i := len(m.stack) - 1
	c, cmd := m.stack[i].Update(msg)
	m.stack[i] = c
	if nv, ok := c.(common.Navigator); ok {
		child, pop, tell := nv.TakeNav()
		if pop && len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
			m.resize()
		}
		if child != nil {
			cmd = tea.Batch(cmd, m.push(child))
		}
		for _, t := range tell {
			_, c := m.Update(t)
			cmd = tea.Batch(cmd, c)
		}
	}
	return cmd
}

// Data returns the data the screens draw, for tests.
func (m *Model) Data() *common.Data { return m.data }

// Snapshot returns the snapshot on screen; ok is false before the first.
func (m *Model) Snapshot() (estate.Snapshot, bool) { return m.data.Snap, m.data.HaveSnap }

// Services returns the Services screen.
func (m *Model) Services() *services.Model { return m.screens[0].comp.(*services.Model) }

// Top returns the component with focus.
func (m *Model) Top() common.Component { return m.stack[len(m.stack)-1] }

// Screen returns the name of the active screen.
func (m *Model) Screen() string { return m.screens[m.active].name }

// OnScreen returns the context on screen.
func (m *Model) OnScreen() OnScreen { return m.onScreen }

// FullHelp reports whether the full help is open.
func (m *Model) FullHelp() bool { return m.fullHelp }

// Activity returns the actions running now.
func (m *Model) Activity() *actionsui.Activity { return m.activity }

// Audit returns the audit pane.
func (m *Model) Audit() *auditlog.Model { return m.audit }

// Status returns the flash line.
func (m *Model) Status() string { return m.status }
