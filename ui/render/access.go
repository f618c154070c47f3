package render

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// The wording of a kind a screen cannot wholly show, in one place: every
// pane, count and cell that shows a kind's objects derives its text from
// the snapshot's estate.Visibility through these, so the reviewer reads
// "forbidden" wherever a refusal would otherwise read as "none".

// Unseen says why a kind is not (wholly) shown: "forbidden: <reason>",
// "forbidden in fintech-prod: <reason>", "failing: <reason>" or "not
// installed in this cluster (no <group> API)"; "" when it is read.
func Unseen(v estate.Visibility) string {
	switch v.Access {
	case estate.AccessWatched:
		return ""
	case estate.AccessNotInstalled:
		if _, group, ok := strings.Cut(v.Resource, "."); ok {
			return "not installed in this cluster (no " + group + " API)"
		}
		return "not installed in this cluster"
	}
	s := v.Access.String()
	if len(v.Namespaces) > 0 {
		s += " in " + strings.Join(v.Namespaces, ", ")
	}
	if v.Reason != "" {
		s += ": " + v.Reason
	}
	return s
}

// UnseenLevel is how Unseen is styled: a refusal or a failure warns (what
// is missing may matter), a kind not installed is muted.
func UnseenLevel(v estate.Visibility) theme.Level {
	if v.Access == estate.AccessNotInstalled {
		return theme.LevelMuted
	}
	return theme.LevelWarn
}

// UnseenLines is Unseen after what (the kind, e.g. "VerticalPodAutoscalers";
// may be empty), styled by UnseenLevel and wrapped at width, never cut: the
// reason is what the reader needs. None when the kind is read.
func UnseenLines(st theme.Theme, what string, v estate.Visibility, width int) []string {
	u := Unseen(v)
	if u == "" {
		return nil
	}
	if what != "" {
		u = what + " " + u
	}
	var out []string
	for l := range strings.SplitSeq(ansi.Wrap(u, max(20, width), " ,"), "\n") {
		out = append(out, st.For(UnseenLevel(v)).Render(l))
	}
	return out
}

// Count is a count of n objects of a kind for a title: "3" when the kind is
// read, the state ("forbidden", "failing", "not installed") when nothing of
// it could be, "2 seen, rest forbidden" when only part of it.
func Count(n int, v estate.Visibility) string {
	switch {
	case v.Seen():
		return fmt.Sprint(n)
	case n == 0 && !v.Partial:
		return v.Access.String()
	}
	return fmt.Sprintf("%d seen, rest %s", n, v.Access)
}

// Counted is Count with its noun: "3 HPAs", "VPAs forbidden", "2 VPAs
// seen, rest forbidden".
func Counted(n int, noun string, v estate.Visibility) string {
	switch {
	case v.Seen():
		return fmt.Sprintf("%d %s", n, noun)
	case n == 0 && !v.Partial:
		return noun + " " + v.Access.String()
	}
	return fmt.Sprintf("%d %s seen, rest %s", n, noun, v.Access)
}

// Cell is a table cell for an object of a kind a row has none of: "-" when
// that is known (the kind is read, or not installed), else the state
// ("forbidden", "failing").
func Cell(v estate.Visibility) string {
	if v.Known() {
		return "-"
	}
	return v.Access.String()
}
