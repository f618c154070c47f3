package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/vigil-k8s/vigil/ui/services"
)

// TestMinimumSize: below 80×24 the screen asks for a larger terminal,
// naming the current size, in exactly the terminal's cells, and keys do
// nothing unseen (q still quits); at 80×24 and 240×70 the screens are drawn
// with their chrome, no line wider than the terminal, exactly its height.
func TestMinimumSize(t *testing.T) {
	for _, tt := range []struct {
		w, h  int
		small bool
	}{{60, 20, true}, {79, 24, true}, {80, 23, true}, {80, 24, false}, {240, 70, false}} {
		t.Run(fmt.Sprintf("%dx%d", tt.w, tt.h), func(t *testing.T) {
			m := newModelWith(t, 120, 40, &fakeBackend{}, nil)
			run(m, SnapshotMsg{Snapshot: seedEstate(2)})
			m.Update(tea.WindowSizeMsg{Width: tt.w, Height: tt.h})
			s := screenText(m)
			lines := strings.Split(s, "\n")
			if len(lines) != tt.h {
				t.Errorf("%d lines, want %d", len(lines), tt.h)
			}
			for i, l := range lines {
				if lipgloss.Width(l) > tt.w {
					t.Errorf("line %d is %d cells wide, more than %d: %q", i, lipgloss.Width(l), tt.w, l)
				}
			}
			asks := services.LineWith(s, "enlarge the terminal to at least 80×24") != "" &&
				services.LineWith(s, fmt.Sprintf("now %d×%d", tt.w, tt.h)) != ""
			if asks != tt.small {
				t.Fatalf("asks to enlarge: %v, want %v:\n%s", asks, tt.small, s)
			}
			cursor := m.Services().Table().Cursor()
			run(m, press("j"))
			run(m, press(":"))
			if tt.small {
				if m.Services().Table().Cursor() != cursor || len(m.stack) != 1 {
					t.Errorf("keys acted while the screen was too small to show them")
				}
				if !run(m, press("q")) {
					t.Error("q does not quit on the too-small screen")
				}
				return
			}
			if services.LineWith(s, "ctx local-1") == "" || services.LineWith(s, "Services") == "" || services.LineWith(s, "notification-service") == "" {
				t.Errorf("header, tabs or services missing:\n%s", s)
			}
			if m.Services().Table().Cursor() == cursor || len(m.stack) != 2 {
				t.Errorf("j or : did nothing at %dx%d", tt.w, tt.h)
			}
		})
	}
}
