package widgets

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestHangingShowsEverything: whatever the text and width, Hanging's lines fit the width,
// start with the prefix and then its indent, and read back (spaces aside) as prefix and text
// exactly: nothing cut, nothing reordered. Random texts of words, long paths and long words.
func TestHangingShowsEverything(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	words := []string{"fail", "Namespace/fintech-prod:", "metadata.labels[pod-security.kubernetes.io/enforce]=baseline,",
		"registry.fintech.internal/fintech/payment-service:v1.2.3", strings.Repeat("x", 70), "a", "ünïcödé", "(restricted)"}
	bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for range 500 {
		var b []string
		for range rng.IntN(30) {
			b = append(b, words[rng.IntN(len(words))])
		}
		text := strings.Join(b, " ")
		prefix := []string{"", "  why: ", "  fail           ", "                 fix: "}[rng.IntN(4)]
		w := 8 + rng.IntN(150)
		got := Hanging(prefix, text, w)
		for i, l := range got {
			if ansi.StringWidth(l) > w {
				t.Fatalf("w=%d prefix=%q: line %d is %d cells: %q", w, prefix, i, ansi.StringWidth(l), l)
			}
		}
		if joined := strings.Join(got, " "); bare(joined) != bare(prefix+text) {
			t.Fatalf("w=%d prefix=%q text=%q:\ngot  %q", w, prefix, text, got)
		}
		// Styled, the same lines once the styles are stripped, the prefix's own kept.
		styled := HangingStyled("\x1b[1m"+prefix+"\x1b[m", text, w, func(s string) string { return "\x1b[31m" + s + "\x1b[m" })
		if len(styled) != len(got) {
			t.Fatalf("w=%d prefix=%q: %d styled lines, %d plain", w, prefix, len(styled), len(got))
		}
		for i := range got {
			if ansi.Strip(styled[i]) != got[i] {
				t.Fatalf("w=%d prefix=%q: styled line %d is %q, plain %q", w, prefix, i, ansi.Strip(styled[i]), got[i])
			}
		}
		if indent := len(prefix); w-indent >= 20 && strings.TrimSpace(text) != "" {
			if !strings.HasPrefix(got[0], prefix) {
				t.Fatalf("w=%d: first line %q does not start with the prefix %q", w, got[0], prefix)
			}
			for _, l := range got[1:] {
				if !strings.HasPrefix(l, strings.Repeat(" ", indent)) {
					t.Fatalf("w=%d prefix=%q: continuation %q not indented under the text", w, prefix, l)
				}
			}
		}
	}
}

// TestHangingListKeepsNamesWhole: over random lists, prefixes and widths, every line fits,
// every item is shown in order with its comma, and each item that fits a line is on one line
// whole (found by brute force: some line holds it between the separators).
func TestHangingListKeepsNamesWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 11))
	names := []string{"fintech-prod/notification-service", "fintech-staging/user-service", "a/b", "ns/" + strings.Repeat("x", 60), "fintech-monitoring/prometheus", "ünï/cödé"}
	bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for range 500 {
		var items []string
		for range rng.IntN(25) {
			items = append(items, names[rng.IntN(len(names))])
		}
		prefix := []string{"", "12 services without an HPA or VPA: ", "  x: "}[rng.IntN(3)]
		w := 8 + rng.IntN(150)
		got := HangingList(prefix, items, w)
		for i, l := range got {
			if ansi.StringWidth(l) > w {
				t.Fatalf("w=%d prefix=%q: line %d is %d cells: %q", w, prefix, i, ansi.StringWidth(l), l)
			}
		}
		if bare(strings.Join(got, " ")) != bare(prefix+strings.Join(items, ", ")) {
			t.Fatalf("w=%d prefix=%q items=%q:\ngot %q", w, prefix, items, got)
		}
		avail := w - ansi.StringWidth(prefix)
		if avail < 20 {
			avail = w
		}
		for _, it := range items {
			if ansi.StringWidth(it)+1 > avail {
				continue
			}
			whole := false
			for _, l := range got {
				for _, f := range strings.Fields(l) {
					if strings.TrimSuffix(f, ",") == it {
						whole = true
					}
				}
			}
			if !whole {
				t.Fatalf("w=%d prefix=%q: %q fits a line and is not on one whole:\n%s", w, prefix, it, strings.Join(got, "\n"))
			}
		}
	}
}
