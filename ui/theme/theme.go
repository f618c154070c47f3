// Package theme is the one place vigil's colours live. Everything else asks
// for a semantic style (OK, Warn, Crit, Muted, ...), so health and severity
// map to colour here and only here.
package theme

import (
	"os"

	"charm.land/lipgloss/v2"
)

// Theme is the set of semantic styles the UI draws with.
type Theme struct {
	// NoColor is true when styles carry no colour (NO_COLOR is set).
	NoColor bool

	// OK marks healthy things.
	OK lipgloss.Style
	// Warn marks things that need attention soon (progressing, stale-ish).
	Warn lipgloss.Style
	// Crit marks things that are broken (down, degraded, disconnected).
	Crit lipgloss.Style
	// Muted is for secondary text: labels, ages, hints.
	Muted lipgloss.Style
	// Title is the app name in the header.
	Title lipgloss.Style
	// Value is header values (context, server, user).
	Value lipgloss.Style
	// TableHeader is the column header row.
	TableHeader lipgloss.Style
	// Selected is the cursor row.
	Selected lipgloss.Style
	// Note is problems and notes under the header.
	Note lipgloss.Style
	// Badge is a loud label in the header (READ-ONLY).
	Badge lipgloss.Style
	// Accent marks the active tab, the palette prompt and section titles.
	Accent lipgloss.Style
	// Tab is an inactive tab in the tab bar.
	Tab lipgloss.Style
	// BarFill and BarEmpty draw the filled and empty parts of a bar.
	BarFill, BarEmpty lipgloss.Style
	// Spark draws sparklines.
	Spark lipgloss.Style
	// Frame is the border of a modal; FrameDanger the border of a dangerous one.
	Frame, FrameDanger lipgloss.Style
}

// Palette entries: adaptive ANSI-256 colours that read on dark and light
// terminals alike.
var (
	green  = lipgloss.Color("2")
	yellow = lipgloss.Color("3")
	red    = lipgloss.Color("1")
	grey   = lipgloss.Color("8")
	blue   = lipgloss.Color("4")
	cyan   = lipgloss.Color("6")
)

// New returns the theme; noColor drops every colour and keeps only
// attributes (bold, reverse), per https://no-color.org.
func New(noColor bool) Theme {
	s := lipgloss.NewStyle
	if noColor {
		return Theme{
			NoColor:     true,
			OK:          s(),
			Warn:        s().Bold(true),
			Crit:        s().Bold(true),
			Muted:       s(),
			Title:       s().Bold(true),
			Value:       s().Bold(true),
			TableHeader: s().Bold(true).Underline(true),
			Selected:    s().Reverse(true),
			Note:        s(),
			Badge:       s().Reverse(true).Bold(true),
			Accent:      s().Bold(true),
			Tab:         s(),
			BarFill:     s(),
			BarEmpty:    s(),
			Spark:       s(),
			Frame:       s().Border(lipgloss.NormalBorder()).Padding(0, 1),
			FrameDanger: s().Border(lipgloss.ThickBorder()).Padding(0, 1),
		}
	}
	return Theme{
		OK:          s().Foreground(green),
		Warn:        s().Foreground(yellow),
		Crit:        s().Foreground(red).Bold(true),
		Muted:       s().Foreground(grey),
		Title:       s().Foreground(cyan).Bold(true),
		Value:       s().Bold(true),
		TableHeader: s().Foreground(blue).Bold(true),
		Selected:    s().Reverse(true),
		Note:        s().Foreground(yellow),
		Badge:       s().Background(red).Foreground(lipgloss.Color("15")).Bold(true),
		Accent:      s().Foreground(cyan).Bold(true),
		Tab:         s().Foreground(grey),
		BarFill:     s().Foreground(cyan),
		BarEmpty:    s().Foreground(grey),
		Spark:       s().Foreground(cyan),
		Frame:       s().Border(lipgloss.RoundedBorder()).BorderForeground(blue).Padding(0, 1),
		FrameDanger: s().Border(lipgloss.ThickBorder()).BorderForeground(red).Padding(0, 1),
	}
}

// FromEnv returns New(true) when NO_COLOR is set to anything non-empty.
func FromEnv() Theme { return New(os.Getenv("NO_COLOR") != "") }
