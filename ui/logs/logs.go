// Package logs is the logs view: the merged log of every pod of a service
// (cluster.ServiceLogs through common.LogsOpener), followed as it grows,
// each line tagged by pod and container in the pod's colour, with search.
// Its memory is the stream's ring buffer plus the lines on hand (at most
// the buffer's capacity); lines a slow frame rate could not take are
// counted and shown as dropped, never waited for.
package logs

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// KeyMap is the logs view's keys: the help shows them and the view handles
// them. Which apply depends on the view's state (keys).
type KeyMap struct {
	common.KeyMap
	Follow, Previous, Search, Stamps, Since, Wrap, Pick key.Binding
	// Next (n) and Prev (N) jump between the lines matching the search.
	Next, Prev key.Binding
	// Done (enter) ends typing a search, or picks the container.
	Done key.Binding
	// mode is what the view is doing: reading, searching or picking.
	mode mode
}

type mode int

const (
	reading mode = iota
	searching
	picking
)

// DefaultKeyMap returns the logs view's keys over the shared ones.
func DefaultKeyMap(shared common.KeyMap) KeyMap {
	return KeyMap{
		KeyMap:   shared,
		Follow:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		Previous: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "previous")),
		Next:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/prev match")),
		Prev:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match")),
		Search:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Stamps:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timestamps")),
		Since:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "since 1m/15m/1h/all")),
		Wrap:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
		Pick:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "container")),
		Done:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done")),
	}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding {
	switch k.mode {
	case searching:
		return []key.Binding{k.Done, k.Back}
	case picking:
		return []key.Binding{k.Up, k.Down, k.Done, k.Back}
	}
	return []key.Binding{k.Search, k.Next, k.Follow, k.Previous, k.Wrap, k.Pick, k.Back}
}

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding {
	if k.mode != reading {
		return [][]key.Binding{k.ShortHelp()}
	}
	return [][]key.Binding{k.NavHelp(), k.ShortHelp(), {k.Prev, k.Since, k.Stamps}, k.RootHelp(false)}
}

// keys is the key map in the view's state: n and N only once there is a
// search.
func (m *Model) keys() KeyMap {
	k := m.keyMap
	switch {
	case m.searching:
		k.mode = searching
		k.Done.SetHelp("enter", "search")
		k.Back.SetHelp("esc", "cancel")
	case m.picking >= 0:
		k.mode = picking
		k.Done.SetHelp("enter", "pick")
		k.Back.SetHelp("esc", "close")
	}
	k.Next.SetEnabled(m.query != "")
	k.Prev.SetEnabled(m.query != "")
	return k
}

// sinceChoices are what s cycles through; 0 is all the kubelet has.
var sinceChoices = []time.Duration{0, time.Minute, 15 * time.Minute, time.Hour}

// Model is the logs view of one service.
type Model struct {
	common.Nav
	c    common.Common
	open common.LogsOpener
	req  common.LogsRequest

	gen     int // the stream's generation: messages of a replaced stream are dropped
	feed    common.LogsFeed
	cancel  context.CancelFunc
	waitID  int
	armedAt time.Time
	ended   bool
	err     string

	lines    []estate.LogLine
	capacity int
	offset   int
	follow   bool

	stamps bool
	wrap   bool

	// containers are the container names seen in the stream (across
	// reopens); picking is the container picker's cursor, -1 when closed
	// (0 is every container, i+1 is containers[i]).
	containers []string
	picking    int

	searching bool
	input     widgets.Input
	query     string
	keyMap    KeyMap
	width     int
	height    int
}

// New returns the logs view of namespace/service, reading with open.
func New(c common.Common, open common.LogsOpener, namespace, service string, previous bool) *Model {
	m := &Model{c: c, open: open, req: common.LogsRequest{Namespace: namespace, Service: service, Previous: previous}, follow: true, picking: -1, keyMap: DefaultKeyMap(c.Keys)}
	m.input.Prompt = "/"
	m.SetSize(c.Width, c.Height)
	return m
}

// Title implements common.Titled.
func (m *Model) Title() string { return "logs " + m.req.Namespace + "/" + m.req.Service }

// Capturing implements common.Capturing: while typing a search or picking
// a container.
func (m *Model) Capturing() bool { return m.searching || m.picking >= 0 }

// openedMsg carries a started stream (or why it did not start).
type openedMsg struct {
	gen    int
	feed   common.LogsFeed
	cancel context.CancelFunc
	err    error
}

// readyMsg says the stream of generation gen has new lines; endedMsg that
// it ended. wait tells the waits apart (see rearm).
type readyMsg struct{ gen, wait int }
type endedMsg struct{ gen, wait int }

// Init implements common.Initer: it starts the stream.
func (m *Model) Init() tea.Cmd {
	m.gen++
	gen, open, req := m.gen, m.open, m.req
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(context.Background())
		feed, err := open(ctx, req)
		if err != nil {
			cancel()
		}
		return openedMsg{gen: gen, feed: feed, cancel: cancel, err: err}
	}
}

// wait returns a command that waits for the stream's next lines or end.
func (m *Model) wait() tea.Cmd {
	m.waitID++
	m.armedAt = time.Now()
	gen, id, feed := m.gen, m.waitID, m.feed
	return func() tea.Msg {
		select {
		case <-feed.Buffer.Ready():
			return readyMsg{gen, id}
		case <-feed.Done:
			return endedMsg{gen, id}
		}
	}
}

// rearm starts another wait when the last one's message has not come back
// for a while: the root sends messages to the top of the focus stack, so a
// palette opened over this view swallows it.
func (m *Model) rearm() tea.Cmd {
	if m.feed.Buffer == nil || m.ended || time.Since(m.armedAt) < time.Second {
		return nil
	}
	return m.wait()
}

// Stop ends the stream.
func (m *Model) Stop() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case openedMsg:
		if msg.gen != m.gen {
			if msg.cancel != nil {
				msg.cancel()
			}
			return m, nil
		}
		if msg.err != nil {
			m.err, m.ended = msg.err.Error(), true
			return m, nil
		}
		m.feed, m.cancel = msg.feed, msg.cancel
		m.capacity = msg.feed.Buffer.Stats().Capacity
		return m, m.wait()
	case readyMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.take()
		if msg.wait != m.waitID {
			return m, nil // an older wait: the current one is out
		}
		return m, m.wait()
	case endedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.take()
		m.ended = true
		if m.feed.Err != nil {
			if err := m.feed.Err(); err != nil && !strings.Contains(err.Error(), "context canceled") {
				m.err = err.Error()
			}
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, tea.Batch(m.key(msg), m.rearm())
	}
	return m, nil
}

// take moves the buffer's new lines into the view, keeping at most its capacity.
func (m *Model) take() {
	n := len(m.lines)
	m.lines = append(m.lines, m.feed.Buffer.ReadNew(0)...)
	for _, l := range m.lines[n:] {
		if l.Container != "" && !slices.Contains(m.containers, l.Container) {
			m.containers = append(m.containers, l.Container)
			slices.Sort(m.containers)
		}
	}
	if over := len(m.lines) - max(m.capacity, 1); over > 0 {
		m.lines = append(m.lines[:0:0], m.lines[over:]...)
		m.offset = max(0, m.offset-over)
	}
	if m.follow {
		m.offset = m.maxOffset()
	}
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys()
	if m.searching {
		switch {
		case key.Matches(k, keys.Done):
			m.searching, m.query = false, m.input.Value()
			m.jump(1, true)
		case key.Matches(k, keys.Back):
			m.searching = false
		default:
			m.input.Update(k)
		}
		return nil
	}
	if m.picking >= 0 {
		return m.pick(k, keys)
	}
	switch {
	case key.Matches(k, keys.Back):
		m.Stop()
		m.ended = true
		m.PopSelf()
	case key.Matches(k, keys.Search):
		m.searching = true
		m.input.SetValue("")
	case key.Matches(k, keys.Next):
		m.jump(1, false)
	case key.Matches(k, keys.Prev):
		m.jump(-1, false)
	case key.Matches(k, keys.Follow):
		m.follow = !m.follow
		if m.follow {
			m.offset = m.maxOffset()
		}
	case key.Matches(k, keys.Previous):
		m.req.Previous = !m.req.Previous
		return m.reopen()
	case key.Matches(k, keys.Since):
		i := 0
		for j, d := range sinceChoices {
			if d == m.req.Since {
				i = j
			}
		}
		m.req.Since = sinceChoices[(i+1)%len(sinceChoices)]
		return m.reopen()
	case key.Matches(k, keys.Stamps):
		m.stamps = !m.stamps
	case key.Matches(k, keys.Wrap):
		m.wrap = !m.wrap
		m.offset = min(m.offset, m.maxOffset())
		if m.follow {
			m.offset = m.maxOffset()
		}
	case key.Matches(k, keys.Pick):
		m.picking = 0
		if i := slices.Index(m.containers, m.req.Container); i >= 0 {
			m.picking = i + 1
		}
	case key.Matches(k, keys.Up):
		m.scroll(-1)
	case key.Matches(k, keys.Down):
		m.scroll(1)
	case key.Matches(k, keys.PageUp):
		m.scroll(-m.body())
	case key.Matches(k, keys.PageDown):
		m.scroll(m.body())
	case key.Matches(k, keys.Top):
		m.follow, m.offset = false, 0
	case key.Matches(k, keys.Bottom):
		m.follow, m.offset = true, m.maxOffset()
	}
	return nil
}

// pick handles a key while the container picker is open: up/down move,
// enter reads the chosen container's lines only (or every container's),
// esc closes the picker.
func (m *Model) pick(k tea.KeyPressMsg, keys KeyMap) tea.Cmd {
	switch {
	case key.Matches(k, keys.Back):
		m.picking = -1
	case key.Matches(k, keys.Up):
		m.picking = max(0, m.picking-1)
	case key.Matches(k, keys.Down):
		m.picking = min(len(m.containers), m.picking+1)
	case key.Matches(k, keys.Done):
		want := ""
		if m.picking > 0 {
			want = m.containers[m.picking-1]
		}
		m.picking = -1
		if want != m.req.Container {
			m.req.Container = want
			return m.reopen()
		}
	}
	return nil
}

// reopen replaces the stream with one for the changed request.
func (m *Model) reopen() tea.Cmd {
	m.Stop()
	m.lines, m.offset, m.ended, m.err, m.feed, m.follow = nil, 0, false, "", common.LogsFeed{}, true
	return m.Init()
}

func (m *Model) scroll(n int) {
	m.offset = min(max(0, m.offset+n), m.maxOffset())
	m.follow = m.offset == m.maxOffset() && n > 0
}

// jump moves to the next (dir 1) or previous (-1) line matching the query,
// from the top of the view (inclusive when here is true).
func (m *Model) jump(dir int, here bool) {
	if m.query == "" || len(m.lines) == 0 {
		return
	}
	start := m.offset
	if !here {
		start += dir
	}
	for i := range len(m.lines) {
		j := ((start+dir*i)%len(m.lines) + len(m.lines)) % len(m.lines)
		if strings.Contains(m.lines[j].Text, m.query) {
			m.follow, m.offset = false, j
			return
		}
	}
}

// Offset is the index of the first line shown; Following says whether the
// view sticks to the newest line.
func (m *Model) Offset() int     { return m.offset }
func (m *Model) Following() bool { return m.follow }

func (m *Model) body() int { return max(1, m.height-2) }

// maxOffset is the offset that shows the newest line at the bottom: with
// wrap, as many lines from the end as their rows fit.
func (m *Model) maxOffset() int {
	if !m.wrap {
		return max(0, len(m.lines)-m.body())
	}
	rows := 0
	for i := len(m.lines) - 1; i >= 0; i-- {
		rows += len(m.rows(m.lines[i]))
		if rows > m.body() {
			return min(i+1, len(m.lines)-1)
		}
	}
	return 0
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// View implements common.Component.
func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	state := "paused"
	if m.follow {
		state = "following"
	}
	if m.ended {
		state = "ended"
	}
	what := "logs of " + m.req.Namespace + "/" + m.req.Service
	if m.req.Previous {
		what = "previous " + what
	}
	if m.req.Container != "" {
		what += " container " + m.req.Container
	}
	if m.req.Since > 0 {
		what += " since " + widgets.Age(m.req.Since)
	}
	head := fmt.Sprintf("%s · %s · %d lines", what, state, len(m.lines))
	// What was lost comes before the buffer's figures: a narrow terminal
	// cuts the end of the line.
	if m.feed.LeftOut != nil {
		if n := m.feed.LeftOut(); n > 0 {
			head += fmt.Sprintf(" · %d older lines not kept", n)
		}
	}
	if m.feed.Buffer != nil {
		s := m.feed.Buffer.Stats()
		if s.Dropped > 0 {
			head += fmt.Sprintf(" · %d dropped", s.Dropped)
		}
		head += fmt.Sprintf(" · buffer %d/%d (%s)", s.Lines, s.Capacity, widgets.Bytes(int64(s.Bytes)))
	}
	b.WriteString(st.Accent.Render(widgets.Fit(head, m.width)) + "\n")
	shown := 0
	for i := m.offset; i < len(m.lines) && shown < m.body(); i++ {
		for _, r := range m.rows(m.lines[i]) {
			if shown == m.body() {
				break
			}
			b.WriteString(r + "\n")
			shown++
		}
	}
	for ; shown < m.body(); shown++ {
		b.WriteString("\n")
	}
	switch {
	case m.picking >= 0:
		b.WriteString(m.pickerLine())
	case m.searching:
		b.WriteString(m.input.View())
	case m.err != "":
		b.WriteString(st.Crit.Render(widgets.Fit(m.err, m.width)))
	case m.query != "":
		b.WriteString(st.Muted.Render(widgets.Fit("/"+m.query+"  n/N next/prev · f follow · p previous · esc back", m.width)))
	default:
		b.WriteString(st.Muted.Render(widgets.Fit("/ search · f follow · p previous · s since · t timestamps · w wrap · c container · g/G top/bottom · esc back", m.width)))
	}
	return b.String()
}

// pickerLine is the container picker: every container, then each one
// seen, the cursor's choice selected.
func (m *Model) pickerLine() string {
	st := m.c.Styles
	opts := append([]string{"all containers"}, m.containers...)
	var b strings.Builder
	b.WriteString(st.Accent.Render("container: "))
	for i, o := range opts {
		if i == m.picking {
			b.WriteString(st.Selected.Render("[" + o + "]"))
		} else {
			b.WriteString(" " + o + " ")
		}
	}
	b.WriteString(st.Muted.Render("  ↑/↓ move · enter read · esc cancel"))
	return widgets.Fit(b.String(), m.width)
}

// rows draws one line: its tag in the pod's colour, then the text with
// the search matches highlighted; cut at the width, or with wrap broken
// into rows, the continuations indented under the text. Text and names
// were sanitised by cluster.
func (m *Model) rows(l estate.LogLine) []string {
	st := m.c.Styles
	switch l.Kind {
	case estate.LogPodAdded, estate.LogPodGone, estate.LogNote:
		tag := ""
		if l.Container != "" {
			tag = "[" + m.tag(l) + "] "
		}
		return []string{st.Note.Render(widgets.Fit("── "+tag+l.Text, m.width))}
	}
	tag := "[" + m.tag(l) + "] "
	if m.stamps {
		tag = l.Time.UTC().Format(time.RFC3339) + " " + tag
	}
	room := max(1, m.width-ansi.StringWidth(tag))
	var parts []string
	if m.wrap {
		parts = strings.Split(ansi.Hardwrap(l.Text, room, true), "\n")
	} else {
		parts = []string{widgets.Fit(l.Text, room)}
	}
	out := make([]string, len(parts))
	for i, text := range parts {
		if m.query != "" && strings.Contains(text, m.query) {
			text = strings.Join(strings.Split(text, m.query), st.Selected.Render(m.query))
		}
		if i == 0 {
			out[i] = m.tagStyle(l.Pod).Render(tag) + text
		} else {
			out[i] = strings.Repeat(" ", ansi.StringWidth(tag)) + text
		}
	}
	return out
}

// tag is the line's short source: the pod's name without the service's
// prefix, and the container.
func (m *Model) tag(l estate.LogLine) string {
	pod := strings.TrimPrefix(l.Pod, m.req.Service+"-")
	if l.Container == "" {
		return pod
	}
	return pod + "/" + l.Container
}

// tagStyle gives each pod one of the theme's colours, by its name.
func (m *Model) tagStyle(pod string) lipgloss.Style {
	st := m.c.Styles
	styles := []lipgloss.Style{st.Accent, st.OK, st.Warn, st.TableHeader, st.Title, st.BarFill}
	h := fnv.New32a()
	_, _ = h.Write([]byte(pod))
	return styles[h.Sum32()%uint32(len(styles))]
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding { return m.keys().ShortHelp() }

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding { return m.keys().FullHelp() }
