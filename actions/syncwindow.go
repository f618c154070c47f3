package actions

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// SyncWindow is an Argo CD AppProject sync window (spec.syncWindows[]).
type SyncWindow struct {
	Kind         string   `json:"kind"`
	Schedule     string   `json:"schedule"`
	Duration     string   `json:"duration"`
	Applications []string `json:"applications,omitempty"`
	Namespaces   []string `json:"namespaces,omitempty"`
	Clusters     []string `json:"clusters,omitempty"`
	ManualSync   bool     `json:"manualSync,omitempty"`
	TimeZone     string   `json:"timeZone,omitempty"`
}

func (w SyncWindow) String() string {
	tz := w.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return fmt.Sprintf("%s window %q for %s (%s)", w.Kind, w.Schedule, w.Duration, tz)
}

// cronParser parses schedules as Argo CD does: five fields, no seconds.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// active reports whether the window is open at now: its last start (the first start after
// now-duration, in the window's time zone) is before now — Argo CD's rule.
func (w SyncWindow) active(now time.Time) (bool, error) {
	sched, err := cronParser.Parse(w.Schedule)
	if err != nil {
		return false, fmt.Errorf("sync window schedule %q: %w", w.Schedule, err)
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil {
		return false, fmt.Errorf("sync window duration %q: %w", w.Duration, err)
	}
	loc := time.UTC
	if w.TimeZone != "" {
		if loc, err = time.LoadLocation(w.TimeZone); err != nil {
			return false, fmt.Errorf("sync window time zone %q: %w", w.TimeZone, err)
		}
	}
	next := sched.Next(now.In(loc).Add(-d))
	return next.Before(now), nil
}

// matchingWindows returns the windows that apply to an application (by name, destination
// namespace or cluster), as Argo CD's SyncWindows.Matches. Globs use path.Match.
func matchingWindows(windows []SyncWindow, app, namespace, server, cluster string) []SyncWindow {
	glob := func(patterns []string, vals ...string) bool {
		for _, p := range patterns {
			for _, v := range vals {
				if v == "" {
					continue
				}
				if ok, _ := path.Match(p, v); ok || p == "*" {
					return true
				}
			}
		}
		return false
	}
	var out []SyncWindow
	for _, w := range windows {
		if glob(w.Applications, app) || glob(w.Namespaces, namespace) || glob(w.Clusters, server, cluster) {
			out = append(out, w)
		}
	}
	return out
}

// canSync decides as Argo CD's SyncWindows.CanSync: an active deny window blocks (a manual
// sync passes only if every active deny window has manualSync); otherwise an active allow
// window permits; otherwise, when allow windows exist but none is open, only a manual sync
// with manualSync on all of them passes. It returns a reason when it refuses.
func canSync(windows []SyncWindow, manual bool, now time.Time) (bool, string, error) {
	if len(windows) == 0 {
		return true, "", nil
	}
	var activeDeny, activeAllow, inactiveAllow []SyncWindow
	for _, w := range windows {
		on, err := w.active(now)
		if err != nil {
			return false, "", err
		}
		switch {
		case on && w.Kind == "deny":
			activeDeny = append(activeDeny, w)
		case on && w.Kind == "allow":
			activeAllow = append(activeAllow, w)
		case !on && w.Kind == "allow":
			inactiveAllow = append(inactiveAllow, w)
		}
	}
	allManual := func(ws []SyncWindow) bool {
		for _, w := range ws {
			if !w.ManualSync {
				return false
			}
		}
		return true
	}
	names := func(ws []SyncWindow) string {
		var s []string
		for _, w := range ws {
			s = append(s, w.String())
		}
		return strings.Join(s, "; ")
	}
	if len(activeDeny) > 0 {
		if manual && allManual(activeDeny) {
			return true, "", nil
		}
		return false, "sync window closed: " + names(activeDeny) + " is active", nil
	}
	if len(activeAllow) > 0 {
		return true, "", nil
	}
	if len(inactiveAllow) > 0 {
		if manual && allManual(inactiveAllow) {
			return true, "", nil
		}
		return false, "sync window closed: no allow window is open (" + names(inactiveAllow) + ")", nil
	}
	return true, "", nil
}
