// Package auditlog is the audit pane: the local audit log of vigil's
// actions (actions/audit), newest first, under the verification status of
// its hash chain. The file is read by a command, never in View, and read
// again when an action finishes.
package auditlog

import (
	"errors"
	"fmt"
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// LoadedMsg is one reading of the audit log.
type LoadedMsg struct {
	// Path is the file read.
	Path    string
	Records []audit.Record
	Report  audit.Report
	// Err says why the file could not be read or verified.
	Err error
	// Missing is true when there is no log yet (no guarded action has run).
	Missing bool
	// Incremental says only the records appended since the last reading
	// were verified (the chain's head checked unchanged).
	Incremental bool
}

// Load returns a command that reads and verifies the log at path.
func Load(path string) tea.Cmd { return load(audit.NewFollower(path), true) }

// load returns a command that verifies what fl has not read of its log (all of it when
// full) and reads its records.
func load(fl *audit.Follower, full bool) tea.Cmd {
	return func() tea.Msg {
		rep, recs, incremental, err := fl.Read(full)
		path := fl.Path()
		if errors.Is(err, audit.ErrNoLog) {
			return LoadedMsg{Path: path, Missing: true}
		}
		if err != nil {
			return LoadedMsg{Path: path, Err: err}
		}
		if rep.Broken != nil { // show every record, those past the break too
			recs, err = audit.ReadFile(path)
		}
		msg := LoadedMsg{Path: path, Records: slices.Clone(recs), Report: rep, Err: err, Incremental: incremental}
		termsafe.Scrub(&msg.Records) // the log holds server errors and typed reasons
		return msg
	}
}

// Model is the audit pane.
type Model struct {
	*common.Page
	path     string
	follower *audit.Follower
	loaded   bool
	msg      LoadedMsg
}

// KeyMap is the audit pane's keys: the help shows them and the pane
// handles them.
type KeyMap struct {
	common.KeyMap
	// Reload (r) verifies the whole log again.
	Reload key.Binding
}

// DefaultKeyMap returns the audit pane's keys over the shared ones.
func DefaultKeyMap(shared common.KeyMap) KeyMap {
	return KeyMap{KeyMap: shared, Reload: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "verify all"))}
}

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding { return k.page().ShortHelp() }

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding { return k.page().FullHelp() }

func (k KeyMap) page() common.PageKeys {
	return common.PageKeys{KeyMap: k.KeyMap, Own: []key.Binding{k.Reload}}
}

// New returns the pane over the log at path ("" when there is none).
func New(c common.Common, d *common.Data, path string) *Model {
	m := &Model{path: path}
	if path != "" {
		m.follower = audit.NewFollower(path)
	}
	km := DefaultKeyMap(c.Keys)
	p := &common.Page{Common: c, Data: d, Name: "Audit", Help: km}
	p.Build = func(w int) []string { return m.build(c.Styles, w) }
	p.Keys = func(k tea.KeyPressMsg) (tea.Cmd, bool) {
		if key.Matches(k, km.Reload) {
			return m.Verify(), true
		}
		return nil, false
	}
	m.Page = p
	return m
}

// Reload returns the command that verifies and reads the records appended
// since the last reading (all of them the first time, or when the file is
// not the one read before).
func (m *Model) Reload() tea.Cmd {
	if m.path == "" {
		return nil
	}
	return load(m.follower, false)
}

// Verify returns the command that verifies and reads the whole log again.
func (m *Model) Verify() tea.Cmd {
	if m.path == "" {
		return nil
	}
	return load(m.follower, true)
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	if l, ok := msg.(LoadedMsg); ok {
		m.Set(l)
		return m, nil
	}
	_, cmd := m.Page.Update(msg)
	return m, cmd
}

// Set shows a reading of the log.
func (m *Model) Set(l LoadedMsg) {
	if l.Path != m.path {
		return
	}
	m.msg, m.loaded = l, true
	m.Refresh()
}

// widths are the columns' widths when the width cannot hold their content.
var widths = []int{14, 14, 9, 14, 38, 16, 9}

func (m *Model) build(st theme.Theme, width int) []string {
	switch {
	case m.path == "":
		return []string{st.Muted.Render("no audit log (actions are not available)")}
	case !m.loaded:
		return []string{st.Muted.Render("reading " + m.path + "…")}
	}
	l := m.msg
	var out []string
	switch {
	case l.Missing:
		out = append(out, st.Muted.Render(widgets.Fit("no audit log yet: "+l.Path+" is written on the first guarded action", width)))
	case l.Err != nil:
		out = append(out, st.Crit.Render(widgets.Fit("cannot verify "+l.Path+": "+l.Err.Error(), width)))
	case l.Report.Broken != nil:
		b := l.Report.Broken
		out = append(out, st.Crit.Render(widgets.Fit(fmt.Sprintf("✖ broken at record %d (line %d): %s", b.Seq, b.Line, b.Reason), width)))
	case !l.Report.OK():
		out = append(out, st.Crit.Render(widgets.Fit("✖ "+l.Report.Problem(), width)))
	default:
		line := fmt.Sprintf("✔ %d records verify", l.Report.Records)
		if l.Incremental {
			line += " (new ones checked against the head; r verifies all)"
		}
		if n := len(l.Report.Repairs); n > 0 {
			line += fmt.Sprintf(" (%d repaired an interrupted write)", n)
		}
		out = append(out, st.OK.Render(line)+st.Muted.Render(widgets.Fit("  "+l.Path, max(0, width-len([]rune(line))))))
	}
	head := []string{"TIME (UTC)", "USER", "CONTEXT", "ACTION", "TARGET", "REASON", "RESULT"}
	recs := slices.Clone(l.Records)
	slices.Reverse(recs)
	cells := [][]string{head}
	for _, r := range recs {
		cells = append(cells, []string{r.Time.UTC().Format("01-02 15:04:05"), r.User, r.Context, r.Action, r.Target, r.Reason, result(r)})
	}
	// Columns as wide as their content where the width allows; REASON,
	// free text, takes what is left.
	w := widgets.TextWidths(width, widths, 5, cells...)
	out = append(out, "", st.TableHeader.Render(widgets.Fit(widgets.Row(w, head...), width)))
	if len(l.Records) == 0 {
		return append(out, st.Muted.Render("no records yet"))
	}
	for i, r := range recs {
		lvl := theme.LevelOK
		switch result(r) {
		case "failed", "unknown": // unknown: a deadline hit after the request was sent
			lvl = theme.LevelCrit
		case "refused":
			lvl = theme.LevelWarn
		case "started", "previewed", "dry-run", "cancelled", "requested": // cancelled: the operator's choice; requested: its outcome follows
			lvl = theme.LevelMuted
		}
		e := r.Error
		if r.Stage != "" && e != "" {
			e = r.Stage + ": " + e
		}
		out = append(out, st.For(lvl).Render(widgets.Fit(widgets.Row(w, cells[i+1]...), width)))
		if e != "" {
			// The error gets a line of its own: it is what a reviewer reads.
			out = append(out, st.For(lvl).Render(widgets.Fit("               ↳ "+e, width)))
		}
	}
	return out
}

// result is a record's result, else its phase.
func result(r audit.Record) string {
	if r.Result != "" {
		return r.Result
	}
	return string(r.Phase)
}
