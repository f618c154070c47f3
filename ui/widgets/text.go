// Package widgets holds vigil's small drawing and editing pieces: cell
// padding, ages, bars, sparklines, a scrolling table and pager that render
// only what is visible, and a one-line input. None of them hold colours of
// their own; styles come from the theme through the caller.
package widgets

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Pad fits s into exactly w cells, truncating with "…"; right aligns right.
func Pad(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	gap := strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
	if right {
		return gap + s
	}
	return s + gap
}

// Fit truncates s to w cells with "…" (no padding).
func Fit(s string, w int) string { return ansi.Truncate(s, max(0, w), "…") }

// Hanging wraps plain text after prefix into lines of at most w cells: the first line starts
// with prefix, the others with as many spaces, so the text reads as one indented block. It
// breaks at spaces, and after "/" or "," inside a word too long for a line, and only then
// inside the word: every character is shown, in order. A prefix leaving under 20 cells drops
// the indent of the continuation lines.
func Hanging(prefix, text string, w int) []string {
	return HangingStyled(prefix, text, w, func(s string) string { return s })
}

// HangingStyled is Hanging with style applied to the text's pieces (not to prefix, which may
// carry styles of its own).
func HangingStyled(prefix, text string, w int, style func(string) string) []string {
	indent := ansi.StringWidth(prefix)
	if w-indent < 20 {
		indent = 0
	}
	var out []string
	first := true
	for _, l := range wrap(text, w-indent) {
		if first {
			if indent == 0 {
				// No room for the indent: the prefix takes a line of its own when needed.
				for _, pl := range wrap(prefix+l, w) {
					out = append(out, style(pl))
				}
			} else {
				out = append(out, prefix+style(l))
			}
			first = false
			continue
		}
		out = append(out, strings.Repeat(" ", indent)+style(l))
	}
	return out
}

// HangingList is Hanging for a list: items joined by ", ", each kept whole on a line where it
// fits (a name broken at its "-" or "/" reads as two names), only one wider than a line broken
// as Hanging breaks text.
func HangingList(prefix string, items []string, w int) []string {
	indent := ansi.StringWidth(prefix)
	if w-indent < 20 {
		// No room for the indent: the prefix on a line of its own, the list under it.
		return append(wrap(prefix, w), packed(items, w)...)
	}
	out := packed(items, w-indent)
	for i := range out {
		if i == 0 {
			out[i] = prefix + out[i]
		} else {
			out[i] = strings.Repeat(" ", indent) + out[i]
		}
	}
	return out
}

// packed lays items, joined by ", ", into lines of at most w cells, whole where they fit.
func packed(items []string, w int) []string {
	w = max(1, w)
	var out []string
	cur := ""
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		if cur != "" && ansi.StringWidth(cur)+1+ansi.StringWidth(it) <= w {
			cur += " " + it
			continue
		}
		if cur != "" {
			out = append(out, cur)
		}
		cur = it
		if ansi.StringWidth(cur) > w {
			ls := wrap(cur, w)
			out = append(out, ls[:len(ls)-1]...)
			cur = ls[len(ls)-1]
		}
	}
	return append(out, cur)
}

// wrap breaks s into lines of at most w cells (ansi.Wrap lets a breakpoint hang one cell past
// the width: such a line is broken again, hard).
func wrap(s string, w int) []string {
	w = max(1, w)
	var out []string
	for _, l := range strings.Split(ansi.Wrap(s, w, " /,"), "\n") {
		if ansi.StringWidth(l) > w {
			out = append(out, strings.Split(ansi.Hardwrap(l, w, true), "\n")...)
			continue
		}
		out = append(out, l)
	}
	return out
}

// FitTail truncates s to w cells keeping its end, "…" in front: for values told apart by their
// tail (an image's tag or digest).
func FitTail(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	if w <= 1 {
		return ansi.Truncate("…", max(0, w), "")
	}
	return "…" + ansi.TruncateLeft(s, ansi.StringWidth(s)-(w-1), "")
}

// Age renders a duration kubectl-style: 45s, 12m, 5h, 3d, 2y.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dy", int(d.Hours()/24/365))
}

// Since is Age(now-t), or "-" when t is zero.
func Since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return Age(now.Sub(t))
}

// Milli renders millicores kubectl-style: 250m, 1.5.
func Milli(m int64) string {
	if m >= 1000 && m%100 == 0 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(m)/1000), ".0")
	}
	return fmt.Sprintf("%dm", m)
}

// Bytes renders a byte count in binary units: 512Mi, 1.5Gi.
func Bytes(b int64) string {
	const (
		ki = 1 << 10
		mi = 1 << 20
		gi = 1 << 30
	)
	switch {
	case b >= gi:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(b)/gi), ".0") + "Gi"
	case b >= mi:
		return fmt.Sprintf("%dMi", b/mi)
	case b >= ki:
		return fmt.Sprintf("%dKi", b/ki)
	}
	return fmt.Sprintf("%d", b)
}

// Percent renders part/whole as "64%", or "-" when whole is zero.
func Percent(part, whole int64) string {
	if whole <= 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", part*100/whole)
}
