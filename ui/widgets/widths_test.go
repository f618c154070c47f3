package widgets

import (
	"math/rand/v2"
	"testing"
)

// Widths against what a layout must hold, on random columns: never under
// a minimum, never over the total when the minimums fit, every column
// whole when all fit, and a column cut only when the total is used up.
func TestWidthsProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := 1 + r.IntN(8)
		mins, natural, maxw, flex := make([]int, n), make([]int, n), make([]int, n), make([]bool, n)
		sumMin := n - 1
		for i := range n {
			mins[i] = r.IntN(12)
			natural[i] = mins[i] + r.IntN(30)*r.IntN(2)
			if r.IntN(3) == 0 {
				maxw[i] = mins[i] + r.IntN(20)
			}
			flex[i] = r.IntN(3) == 0
			sumMin += mins[i]
		}
		total := r.IntN(200)
		w := Widths(total, mins, natural, maxw, flex)
		used := n - 1
		for i := range n {
			used += w[i]
			if w[i] < mins[i] {
				t.Fatalf("column %d under its minimum: %v (mins %v)", i, w, mins)
			}
		}
		if sumMin <= total && used > total {
			t.Fatalf("%v uses %d of %d cells (mins %v natural %v)", w, used, total, mins, natural)
		}
		for i := range n {
			want := natural[i]
			if maxw[i] > 0 {
				want = min(want, max(mins[i], maxw[i]))
			}
			if w[i] < want && used < total {
				t.Fatalf("column %d cut (%d < %d) with %d of %d cells used: %v", i, w[i], want, used, total, w)
			}
		}
	}
}
