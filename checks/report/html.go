package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
)

// The HTML report is one self-contained file: its CSS and SVG charts are inline, it runs
// no script and its Content-Security-Policy forbids loading anything, so it opens offline
// and leaks nothing when a reviewer opens it. html/template escapes every value by the
// context it lands in: the text of the cluster (names, evidence, notes) is data, never
// markup.

//go:embed html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"addf": func(a, b float64) float64 { return a + b },
}).Parse(htmlTemplateText))

// HTML is the -o value of the HTML report.
const HTML = "html"

// Chart geometry, in SVG user units.
const (
	barWidth   = 320.0 // a score of 100
	trendW     = 640.0
	trendH     = 160.0
	trendPad   = 28.0
	stripCell  = 12.0
	maxTrendAt = 60 // runs drawn at most: the newest
)

// htmlView is what the template draws: the report with its figures formatted and its
// charts' geometry computed.
type htmlView struct {
	Origin, Version      string
	Observed, Proven     string
	Coverage             checks.Coverage
	CoveragePct          string
	Counts               []statusCount
	Caps                 []string
	Groups               []groupView
	CapX                 float64
	CapText              string
	Sections             []sectionView
	Attestations         []attestView
	Reach                *reachView
	Trend                *trendView
	Drift                []string
	FindingGroups        []findingGroup
	Skipped              []string
	ShowPassed           bool
	ChartHeight, ChartW  float64
	VerdictH, VerdictBar float64
}

type statusCount struct {
	Status checks.Status
	N      int
}

// groupView is one group's bars: both scores and its items by verdict.
type groupView struct {
	Name                       checks.Group
	Y, VY                      float64
	Observed, Proven           string
	ObservedW, ProvenW         float64
	ObservedCap, ProvenCap     string
	Met, NotMet, Unverified    int
	MetW, NotMetW, UnverifiedW float64
	NotMetX, UnverifiedX       float64
}

type sectionView struct {
	Group   checks.Group
	Section string
	Items   []itemView
}

type itemView struct {
	Item, Why    string
	Verdict      string
	Class        string
	Needed       []string
	Attestations []string
}

type attestView struct {
	Item string
	checks.Attested
	AtText, UntilText string
}

type reachView struct {
	Scope  []string
	Asked  string
	Parts  []reachPart
	Edges  int
	Scoped bool
}

// reachPart is one direction of the matrix: rows are the ends outside the scope,
// columns the scope's workloads, a cell the ports admitted.
type reachPart struct {
	Title         string
	RowHead       string
	Columns, Rows []string
	Cells         [][]reachCell
	Edges         []checks.ReachEdge
}

type reachCell struct {
	Ports, Via string
}

type trendView struct {
	Runs                       int
	From, To                   string
	W, H                       float64
	Observed, Proven, Coverage string
	Ticks                      []trendTick
	Items                      []itemTrend
	StripW                     float64
	LastObserved, LastProven   string
	LastCoverage               string
}

type trendTick struct {
	Y     float64
	Label string
}

type itemTrend struct {
	Item  string
	Y     float64
	Cells []trendCell
}

type trendCell struct {
	X     float64
	Class string
	Title string
}

type findingGroup struct {
	Group  checks.Group
	Checks []checkView
}

type checkView struct {
	checks.Check
	PCIText     string
	Counts      map[string]int
	Rows        []findingRow
	Remediation string
	Verdict     string
	Class       string
}

type findingRow struct {
	Status      checks.Status
	Resource    string
	Source      string
	Evidence    string
	Remediation string
	Attestation string
}

func writeHTML(w io.Writer, r Report, o Options) error {
	return htmlTemplate.Execute(w, newHTMLView(r, o))
}

// verdictClass is the CSS class of a verdict.
func verdictClass(v checks.Verdict) string {
	switch v {
	case checks.Met:
		return "met"
	case checks.NotMet:
		return "not-met"
	}
	return "unverified"
}

func newHTMLView(r Report, o Options) htmlView {
	v := htmlView{Origin: r.Origin, Version: r.Version, Observed: fmtScore(r.Score.Overall), Proven: fmtScore(r.Score.Proven.Overall),
		Coverage: r.Score.Coverage, CoveragePct: fmtScore(r.Score.Coverage.Percent), Caps: capLines(r), ShowPassed: o.ShowPassed,
		CapX: checks.CriticalCap / 100 * barWidth, CapText: fmt.Sprintf("%.0f", checks.CriticalCap), ChartW: barWidth}
	for _, st := range statusOrder {
		v.Counts = append(v.Counts, statusCount{st, r.Score.Counts[st]})
	}
	v.Groups = groupViews(r)
	v.ChartHeight = float64(len(v.Groups))*56 + 8
	v.VerdictH = float64(len(v.Groups))*28 + 4
	v.VerdictBar = barWidth
	v.Sections = sectionViews(r)
	v.Attestations = attestViews(r)
	v.Reach = newReachView(r.Reach)
	v.Trend = newTrendView(r.History)
	if r.Drift != nil {
		v.Drift = r.Drift.Lines()
	}
	v.FindingGroups = findingGroups(r, o)
	for _, s := range r.Skipped {
		v.Skipped = append(v.Skipped, s.String())
	}
	return v
}

func groupViews(r Report) []groupView {
	var out []groupView
	for i, g := range checks.Groups {
		gv := groupView{Name: g, Y: float64(i) * 56, VY: float64(i) * 28, Observed: fmtScore(r.Score.Groups[g]), Proven: fmtScore(r.Score.Proven.Groups[g]),
			ObservedW: scoreWidth(r.Score.Groups[g]), ProvenW: scoreWidth(r.Score.Proven.Groups[g])}
		if ids := r.Score.Capped[g]; len(ids) > 0 {
			gv.ObservedCap = "capped by " + strings.Join(ids, ", ")
		}
		if ids := r.Score.Proven.Capped[g]; len(ids) > 0 {
			gv.ProvenCap = "capped by " + strings.Join(ids, ", ")
		}
		total := 0
		for _, it := range r.Items {
			if it.Group != g {
				continue
			}
			total++
			switch it.Verdict {
			case checks.Met:
				gv.Met++
			case checks.NotMet:
				gv.NotMet++
			default:
				gv.Unverified++
			}
		}
		if total > 0 {
			unit := barWidth / float64(total)
			gv.MetW, gv.NotMetW, gv.UnverifiedW = float64(gv.Met)*unit, float64(gv.NotMet)*unit, float64(gv.Unverified)*unit
			gv.NotMetX, gv.UnverifiedX = gv.MetW, gv.MetW+gv.NotMetW
		}
		out = append(out, gv)
	}
	return out
}

func scoreWidth(p *float64) float64 {
	if p == nil {
		return 0
	}
	return max(0, min(100, *p)) / 100 * barWidth
}

func sectionViews(r Report) []sectionView {
	var out []sectionView
	for _, it := range r.Items {
		if len(out) == 0 || out[len(out)-1].Group != it.Group || out[len(out)-1].Section != it.Section {
			out = append(out, sectionView{Group: it.Group, Section: it.Section})
		}
		iv := itemView{Item: it.Item, Why: it.Why, Verdict: verdictText(it.Verdict), Class: verdictClass(it.Verdict), Needed: it.Needed}
		for _, a := range it.Attestations {
			if a.Holds {
				iv.Attestations = append(iv.Attestations, a.String())
			} else {
				iv.Attestations = append(iv.Attestations, a.RevertedText())
			}
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, iv)
	}
	return out
}

func attestViews(r Report) []attestView {
	var out []attestView
	for _, it := range r.Items {
		for _, a := range it.Attestations {
			out = append(out, attestView{Item: it.Item, Attested: a, AtText: a.At.UTC().Format(time.RFC3339), UntilText: checks.FormatUntil(a.Until)})
		}
	}
	return out
}

func newReachView(m *checks.Reachability) *reachView {
	if m == nil {
		return nil
	}
	v := &reachView{Scope: m.Scope, Asked: m.Asked, Edges: len(m.Ingress) + len(m.Egress)}
	v.Parts = []reachPart{
		reachMatrix("Into the scope", "from", m.Ingress, func(e checks.ReachEdge) (string, string) { return e.From, e.To }),
		reachMatrix("Out of the scope", "to", m.Egress, func(e checks.ReachEdge) (string, string) { return e.To, e.From }),
	}
	return v
}

// reachMatrix lays edges out as a grid: a row per outside end, a column per scope
// workload.
func reachMatrix(title, rowHead string, edges []checks.ReachEdge, ends func(checks.ReachEdge) (row, col string)) reachPart {
	p := reachPart{Title: title, RowHead: rowHead, Edges: edges}
	for _, e := range edges {
		row, col := ends(e)
		if !slices.Contains(p.Rows, row) {
			p.Rows = append(p.Rows, row)
		}
		if !slices.Contains(p.Columns, col) {
			p.Columns = append(p.Columns, col)
		}
	}
	p.Cells = make([][]reachCell, len(p.Rows))
	for i := range p.Cells {
		p.Cells[i] = make([]reachCell, len(p.Columns))
	}
	for _, e := range edges {
		row, col := ends(e)
		c := &p.Cells[slices.Index(p.Rows, row)][slices.Index(p.Columns, col)]
		c.Ports = strings.Join(append(strings.Fields(c.Ports), e.Ports...), " ")
		c.Via = strings.TrimPrefix(c.Via+"; "+strings.Join(e.Via, "; "), "; ")
	}
	return p
}

// newTrendView draws the recorded evaluations: the overall scores and coverage as lines,
// and each item's verdict per run as a strip of cells.
func newTrendView(entries []history.Entry) *trendView {
	if len(entries) == 0 {
		return nil
	}
	entries = entries[max(0, len(entries)-maxTrendAt):]
	n := len(entries)
	t := &trendView{Runs: n, From: entries[0].Time.UTC().Format(time.RFC3339), To: entries[n-1].Time.UTC().Format(time.RFC3339),
		W: trendW, H: trendH}
	x := func(i int) float64 {
		if n == 1 {
			return trendPad + (trendW-2*trendPad)/2
		}
		return trendPad + float64(i)*(trendW-2*trendPad)/float64(n-1)
	}
	y := func(p float64) float64 { return trendH - trendPad/2 - max(0, min(100, p))/100*(trendH-trendPad) }
	line := func(val func(history.Entry) *float64) string {
		var pts []string
		for i, e := range entries {
			if p := val(e); p != nil {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(*p)))
			}
		}
		return strings.Join(pts, " ")
	}
	t.Observed = line(func(e history.Entry) *float64 { return e.Observed })
	t.Proven = line(func(e history.Entry) *float64 { return e.Proven })
	t.Coverage = line(func(e history.Entry) *float64 {
		if e.Items == 0 {
			return nil
		}
		p := 100 * float64(e.Decided) / float64(e.Items)
		return &p
	})
	for _, p := range []float64{0, 50, 100} {
		t.Ticks = append(t.Ticks, trendTick{Y: y(p), Label: fmt.Sprintf("%.0f", p)})
	}
	last := entries[n-1]
	t.LastObserved, t.LastProven = fmtScore(last.Observed), fmtScore(last.Proven)
	t.LastCoverage = fmt.Sprintf("%d of %d", last.Decided, last.Items)

	// Items in the checklist's order, then any the history knows that it does not.
	var items []string
	for _, it := range checks.Checklist {
		items = append(items, it.Item)
	}
	for _, e := range entries {
		for item := range e.Verdicts {
			if !slices.Contains(items, item) {
				items = append(items, item)
			}
		}
	}
	t.StripW = float64(n) * stripCell
	for i, item := range items {
		it := itemTrend{Item: item, Y: float64(i) * stripCell}
		for j, e := range entries {
			c := trendCell{X: float64(j) * stripCell, Class: "none", Title: e.Time.UTC().Format(time.RFC3339) + ": not evaluated"}
			if vd, ok := e.Verdicts[item]; ok {
				c.Class, c.Title = verdictClass(vd), e.Time.UTC().Format(time.RFC3339)+": "+verdictText(vd)
			}
			it.Cells = append(it.Cells, c)
		}
		t.Items = append(t.Items, it)
	}
	return t
}

func findingGroups(r Report, o Options) []findingGroup {
	verdicts := map[string]checks.ItemVerdict{}
	for _, it := range r.Items {
		verdicts[string(it.Group)+"\x00"+it.Item] = it
	}
	byCheck := map[string][]checks.Finding{}
	for _, f := range r.Findings {
		byCheck[f.Check] = append(byCheck[f.Check], f)
	}
	var out []findingGroup
	for _, g := range checks.Groups {
		fg := findingGroup{Group: g}
		for _, c := range r.Checks {
			if c.Group != g {
				continue
			}
			cv := checkView{Check: c, PCIText: "—", Counts: map[string]int{}}
			if len(c.PCI) > 0 {
				cv.PCIText = strings.Join(c.PCI, ", ")
			}
			if it, ok := verdicts[string(c.Group)+"\x00"+c.Item]; ok {
				cv.Verdict, cv.Class = verdictText(it.Verdict), verdictClass(it.Verdict)
			}
			for _, st := range statusOrder {
				for _, f := range byCheck[c.ID] {
					if f.Status != st {
						continue
					}
					cv.Counts[string(st)]++
					if shown(st, o) {
						cv.Rows = append(cv.Rows, findingRowOf(r, c, f))
					}
				}
			}
			if cv.Counts[string(checks.Fail)]+cv.Counts[string(checks.Warn)]+cv.Counts[string(checks.Unknown)] > 0 {
				cv.Remediation = c.Remediation
			}
			fg.Checks = append(fg.Checks, cv)
		}
		out = append(out, fg)
	}
	return out
}

func findingRowOf(r Report, c checks.Check, f checks.Finding) findingRow {
	row := findingRow{Status: f.Status, Resource: f.Resource.String(), Source: r.Sources[f.Resource], Evidence: f.Evidence}
	if f.Remediation != "" && f.Remediation != c.Remediation && f.Status != checks.Pass && f.Status != checks.NotApplicable {
		row.Remediation = f.Remediation
	}
	if a := f.Attestation; a != nil {
		if a.Holds {
			row.Attestation = a.String()
		} else {
			row.Attestation = a.RevertedText()
		}
	}
	return row
}
