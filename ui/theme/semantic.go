package theme

import (
	"charm.land/lipgloss/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
)

// Level is a semantic severity; every domain state maps to one here, so
// "what colour is Degraded" is decided in this file only.
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

// HealthLevel maps a service's health to a level.
func HealthLevel(s cluster.Status) Level {
	switch s {
	case cluster.StatusDown, cluster.StatusDegraded:
		return LevelCrit
	case cluster.StatusProgressing, cluster.StatusUnknown:
		return LevelWarn
	}
	return LevelOK
}

// Health returns the style of a service's health.
func (t Theme) Health(s cluster.Status) lipgloss.Style { return t.For(HealthLevel(s)) }

// CheckLevel maps a check finding's status to a level.
func CheckLevel(s checks.Status) Level {
	switch s {
	case checks.Fail:
		return LevelCrit
	case checks.Warn, checks.Unknown:
		return LevelWarn
	case checks.NotApplicable:
		return LevelMuted
	}
	return LevelOK
}

// Check returns the style of a check finding's status.
func (t Theme) Check(s checks.Status) lipgloss.Style { return t.For(CheckLevel(s)) }

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
