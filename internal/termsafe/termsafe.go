// Package termsafe is vigil's one sanitiser for text that crosses a trust
// boundary: what the cluster, Prometheus, Alertmanager or Argo CD say, on
// its way into the model and into headless output. Such text is data, never
// terminal control (kubectl learnt this as CVE-2021-25743): control
// characters and escape sequences are shown escaped, never interpreted.
//
// Escaped are C0 controls (but newline and tab where a layout needs them),
// DEL, C1 controls (which include the 8-bit CSI, OSC, DCS, SOS, PM and APC
// introducers), bidirectional overrides and isolates (U+202A–U+202E,
// U+2066–U+2069, U+200E, U+200F, U+061C), and invalid UTF-8. Escaping the
// introducer disarms a whole sequence: what follows it is printable.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Line returns s safe for one line of a terminal: every control character
// escaped, newline and tab included ("\n", "\t").
func Line(s string) string { return escape(s, false) }

// Text returns s safe for a terminal, keeping newlines and tabs (multi-line
// text such as a description or a log).
func Text(s string) string { return escape(s, true) }

// Safe reports whether s needs no escaping as one line.
func Safe(s string) bool { return clean(s, false) }

func clean(s string, layout bool) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 0x80 {
			return cleanUnicode(s[i:], layout)
		}
		if b < 0x20 || b == 0x7f {
			if !layout || (b != '\n' && b != '\t') {
				return false
			}
		}
	}
	return true
}

func cleanUnicode(s string, layout bool) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return false
			}
		}
		if r < 0x80 {
			if (r < 0x20 || r == 0x7f) && (!layout || (r != '\n' && r != '\t')) {
				return false
			}
			continue
		}
		if unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports the non-ASCII runes that steer a terminal: C1
// controls and bidirectional formatting.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

func escape(s string, layout bool) string {
	if clean(s, layout) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case layout && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
