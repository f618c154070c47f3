package widgets

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/ui/theme"
)

// TestTableShowsColumnsWholeOrNot: over random tables and widths, a column is shown whole
// or not at all. The columns that fit at their least are all shown; where they do not, the
// optional ones (MinTable) go, the rightmost first, and no other does; every header title
// shown is whole and every line fits. Before, a right-aligned age of the last optional column
// was cut at the edge: "    21m" read "    2".
func TestTableShowsColumnsWholeOrNot(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	for round := range 400 {
		var cols []Column[int]
		for i := range 2 + rng.IntN(10) {
			c := Column[int]{Title: fmt.Sprintf("C%d%s", i, strings.Repeat("x", rng.IntN(6))), Width: 1 + rng.IntN(16), Right: rng.IntN(2) == 0, Flex: rng.IntN(4) == 0}
			if rng.IntN(2) == 0 {
				c.MinTable = 40 + rng.IntN(100)
			}
			v := fmt.Sprintf("%dm", 10+rng.IntN(80))
			c.Cell = func(int) string { return v }
			cols = append(cols, c)
		}
		width := 20 + rng.IntN(160)
		tb := NewTable(theme.New(false), cols)
		tb.SetSize(width, 5)
		tb.SetRows([]int{1}, func(int) string { return "1" })
		lines := strings.Split(ansi.Strip(tb.View()), "\n")
		// The columns expected, computed apart from layout: those MinTable admits, then,
		// while their least widths and the gaps overflow, drop the rightmost optional one.
		var shown []Column[int]
		for _, c := range cols {
			if c.MinTable == 0 || width >= c.MinTable {
				shown = append(shown, c)
			}
		}
		least := func(cs []Column[int]) int {
			n := len(cs) - 1
			for _, c := range cs {
				n += max(c.Width, len(c.Title))
			}
			return n
		}
		for least(shown) > width {
			last := -1
			for i, c := range shown {
				if c.MinTable != 0 {
					last = i
				}
			}
			if last < 0 {
				break
			}
			shown = append(shown[:last:last], shown[last+1:]...)
		}
		head := strings.Fields(lines[0])
		var titles []string
		for _, c := range shown {
			titles = append(titles, c.Title)
		}
		if least(shown) <= width {
			if strings.Join(head, " ") != strings.Join(titles, " ") {
				t.Fatalf("round %d, width %d: header %q, want the columns %q", round, width, lines[0], titles)
			}
			if got := strings.Fields(lines[1]); len(got) != len(shown) {
				t.Fatalf("round %d, width %d: row %q has %d cells, want %d whole", round, width, lines[1], len(got), len(shown))
			}
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > width {
				t.Fatalf("round %d: a line of %d cells at width %d: %q", round, ansi.StringWidth(l), width, l)
			}
		}
	}
}
