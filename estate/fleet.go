package estate

import (
	"fmt"
	"time"
)

// FleetEntryFromSnapshot fills e from the snapshot of a context's running
// session (the one on screen), so the fleet view does not list it again;
// start is when the fleet pass began (for Took).
func FleetEntryFromSnapshot(e FleetEntry, snap Snapshot, start time.Time) FleetEntry {
	e.Reachable = snap.Conn.Connected
	if !e.Reachable {
		e.Err = snap.Conn.Reason
	}
	e.CountHealth(snap.Services)
	switch {
	case snap.Alerts.Prometheus.Available || snap.Alerts.Alertmanager.Available:
		e.Firing = snap.Alerts.Firing
	case !snap.Alerts.Prometheus.Configured && !snap.Alerts.Alertmanager.Configured:
		e.AlertsErr = "no Prometheus configured"
	default:
		e.AlertsErr = snap.Alerts.Prometheus.Err
	}
	e.Checked = snap.Conn.LastContact
	e.Took = time.Since(start)
	return e
}

// CountHealth sets e's service counts by health status and names up to
// three of the worst (Down or Degraded) services.
func (e *FleetEntry) CountHealth(services []Service) {
	e.Services = len(services)
	for _, s := range services {
		switch s.Health.Status {
		case StatusOK:
			e.OK++
		case StatusProgressing:
			e.Progressing++
		case StatusDegraded:
			e.Degraded++
		case StatusDown:
			e.Down++
		default:
			e.Unknown++
		}
		if s.Health.Status <= StatusDegraded && len(e.Worst) < 3 {
			e.Worst = append(e.Worst, fmt.Sprintf("%s/%s %s", s.Namespace, s.Name, s.Health.Status))
		}
	}
}
