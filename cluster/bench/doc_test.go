package bench

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/benchdoc"
	"github.com/vigil-k8s/vigil/ui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// figure is one row of a benchmark's table in docs/performance.md: ratio is
// the figure over its target (0: no target).
type figure struct {
	measure, target, value string
	ratio                  float64
}

// writeDoc records the benchmark's table as docs/performance.md's block
// called name, under a line saying when, at what load and at what scale.
func writeDoc(b *testing.B, name, intro string, rows []figure) {
	var t strings.Builder
	fmt.Fprintf(&t, "%s Run of %s, load average %s at the end, GOMAXPROCS %d.\n\n", intro, time.Now().UTC().Format("2006-01-02 15:04 MST"), loadAverage(), runtime.GOMAXPROCS(0))
	t.WriteString("| measure | target | figure | figure / target |\n|---|---|---|---|\n")
	for _, r := range rows {
		ratio := "—"
		if r.ratio > 0 {
			ratio = fmt.Sprintf("%.2f", r.ratio)
			if r.ratio > 1 {
				ratio = "**" + ratio + " (missed)**"
			}
		}
		fmt.Fprintf(&t, "| %s | %s | %s | %s |\n", r.measure, r.target, r.value, ratio)
	}
	if err := benchdoc.Block(name, t.String()); err != nil {
		b.Error(err)
	}
}

// row records the benchmark's line of the README's "Measured" table; the
// key orders it (by scale, then benchmark).
func row(b *testing.B, bench, what, value string) {
	if err := benchdoc.Row(fmt.Sprintf("20-%05d-%s", scalePods/1000, bench), what, value); err != nil {
		b.Error(err)
	}
}

// localclusterRSS is the started localcluster's resident memory; 0 when
// the benchmark runs against a cluster it did not start.
func localclusterRSS(b *testing.B) uint64 {
	if lc.ReadyIn == 0 {
		return 0
	}
	rss, err := lc.RSS()
	if err != nil {
		b.Logf("localcluster RSS: %v", err)
		return 0
	}
	return rss
}

type keyFigures struct {
	p99, median, max time.Duration
	n, rows          int
}

// keypresses feeds the cockpit's root model (200×60) the Session's
// snapshot and times key presses to the frame each produces: cursor moves
// over the Services table, jumps to its ends, and a filter typed and
// cleared (re-filtering every row), as someone finding a service would.
func keypresses(b *testing.B, snap estate.Snapshot) keyFigures {
	m := ui.New(ui.Options{
		Common: common.Common{Styles: theme.New(false), Keys: common.DefaultKeyMap()},
		Feed:   ui.Feed{OnScreen: ui.OnScreen{Context: "local-1", Server: "bench", User: "bench", Generation: snap.Generation}},
	})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m.Update(ui.SnapshotMsg{Snapshot: snap})
	// The table must be on screen, or the presses would time an empty frame.
	screen, shown := ansi.Strip(m.Render()), 0
	for _, svc := range snap.Services {
		if strings.Contains(screen, svc.Name) {
			shown++
		}
	}
	if shown < 20 {
		b.Fatalf("the Services screen shows %d of the snapshot's %d services:\n%s", shown, len(snap.Services), screen)
	}
	var seq []tea.KeyPressMsg
	key := func(s string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: []rune(s)[0], Text: s} }
	for range 4 {
		for range 60 {
			seq = append(seq, key("j"))
		}
		seq = append(seq, key("G"), key("g"))
		seq = append(seq, key("/"), key("b"), key("u"), key("l"), key("k"), tea.KeyPressMsg{Code: tea.KeyBackspace},
			tea.KeyPressMsg{Code: tea.KeyBackspace}, tea.KeyPressMsg{Code: tea.KeyBackspace}, tea.KeyPressMsg{Code: tea.KeyBackspace},
			tea.KeyPressMsg{Code: tea.KeyEscape})
		for range 30 {
			seq = append(seq, key("k"))
		}
	}
	took := make([]time.Duration, 0, len(seq))
	for _, k := range seq {
		start := time.Now()
		m.Update(k)
		_ = m.View()
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return keyFigures{p99: took[len(took)*99/100], median: took[len(took)/2], max: took[len(took)-1], n: len(took), rows: len(snap.Services)}
}
