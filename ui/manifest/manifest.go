// Package manifest is the YAML view of one object as the API server returns
// it (through common.Data.Manifest, a GET in cluster/): managedFields folded
// to a line saying how many managers wrote the object (m expands them),
// keys highlighted, / searches with n/N. Secrets arrive as metadata only.
package manifest

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Fetch returns an object's YAML; it blocks on the network.
type Fetch func(ctx context.Context, ref estate.ObjectRef) (string, error)

// Keys of the YAML view beyond the common ones.
var (
	keySearch = key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search"))
	keyNext   = key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/prev match"))
	keyPrev   = key.NewBinding(key.WithKeys("N"))
	keyFields = key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "managedFields"))
)

// Model is the YAML of one object.
type Model struct {
	common.Nav
	c     common.Common
	fetch Fetch
	ref   estate.ObjectRef

	text     string
	err      string
	loaded   bool
	expand   bool
	managers int
	raw      []string // the lines shown, before styling
	pager    widgets.Pager

	searching bool
	input     widgets.Input
	query     string
	width     int
	height    int
}

// New returns the YAML view of ref, read with fetch.
func New(c common.Common, fetch Fetch, ref estate.ObjectRef) *Model {
	m := &Model{c: c, fetch: fetch, ref: ref}
	m.input.Prompt = "/"
	m.SetSize(c.Width, c.Height)
	return m
}

// Title implements common.Titled.
func (m *Model) Title() string { return "yaml " + m.ref.String() }

// Capturing implements common.Capturing: while typing a search.
func (m *Model) Capturing() bool { return m.searching }

// fetchedMsg carries the YAML of ref (or why not).
type fetchedMsg struct {
	ref  estate.ObjectRef
	text string
	err  error
}

// Init implements common.Initer: it fetches the YAML.
func (m *Model) Init() tea.Cmd {
	fetch, ref := m.fetch, m.ref
	if fetch == nil {
		return common.Do(fetchedMsg{ref: ref, err: fmt.Errorf("manifests are not available for this context")})
	}
	return func() tea.Msg {
		text, err := fetch(context.Background(), ref)
		return fetchedMsg{ref: ref, text: text, err: err}
	}
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case fetchedMsg:
		if msg.ref != m.ref {
			return m, nil
		}
		m.loaded = true
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		m.text = msg.text
		m.rebuild()
	case tea.KeyPressMsg:
		m.key(msg)
	}
	return m, nil
}

func (m *Model) key(k tea.KeyPressMsg) {
	keys := m.c.Keys
	if m.searching {
		switch {
		case k.String() == "enter":
			m.searching, m.query = false, m.input.Value()
			m.rebuild()
			m.jump(1, true)
		case key.Matches(k, keys.Back):
			m.searching = false
		default:
			m.input.Update(k)
		}
		return
	}
	switch {
	case m.pager.Move(k, common.NavKeys(keys)):
	case key.Matches(k, keys.Back):
		m.PopSelf()
	case key.Matches(k, keySearch):
		m.searching = true
		m.input.SetValue("")
	case key.Matches(k, keyNext):
		m.jump(1, false)
	case key.Matches(k, keyPrev):
		m.jump(-1, false)
	case key.Matches(k, keyFields):
		m.expand = !m.expand
		m.rebuild()
	}
}

// jump scrolls to the next (dir 1) or previous (-1) line holding the query.
func (m *Model) jump(dir int, here bool) {
	if m.query == "" || len(m.raw) == 0 {
		return
	}
	start := m.pager.Offset()
	if !here {
		start += dir
	}
	n := len(m.raw)
	for i := range n {
		j := ((start+dir*i)%n + n) % n
		if strings.Contains(m.raw[j], m.query) {
			m.pager.ScrollTo(j)
			return
		}
	}
}

// Offset is the first line shown; Lines the lines shown, unstyled.
func (m *Model) Offset() int     { return m.pager.Offset() }
func (m *Model) Lines() []string { return m.raw }

// rebuild folds and styles the text.
func (m *Model) rebuild() {
	m.raw, m.managers = Fold(m.text, m.expand)
	out := make([]string, len(m.raw))
	for i, l := range m.raw {
		out[i] = m.highlight(l)
	}
	m.pager.SetLines(out)
}

// Fold returns the lines of a YAML manifest with metadata.managedFields
// folded to one line naming how many managers it lists (unless expand),
// and that count.
func Fold(text string, expand bool) ([]string, int) {
	if text == "" {
		return nil, 0
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l != "  managedFields:" {
			out = append(out, l)
			continue
		}
		j, managers := i+1, 0
		for ; j < len(lines) && (strings.HasPrefix(lines[j], "  - ") || strings.HasPrefix(lines[j], "   ")); j++ {
			if strings.HasPrefix(lines[j], "  - ") {
				managers++
			}
		}
		if expand {
			out = append(out, lines[i:j]...)
		} else {
			out = append(out, fmt.Sprintf("  managedFields: # %d %s folded (m: show)", managers, plural(managers, "manager", "managers")))
		}
		return append(out, lines[j:]...), managers
	}
	return out, 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// keyLine splits a YAML line into indent (with list dashes), key and the rest.
var keyLine = regexp.MustCompile(`^(\s*(?:- )*)([^\s#"'][^:]*?):(\s.*|)$`)

// highlight styles one line: comments muted, keys accented, list dashes
// muted, the search's matches selected.
func (m *Model) highlight(l string) string {
	st := m.c.Styles
	mark := func(s string) string {
		if m.query == "" || !strings.Contains(s, m.query) {
			return s
		}
		return strings.Join(strings.Split(s, m.query), st.Selected.Render(m.query))
	}
	if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") {
		return st.Muted.Render(l)
	}
	if g := keyLine.FindStringSubmatch(l); g != nil {
		rest := g[3]
		if i := strings.Index(rest, " # "); i >= 0 && strings.HasSuffix(g[2], "managedFields") {
			return g[1] + st.Accent.Render(mark(g[2])) + ":" + mark(rest[:i]) + st.Muted.Render(rest[i:])
		}
		return st.Muted.Render(g[1]) + st.Accent.Render(mark(g[2])) + ":" + mark(rest)
	}
	return mark(l)
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.pager.SetSize(w, max(1, h-2))
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	head := "YAML of " + m.ref.String()
	switch {
	case !m.loaded:
		head += " · fetching…"
	case m.err == "":
		head += fmt.Sprintf(" · %d lines", len(m.raw))
		if m.managers > 0 {
			head += fmt.Sprintf(" · managedFields: %d %s", m.managers, plural(m.managers, "manager", "managers"))
		}
	}
	b.WriteString(st.Accent.Render(widgets.Fit(head, m.width)) + "\n")
	body := m.pager.View()
	b.WriteString(body)
	for n := strings.Count(body, "\n") + 1; n < m.height-1; n++ {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	switch {
	case m.searching:
		b.WriteString(m.input.View())
	case m.err != "":
		b.WriteString(st.Crit.Render(widgets.Fit(m.err, m.width)))
	case m.query != "":
		b.WriteString(st.Muted.Render(widgets.Fit("/"+m.query+"  n/N next/prev · m managedFields · esc back", m.width)))
	default:
		b.WriteString(st.Muted.Render(widgets.Fit("/ search · m managedFields · g/G top/bottom · esc back", m.width)))
	}
	return b.String()
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{keySearch, keyNext, keyFields, m.c.Keys.Back}
}

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, m.ShortHelp()}
}
