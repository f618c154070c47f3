package widgets

import (
	"math"
	"strings"
)

// Bar draws value against max as width cells of "█" and "░", with a "│"
// marker at mark when 0 < mark < max (an HPA's minimum, a request). It
// returns the filled and empty parts separately so the caller styles them.
func Bar(value, maxValue, mark float64, width int) (filled, empty string) {
	if width <= 0 {
		return "", ""
	}
	n := 0
	if maxValue > 0 {
		n = int(math.Round(min(1, max(0, value/maxValue)) * float64(width)))
	}
	if value > 0 && n == 0 {
		n = 1
	}
	cells := []rune(strings.Repeat("█", n) + strings.Repeat("░", width-n))
	if maxValue > 0 && mark > 0 && mark < maxValue {
		i := min(width-1, int(mark/maxValue*float64(width)))
		if i >= n {
			cells[i] = '│'
		}
	}
	return string(cells[:n]), string(cells[n:])
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the last width values as block heights scaled between
// the series' minimum (or 0) and maximum. An empty series is blank; a flat
// one is a low line.
func Sparkline(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	if len(values) == 0 {
		return strings.Repeat(" ", width)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	lo = min(lo, 0)
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", width-len(values)))
	for _, v := range values {
		i := 0
		if hi > lo {
			i = int((v - lo) / (hi - lo) * float64(len(sparks)-1))
		}
		b.WriteRune(sparks[max(0, min(len(sparks)-1, i))])
	}
	return b.String()
}
