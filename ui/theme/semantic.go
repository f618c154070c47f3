package theme

import "charm.land/lipgloss/v2"

// Level is a semantic severity. Every domain state maps to one (health and
// check verdicts in ui/render's levels.go), so "what colour is Degraded" is
// decided there and the colour of a level here; theme itself knows no
// domain type.
type Level int

// The levels, mildest first.
const (
	LevelOK Level = iota
	LevelMuted
	LevelWarn
	LevelCrit
)

// For returns the style of a level.
func (t Theme) For(l Level) lipgloss.Style {
	switch l {
	case LevelCrit:
		return t.Crit
	case LevelWarn:
		return t.Warn
	case LevelMuted:
		return t.Muted
	}
	return t.OK
}

// SeverityLevel maps an alert severity label (critical, warning, info…)
// to a level.
func SeverityLevel(severity string) Level {
	switch severity {
	case "critical", "page", "error":
		return LevelCrit
	case "warning", "warn":
		return LevelWarn
	case "":
		return LevelMuted
	}
	return LevelOK
}

// Ratio maps a usage ratio (used/limit) to a level: ≥ 1 is saturated,
// ≥ 0.8 is close.
func Ratio(r float64) Level {
	switch {
	case r >= 1:
		return LevelCrit
	case r >= 0.8:
		return LevelWarn
	}
	return LevelOK
}

// ErrorRateLevel maps a 5xx share of requests (0–1) to a level: ≥ 5% is
// critical, ≥ 1% a warning.
func ErrorRateLevel(r float64) Level {
	switch {
	case r >= 0.05:
		return LevelCrit
	case r >= 0.01:
		return LevelWarn
	}
	return LevelOK
}
