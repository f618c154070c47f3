package widgets

import (
	"slices"

	"github.com/charmbracelet/x/ansi"
)

// Widths lays out columns separated by one space in total cells. Each
// column gets at least mins[i]; then the space left goes to the columns
// whose content (natural[i]) is wider than that, the least short first,
// so as many as possible show whole; what is still left goes to the flex
// columns (capped ones first, up to maxw[i] when it is positive). A column
// is cut only when the width cannot hold every column's content.
func Widths(total int, mins, natural, maxw []int, flex []bool) []int {
	n := len(mins)
	w := slices.Clone(mins)
	left := total - max(0, n-1)
	for _, m := range mins {
		left -= m
	}
	if left <= 0 {
		return w
	}
	short := func(i int) int {
		want := natural[i]
		if i < len(maxw) && maxw[i] > 0 {
			want = min(want, max(mins[i], maxw[i]))
		}
		return max(0, want-w[i])
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return short(a) - short(b) })
	for _, i := range order {
		give := min(short(i), left)
		w[i] += give
		left -= give
	}
	var fl []int
	for i := range n {
		if i < len(flex) && flex[i] {
			fl = append(fl, i)
		}
	}
	// Capped flex columns first, so what they cannot take goes to the others.
	slices.SortStableFunc(fl, func(a, b int) int { return capRank(maxw, b) - capRank(maxw, a) })
	for k, i := range fl {
		give := left / (len(fl) - k)
		if capRank(maxw, i) == 1 {
			give = min(give, max(0, maxw[i]-w[i]))
		}
		w[i] += give
		left -= give
	}
	return w
}

func capRank(maxw []int, i int) int {
	if i < len(maxw) && maxw[i] > 0 {
		return 1
	}
	return 0
}

// TextWidths lays out rows of cells (the first row usually the header) in
// total cells: every column as wide as its widest cell when that fits,
// else at least min(widest, floor[i]) with the rest shared as Widths
// does. Column flexCol (-1: the last) takes whatever remains.
func TextWidths(total int, floor []int, flexCol int, rows ...[]string) []int {
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	mins, natural, flex := make([]int, n), make([]int, n), make([]bool, n)
	for _, r := range rows {
		for i, c := range r {
			natural[i] = max(natural[i], ansi.StringWidth(c))
		}
	}
	for i := range n {
		mins[i] = natural[i]
		if i < len(floor) {
			mins[i] = min(natural[i], floor[i])
		}
	}
	if flexCol < 0 {
		flexCol = n - 1
	}
	if flexCol >= 0 && flexCol < n {
		flex[flexCol] = true
	}
	return Widths(total, mins, natural, nil, flex)
}

// Row joins cells padded (or cut with "…") to widths, one space apart; a
// cell beyond widths is written as is.
func Row(widths []int, cells ...string) string {
	out := make([]byte, 0, 128)
	for i, c := range cells {
		if i > 0 {
			out = append(out, ' ')
		}
		if i < len(widths) {
			c = Pad(c, widths[i], false)
		}
		out = append(out, c...)
	}
	return string(out)
}
