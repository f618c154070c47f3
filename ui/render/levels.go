package render

import (
	"charm.land/lipgloss/v2"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// The one place where a service's health and a check's verdict get their
// level, hence their colour (theme decides the colour of each level).

// HealthLevel maps a service's health to a level.
func HealthLevel(s estate.HealthStatus) theme.Level {
	switch s {
	case estate.StatusDown, estate.StatusDegraded:
		return theme.LevelCrit
	case estate.StatusProgressing, estate.StatusUnknown:
		return theme.LevelWarn
	}
	return theme.LevelOK
}

// Health returns the style of a service's health.
func Health(t theme.Theme, s estate.HealthStatus) lipgloss.Style { return t.For(HealthLevel(s)) }

// CheckLevel maps a check finding's status to a level.
func CheckLevel(s checks.Status) theme.Level {
	switch s {
	case checks.Fail:
		return theme.LevelCrit
	case checks.Warn, checks.Unknown:
		return theme.LevelWarn
	case checks.NotApplicable:
		return theme.LevelMuted
	}
	return theme.LevelOK
}

// Check returns the style of a check finding's status.
func Check(t theme.Theme, s checks.Status) lipgloss.Style { return t.For(CheckLevel(s)) }
