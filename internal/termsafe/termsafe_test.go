package termsafe

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile are texts a cluster field may hold to steer a terminal.
var hostile = map[string]string{
	"colour":      "\x1b[31mred\x1b[0m",
	"clear":       "\x1b[2J\x1b[Hgone",
	"osc8 link":   "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
	"title":       "\x1b]0;owned\x07",
	"dcs":         "\x1bPq#0;2;0;0;0\x1b\\",
	"apc":         "\x1b_Gf=100;AAAA\x1b\\",
	"pm sos":      "\x1b^pm\x1b\\\x1bXsos\x1b\\",
	"8-bit csi":   "\u009b31mred",
	"8-bit osc":   "\u009d0;owned\u009c",
	"cr":          "approved\rdenied  ",
	"backspace":   "rollback\b\b\b\b\b\b\b\bscale   ",
	"bidi":        "payment-\u202eecivres\u202c",
	"isolate":     "\u2066a\u2069",
	"invalid":     "bad\xff\xfeutf8",
	"nul del":     "a\x00b\x7fc",
	"newline tab": "line1\nline2\tx",
}

// terminalSafe reports the first byte or rune a terminal would interpret.
func terminalSafe(s string, layout bool) (bool, string) {
	if !utf8.ValidString(s) {
		return false, "invalid UTF-8"
	}
	for _, r := range s {
		if layout && (r == '\n' || r == '\t') {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x61c {
			return false, strings.ToUpper(string(rune(r)))
		}
	}
	return true, ""
}

func TestLineAndTextDisarmEveryHostileText(t *testing.T) {
	for name, in := range hostile {
		for _, c := range []struct {
			f      func(string) string
			layout bool
		}{{Line, false}, {Text, true}} {
			out := c.f(in)
			if ok, what := terminalSafe(out, c.layout); !ok {
				t.Errorf("%s (layout %v): %q still holds %q", name, c.layout, out, what)
			}
			if !strings.Contains(out, `\`) && in != out {
				t.Errorf("%s: %q escaped without a visible escape: %q", name, in, out)
			}
		}
	}
	if got := Line("\x1b[31mred"); got != `\x1b[31mred` {
		t.Errorf("Line(ESC[31m) = %q, want the escape shown", got)
	}
	if got := Line("a\u202eb"); got != `a\u202eb` {
		t.Errorf("Line(RLO) = %q", got)
	}
	if got := Text("a\nb\tc\rd"); got != "a\nb\tc\\rd" {
		t.Errorf("Text keeps layout: %q", got)
	}
	if got := Line("a\nb"); got != `a\nb` {
		t.Errorf("Line(newline) = %q", got)
	}
}

func TestCleanTextIsReturnedAsIs(t *testing.T) {
	for _, s := range []string{"", "payment-service", "registry.fintech.internal/x:v1.2.3", "ünïcödé ✓ 中文 ‹›", "50% of 1Gi"} {
		if Line(s) != s || Text(s) != s || !Safe(s) {
			t.Errorf("clean %q changed: %q", s, Line(s))
		}
	}
}

func TestWriterEscapesAndKeepsSplitRunes(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	in := "ok ✓ \x1b[2J and \u202e\n"
	for i := 0; i < len(in); i++ { // one byte at a time: runes are split
		if _, err := w.Write([]byte{in[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "ok ✓ \\x1b[2J and \\u202e\n"; got != want {
		t.Errorf("Writer wrote %q, want %q", got, want)
	}
}

type inner struct {
	Msg  string
	Tags map[string]string
}

type outer struct {
	Name    string
	Skipped string `termsafe:"-"`
	Items   []inner
	Ptr     *inner
	Any     any
	unexp   string
}

func TestScrubCopiesWhatItChanges(t *testing.T) {
	shared := []inner{{Msg: "\x1b[31mx", Tags: map[string]string{"k": "\x07v"}}}
	sharedMap := shared[0].Tags
	p := &inner{Msg: "\rp"}
	v := outer{Name: "a\x1bb", Skipped: "\x1b", Items: shared, Ptr: p, Any: "\x1bany", unexp: "\x1b"}
	Scrub(&v)
	if v.Name != `a\x1bb` || v.Items[0].Msg != `\x1b[31mx` || v.Items[0].Tags["k"] != `\x07v` || v.Ptr.Msg != `\rp` || v.Any != `\x1bany` {
		t.Errorf("Scrub left hostile text: %+v %+v", v, *v.Ptr)
	}
	if v.Skipped != "\x1b" || v.unexp != "\x1b" {
		t.Errorf("Scrub wrote a skipped or unexported field: %+v", v)
	}
	if shared[0].Msg != "\x1b[31mx" || sharedMap["k"] != "\x07v" || p.Msg != "\rp" {
		t.Errorf("Scrub wrote into memory it was handed, not its copy: %q %q %q", shared[0].Msg, sharedMap["k"], p.Msg)
	}
	clean := []inner{{Msg: "fine"}}
	w := outer{Items: clean}
	Scrub(&w)
	if &w.Items[0] != &clean[0] {
		t.Error("Scrub copied a clean slice")
	}
}
