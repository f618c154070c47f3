// Package compliance is the Compliance screen: the seed's checklist items
// with their verdict (met, not met, unverified) and pass/fail/warn/unknown
// counts, the coverage and the observed and proven scores, and a
// drill-down to each item's verdict, the evidence it still needs, and its
// findings with evidence and remediation.
package compliance

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// Item is one checklist line with its verdict and the counts of its
// checks' findings.
type Item struct {
	Group  checks.Group
	Item   string
	Checks []checks.Check
	Counts map[checks.Status]int
	// Verdict is the item's verdict with why and the evidence needed.
	Verdict checks.ItemVerdict
	// Trend is the item's verdict in the recorded evaluations, oldest
	// first, ending with the live one.
	Trend []checks.Verdict
}

// verdictStatus maps a verdict to the status whose colour shows it.
func verdictStatus(v checks.Verdict) checks.Status {
	switch v {
	case checks.Met:
		return checks.Pass
	case checks.NotMet:
		return checks.Fail
	}
	return checks.Unknown
}

// verdictText is a verdict as the screen prints it.
func verdictText(v checks.Verdict) string {
	return strings.ToUpper(strings.ReplaceAll(string(v), "-", " "))
}

// Model is the Compliance screen.
type Model struct {
	common.Nav
	common  common.Common
	data    *common.Data
	table   *widgets.Table[*Item]
	summary []string
	// live is the evaluation on screen as the history records it, and
	// runs the context's recorded evaluations (Data.Evaluations).
	live    history.Entry
	offered time.Time    // the evaluation last offered to the history
	runs    []common.Run // the recorded evaluations of the live one's scope
	others  int          // and how many of other scopes are not compared
	keyMap  KeyMap
	width   int
	height  int
}

var _ common.Component = (*Model)(nil)

// KeyMap is the Compliance screen's keys: the help shows them and the
// screen handles them (Enter opens an item's findings, s sorts).
type KeyMap struct{ common.KeyMap }

// ShortHelp implements common.Help.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Enter, k.Sort, k.Command, k.Help, k.Quit}
}

// FullHelp implements common.Help.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.NavHelp(), {k.Enter, k.Sort}, k.RootHelp(true)}
}

// New returns the Compliance screen reading d.
func New(c common.Common, d *common.Data) *Model {
	m := &Model{common: c, data: d, keyMap: KeyMap{c.Keys}}
	count := func(s checks.Status) func(*Item) string {
		return func(it *Item) string { return fmt.Sprint(it.Counts[s]) }
	}
	by := func(s checks.Status) func(a, b *Item) int {
		return func(a, b *Item) int { return cmp.Compare(b.Counts[s], a.Counts[s]) }
	}
	m.table = widgets.NewTable(c.Styles, []widgets.Column[*Item]{
		{Title: "VERDICT", Width: 10, Descending: true, Cell: func(it *Item) string { return verdictText(it.Verdict.Verdict) },
			Compare: func(a, b *Item) int {
				return cmp.Compare(verdictRank(a.Verdict.Verdict), verdictRank(b.Verdict.Verdict))
			}},
		{Title: "GROUP", Width: 10, Cell: func(it *Item) string { return string(it.Group) },
			Compare: func(a, b *Item) int { return strings.Compare(string(a.Group), string(b.Group)) }},
		{Title: "CHECKLIST ITEM", Width: 30, Flex: true, Cell: func(it *Item) string { return it.Item },
			Compare: func(a, b *Item) int { return strings.Compare(a.Item, b.Item) }},
		{Title: "FAIL", Width: 4, Right: true, Cell: count(checks.Fail), Compare: by(checks.Fail), Descending: true},
		{Title: "WARN", Width: 4, Right: true, Cell: count(checks.Warn), Compare: by(checks.Warn), Descending: true},
		{Title: "UNKN", Width: 4, Right: true, Cell: count(checks.Unknown), Compare: by(checks.Unknown), Descending: true},
		{Title: "PASS", Width: 4, Right: true, Cell: count(checks.Pass), Compare: by(checks.Pass), Descending: true},
		{Title: "TREND", Width: trendRuns, MinTable: 100, Cell: func(it *Item) string { return trendText(it.Trend) }},
		{Title: "CHECKS", Width: 6, Right: true, MinTable: 90, Cell: func(it *Item) string { return fmt.Sprint(len(it.Checks)) }},
	})
	m.table.Style = func(it *Item) lipgloss.Style { return render.Check(c.Styles, verdictStatus(it.Verdict.Verdict)) }
	m.table.Text = func(it *Item) string { return string(it.Group) + " " + it.Item }
	m.table.Empty = "evaluating the checklist…"
	return m
}

// verdictRank sorts not met first, then unverified, then met.
func verdictRank(v checks.Verdict) int {
	switch v {
	case checks.NotMet:
		return 0
	case checks.Unverified:
		return 1
	}
	return 2
}

// Title implements common.Titled.
func (m *Model) Title() string { return "Compliance" }

// Items returns the checklist items shown.
func (m *Model) Items() []*Item { return m.table.Rows() }

// Refresh implements common.Refresher: regroup the latest findings.
func (m *Model) Refresh() {
	st := m.common.Styles
	f := m.data.Snap.Findings
	findings := m.data.Findings() // with the context's attestations
	byID := map[string][]checks.Finding{}
	for _, fd := range findings {
		byID[fd.Check] = append(byID[fd.Check], fd)
	}
	// Rows are the checklist's items (every one, served by a check or not),
	// each with its verdict.
	var items []*Item
	index := map[string]*Item{}
	key := func(g checks.Group, item string) string { return string(g) + "\x00" + item }
	for _, v := range checks.Verdicts(f.Catalogue, findings) {
		it := &Item{Group: v.Group, Item: v.Item, Counts: map[checks.Status]int{}, Verdict: v}
		index[key(v.Group, v.Item)] = it
		items = append(items, it)
	}
	groupCounts := map[checks.Group]map[checks.Status]int{}
	for _, c := range f.Catalogue {
		it := index[key(c.Group, c.Item)]
		it.Checks = append(it.Checks, c)
		if groupCounts[c.Group] == nil {
			groupCounts[c.Group] = map[checks.Status]int{}
		}
		for _, fd := range byID[c.ID] {
			it.Counts[fd.Status]++
			groupCounts[c.Group][fd.Status]++
		}
	}
	var score checks.Score
	if !f.At.IsZero() {
		score = checks.ComputeScore(f.Catalogue, findings)
		m.record(findings, items, score)
		for _, it := range items {
			it.Trend = trend(m.runs, m.live, it.Item)
		}
	}
	m.table.SetRows(items, func(it *Item) string { return string(it.Group) + it.Item })

	var sum []string
	switch {
	case f.At.IsZero():
		sum = append(sum, st.Muted.Render("evaluating the checklist against "+termsafe.Line(m.data.Context)+"…"), "")
	default:
		cov := score.Coverage
		text := fmt.Sprintf("checklist of %s, %s ago · %d/%d items decided: %d met, %d not met, %d unverified · %d checks",
			termsafe.Line(m.data.Context), widgets.Since(m.data.Now, f.At), cov.Decided, cov.Items, cov.Met, cov.NotMet, cov.Unverified, len(f.Catalogue))
		if !f.Synced {
			text += " · caches still listing"
		}
		sum = append(sum, st.Muted.Render(text), scoreLine(st, score))
	}
	var gl []string
	for _, g := range checks.Groups {
		c := groupCounts[g]
		gl = append(gl, st.Value.Render(string(g))+" "+
			render.Check(st, checks.Fail).Render(fmt.Sprintf("%d fail", c[checks.Fail]))+" "+
			render.Check(st, checks.Warn).Render(fmt.Sprintf("%d warn", c[checks.Warn]))+" "+
			render.Check(st, checks.Unknown).Render(fmt.Sprintf("%d unknown", c[checks.Unknown]))+" "+
			render.Check(st, checks.Pass).Render(fmt.Sprintf("%d pass", c[checks.Pass])))
	}
	sum = append(sum, strings.Join(gl, st.Muted.Render("  │  ")))
	switch {
	case f.At.IsZero():
	case m.data.Evaluations == nil:
		sum = append(sum, st.Muted.Render("no history: no state directory to record evaluations in"))
	default:
		sum = append(sum, driftLine(st, m.data.Now, m.runs, m.others, m.live))
	}
	// An identity bound in some namespaces only: most checks are unknown everywhere, and
	// fewer watched namespaces would decide them.
	if f.Inventory != nil {
		if kinds, refused, readable := checks.Readable(f.Inventory); len(kinds) > 0 {
			sum = append(sum, render.Check(st, checks.Unknown).Render(checks.ReadableHint(kinds, refused, readable, "vigil -n")))
		}
	}
	m.summary = sum
	m.table.SetSize(m.width, max(0, m.height-m.summaryHeight()-1))
}

// summaryHeight is the lines the summary takes: summaryLines, and a line more for the
// readable-namespaces hint.
func (m *Model) summaryHeight() int { return max(summaryLines, len(m.summary)) }

// summaryLines is how many lines the summary above the table takes.
const summaryLines = 4

// trendRuns is how many evaluations the TREND column shows, the live one last.
const trendRuns = 8

// record summarises the evaluation on screen, offers it to the history
// (the history keeps one an hour) once the caches have listed, and reads
// the context's recorded evaluations.
func (m *Model) record(findings []checks.Finding, items []*Item, score checks.Score) {
	f := m.data.Snap.Findings
	if m.live.Context != m.data.Context || !m.live.Time.Equal(f.At) {
		verdicts := make([]checks.ItemVerdict, len(items))
		for i, it := range items {
			verdicts[i] = it.Verdict
		}
		m.live = history.Summarize(m.data.Context, f.At, findings, verdicts, score)
		m.live.Scope = liveScope(m.data)
	}
	if f.Synced && m.data.Evaluations != nil && !m.offered.Equal(f.At) {
		m.offered = f.At
		m.data.Evaluations.Offer(m.live)
	}
	m.runs, m.others = nil, 0
	if m.data.Evaluations != nil {
		all := m.data.Evaluations.Recorded(m.data.Context)
		m.runs = comparable(all, m.live)
		m.others = len(all) - len(m.runs)
	}
}

// comparable is the runs of live's scope (history.Comparable): the trend and the drift
// compare an evaluation with those that looked at the same namespaces as the same
// identity, not with a run of another -n or --as.
func comparable(runs []common.Run, live history.Entry) []common.Run {
	var out []common.Run
	for _, r := range runs {
		if history.Comparable(r.Entry, live) {
			out = append(out, r)
		}
	}
	return out
}

// liveScope is the scope of the evaluation on screen: the session's namespaces, its
// identity; nil before the first evaluation.
func liveScope(d *common.Data) *history.Scope {
	if inv := d.Snap.Findings.Inventory; inv != nil {
		return history.NewScope(inv.Config.Namespaces, d.Identity)
	}
	return nil
}

// trend is item's verdict in the last recorded evaluations and the live
// one, oldest first ("" where a run did not have the item). A run that is
// the live evaluation itself (recorded from it) is not counted twice.
func trend(runs []common.Run, live history.Entry, item string) []checks.Verdict {
	var out []checks.Verdict
	for _, r := range runs {
		if !r.Time.Equal(live.Time.UTC()) {
			out = append(out, r.Verdicts[item])
		}
	}
	out = append(out, live.Verdicts[item])
	return out[max(0, len(out)-trendRuns):]
}

// trendText draws a trend: ✓ met, ✗ not met, ? unverified, · not recorded.
func trendText(t []checks.Verdict) string {
	var b strings.Builder
	for _, v := range t {
		switch v {
		case checks.Met:
			b.WriteString("✓")
		case checks.NotMet:
			b.WriteString("✗")
		case checks.Unverified:
			b.WriteString("?")
		default:
			b.WriteString("·")
		}
	}
	return b.String()
}

// baseline is the evaluation the screen compares with: the last one
// recorded before the live one by someone else than this process (vigil
// check, another session), else the last one recorded before it at all.
func baseline(runs []common.Run, live history.Entry) (common.Run, bool) {
	var mine, other common.Run
	var haveMine, haveOther bool
	for _, r := range runs {
		if !r.Time.Before(live.Time.UTC()) {
			continue
		}
		if r.Here {
			mine, haveMine = r, true
		} else {
			other, haveOther = r, true
		}
	}
	if haveOther {
		return other, true
	}
	return mine, haveMine
}

// driftLine says what changed since the baseline: items whose verdict
// moved, new failures, fixed ones. Runs are of live's scope; others were
// recorded of other namespaces or identities.
func driftLine(st theme.Theme, now time.Time, runs []common.Run, others int, live history.Entry) string {
	base, ok := baseline(runs, live)
	if !ok && others > 0 {
		return st.Muted.Render(fmt.Sprintf("no earlier evaluation of %s recorded (%d others not compared: of other namespaces, another identity, or no scope recorded): vigil check records each run, this screen one an hour",
			termsafe.Line(live.Scope.String()), others))
	}
	if !ok {
		return st.Muted.Render("no earlier evaluation recorded: vigil check records each run, this screen one an hour")
	}
	d := history.Between(base.Entry, live)
	head := fmt.Sprintf("since the run of %s (%s ago, %d recorded): ", base.Time.Local().Format("01-02 15:04"),
		widgets.Since(now, base.Time), len(runs))
	var parts []string
	switch n := len(d.NewFailures); n {
	case 0:
	case 1:
		parts = append(parts, "1 new failure: "+d.NewFailures[0])
	default:
		parts = append(parts, fmt.Sprintf("%d new failures (first: %s)", n, d.NewFailures[0]))
	}
	if n := len(d.Fixed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d fixed", n))
	}
	// Failures nobody can see now (access lost, a check that did not run) are not fixed.
	if n := len(d.Unseen); n > 0 {
		parts = append(parts, fmt.Sprintf("%d failing then, not decided now", n))
	}
	for _, c := range d.Items {
		parts = append(parts, fmt.Sprintf("%s %s → %s", c.Item, c.From, c.To))
	}
	if len(parts) == 0 {
		return st.Muted.Render(head + "no change")
	}
	style := st.Muted
	if len(d.NewFailures) > 0 || len(d.Unseen) > 0 || worsened(d.Items) {
		style = render.Check(st, checks.Fail)
	}
	return style.Render(head + strings.Join(parts, " · "))
}

// worsened says whether an item's verdict moved away from met.
func worsened(items []history.ItemChange) bool {
	for _, c := range items {
		if verdictRank(c.To) < verdictRank(c.From) {
			return true
		}
	}
	return false
}

// scoreLine shows both scores, overall and per group (observed / proven),
// and marks a group a critical check capped.
func scoreLine(st theme.Theme, s checks.Score) string {
	num := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.0f", *p)
	}
	parts := []string{st.Value.Render("score") + " observed " + num(s.Overall) + "% · proven " + st.Value.Render(num(s.Proven.Overall)+"%")}
	for _, g := range checks.Groups {
		p := string(g) + " " + num(s.Groups[g]) + "/" + num(s.Proven.Groups[g]) + "%"
		if len(s.Proven.Capped[g]) > 0 {
			p += render.Check(st, checks.Fail).Render(" capped")
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, st.Muted.Render(" │ "))
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.table.SetSize(w, max(0, h-m.summaryHeight()-1))
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	keys := m.keyMap
	switch {
	case m.table.Move(k, common.NavKeys(keys.KeyMap)):
	case key.Matches(k, keys.Sort):
		m.table.NextSort()
	case key.Matches(k, keys.Enter):
		if it, ok := m.table.Selected(); ok {
			m.PushChild(newFindings(m.common, m.data, it))
		}
	}
	return m, nil
}

// ShortHelp implements common.Component.
func (m *Model) ShortHelp() []key.Binding { return m.keyMap.ShortHelp() }

// FullHelp implements common.Component.
func (m *Model) FullHelp() [][]key.Binding { return m.keyMap.FullHelp() }

// Clocked implements common.Clocked: the summary's age is rendered in Refresh.
func (m *Model) Clocked() {}

// View implements common.Component.
func (m *Model) View() string {
	lines := append([]string{}, m.summary...)
	for len(lines) < summaryLines {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = widgets.Fit(l, m.width)
	}
	return strings.Join(lines, "\n") + "\n\n" + m.table.View()
}

// block renders text after prefix wrapped to width, every line in style: a reviewer reads the
// whole evidence, never a line cut at the terminal's edge.
func block(style lipgloss.Style, prefix, text string, width int) []string {
	ls := widgets.Hanging(prefix, text, width)
	for i, l := range ls {
		ls[i] = style.Render(l)
	}
	return ls
}

// newFindings is the drill-down of one checklist item: each check with its
// findings, evidence and remediation, failures first.
func newFindings(c common.Common, d *common.Data, it *Item) *common.Page {
	p := &common.Page{Common: c, Data: d, Name: it.Item, Pop: true}
	p.Build = func(width int) []string {
		st := c.Styles
		// The verdict of the latest findings, not of when the page opened.
		v := it.Verdict
		findings := d.Findings()
		for _, cur := range checks.Verdicts(d.Snap.Findings.Catalogue, findings) {
			if cur.Group == it.Group && cur.Item == it.Item {
				v = cur
			}
		}
		out := []string{st.Accent.Render(string(it.Group) + " › " + it.Item)}
		out = append(out, block(render.Check(st, verdictStatus(v.Verdict)), verdictText(v.Verdict)+" — ", v.Why, width)...)
		for _, n := range v.Needed {
			out = append(out, block(st.Muted, "  needed: ", n, width)...)
		}
		if d.Evaluations != nil {
			runs := comparable(d.Evaluations.Recorded(d.Context), history.Entry{Scope: liveScope(d)})
			var when []string
			for _, r := range runs[max(0, len(runs)-trendRuns):] {
				v := cmp.Or(string(r.Verdicts[it.Item]), "not recorded")
				when = append(when, r.Time.Local().Format("01-02 15:04")+" "+v)
			}
			if len(when) > 0 {
				out = append(out, st.Muted.Render(widgets.Fit("  recorded: "+strings.Join(when, " · "), width)))
			}
		}
		byID := map[string][]checks.Finding{}
		for _, fd := range findings {
			byID[fd.Check] = append(byID[fd.Check], fd)
		}
		for _, ch := range it.Checks {
			out = append(out, "", st.Value.Render(fmt.Sprintf("%s — %s [%s]", ch.ID, ch.Title, ch.Severity)))
			if len(ch.PCI) > 0 {
				out = append(out, st.Muted.Render("  PCI-DSS "+strings.Join(ch.PCI, ", ")))
			}
			if ch.Rationale != "" {
				out = append(out, block(st.Muted, "  why: ", ch.Rationale, width)...)
			}
			for _, want := range []checks.Status{checks.Fail, checks.Warn, checks.Unknown, checks.Pass, checks.NotApplicable} {
				for _, fd := range byID[ch.ID] {
					if fd.Status != want {
						continue
					}
					out = append(out, block(render.Check(st, fd.Status), fmt.Sprintf("  %-14s ", fd.Status), fmt.Sprintf("%s: %s", fd.Resource, fd.Evidence), width)...)
					if fd.Status != checks.Pass && fd.Status != checks.NotApplicable && fd.Remediation != "" {
						out = append(out, block(st.Muted, "                 fix: ", fd.Remediation, width)...)
					}
				}
			}
		}
		return out
	}
	return p
}
