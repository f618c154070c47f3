package termsafe

import (
	"io"
	"unicode/utf8"
)

// Writer escapes what is written through it as Text does (newlines and
// tabs pass): headless output, whose every byte may come from the cluster,
// goes through one. A rune split across two writes is held until the next.
type Writer struct {
	w       io.Writer
	partial []byte
}

// NewWriter returns a Writer writing escaped text to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p and writes it; it reports len(p) written on success.
func (t *Writer) Write(p []byte) (int, error) {
	buf := p
	if len(t.partial) > 0 {
		buf = append(t.partial, p...)
		t.partial = nil
	}
	// Hold back an incomplete rune at the end.
	if cut := incompleteTail(buf); cut > 0 {
		t.partial = append([]byte(nil), buf[len(buf)-cut:]...)
		buf = buf[:len(buf)-cut]
	}
	if _, err := io.WriteString(t.w, Text(string(buf))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap returns the writer escaped text goes to: for what draws on a terminal itself,
// escaping its text with Line (vigil check --all-contexts' progress line).
func (t *Writer) Unwrap() io.Writer { return t.w }

// Close writes a held incomplete rune (escaped, as it can never complete).
func (t *Writer) Close() error {
	if len(t.partial) == 0 {
		return nil
	}
	s := Text(string(t.partial))
	t.partial = nil
	_, err := io.WriteString(t.w, s)
	return err
}

// incompleteTail is how many bytes at the end of b start a rune that is
// not complete yet (0 when b ends on a rune boundary or in garbage).
func incompleteTail(b []byte) int {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return 0
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return i
			}
			return 0
		}
	}
	return 0
}
