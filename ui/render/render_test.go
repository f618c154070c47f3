package render

import (
	"testing"
	"unicode/utf8"
)

// TestPctFitsItsColumn: every ratio renders in at most four cells (the
// Services screen's CPU and MEM columns) and reads right: the percentage
// below 1000 %, the multiple above.
func TestPctFitsItsColumn(t *testing.T) {
	for _, c := range []struct {
		r    float64
		want string
	}{
		{-1, "-"}, {0, "0%"}, {0.384, "38%"}, {1.2, "120%"}, {9.99, "999%"}, {9.996, "10×"},
		{20.6, "21×"}, {123.4, "123×"}, {999.4, "999×"}, {2060, "≥1k×"},
	} {
		got := Pct(c.r)
		if got != c.want {
			t.Errorf("Pct(%v) = %q, want %q", c.r, got, c.want)
		}
		if n := utf8.RuneCountInString(got); n > 4 {
			t.Errorf("Pct(%v) = %q is %d cells wide, the column has 4", c.r, got, n)
		}
	}
}
