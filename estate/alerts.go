package estate

import (
	"fmt"
	"github.com/vigil-k8s/vigil/config"
	"sort"
)

// MergeAlerts prefers Alertmanager's view (it knows silences) and adds
// Prometheus's pending alerts, which Alertmanager never sees.
func MergeAlerts(prom []Alert, promOK bool, am []Alert, amOK bool) []Alert {
	var out []Alert
	switch {
	case amOK:
		out = append(out, am...)
		if promOK {
			for _, a := range prom {
				if a.State == "pending" {
					out = append(out, a)
				}
			}
		}
	case promOK:
		out = append(out, prom...)
	}
	return out
}

// Unknown reports whether alert sources are configured and none answers: no alert is
// known to fire, and none is known not to (the services' health then leaves alerts out).
func (v AlertsView) Unknown() bool {
	return (v.Prometheus.Configured || v.Alertmanager.Configured) && !v.Prometheus.Available && !v.Alertmanager.Available
}

var severityRank = map[string]int{"critical": 0, "warning": 1, "info": 2}

func rankSeverity(s string) int {
	if r, ok := severityRank[s]; ok {
		return r
	}
	return 3
}

// KeepAlerts drops the alerts that belong to another cluster (config
// alertLabels.match), in place.
func KeepAlerts(alerts []Alert, l config.AlertLabels) []Alert {
	if len(l.Match) == 0 {
		return alerts
	}
	out := alerts[:0]
	for _, a := range alerts {
		if l.Keeps(a.Labels) {
			out = append(out, a)
		}
	}
	return out
}

// JoinAlerts sets each alert's Service from its labels: the namespace is
// the first of labels.Namespace present, and the first of labels.Service
// whose value names a workload (or equals a workload's app label) in that
// namespace wins. It sorts the alerts (firing first, severity, name) and
// counts the firing ones. It is pure.
func JoinAlerts(v AlertsView, services []Service, labels config.AlertLabels) AlertsView {
	idx := newServiceIndex(services, labels)
	alerts := make([]Alert, len(v.Alerts))
	copy(alerts, v.Alerts)
	v.Firing = 0
	for i := range alerts {
		a := &alerts[i]
		a.Service = idx.lookup(a.Labels)
		if a.State == "firing" && len(a.SilencedBy) == 0 {
			v.Firing++
		}
	}
	sort.SliceStable(alerts, func(i, j int) bool {
		a, b := alerts[i], alerts[j]
		if (a.State == "firing") != (b.State == "firing") {
			return a.State == "firing"
		}
		if rankSeverity(a.Severity) != rankSeverity(b.Severity) {
			return rankSeverity(a.Severity) < rankSeverity(b.Severity)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Service < b.Service
	})
	v.Alerts = alerts
	return v
}

// serviceIndex finds the service a label set names (an alert's, a
// Prometheus series'), so alerts and error rates join to services by the
// same rules.
type serviceIndex struct {
	labels config.AlertLabels
	byName map[string]string // ns/name → key, and "/name" → the last key seen
	count  map[string]int    // name → how many services it names
}

// newServiceIndex indexes services by name, app and
// app.kubernetes.io/name labels; empty label lists take the defaults.
func newServiceIndex(services []Service, labels config.AlertLabels) serviceIndex {
	if len(labels.Service) == 0 {
		labels.Service = config.DefaultServiceLabels
	}
	if len(labels.Namespace) == 0 {
		labels.Namespace = config.DefaultNamespaceLabels
	}
	x := serviceIndex{labels: labels, byName: map[string]string{}, count: map[string]int{}}
	for _, s := range services {
		for _, n := range []string{s.Name, s.Labels["app"], s.Labels["app.kubernetes.io/name"]} {
			if n == "" {
				continue
			}
			if _, ok := x.byName[s.Namespace+"/"+n]; !ok {
				x.byName[s.Namespace+"/"+n] = s.Key()
			}
			if x.count[n] == 0 || x.byName["/"+n] != s.Key() {
				x.count[n]++
			}
			x.byName["/"+n] = s.Key()
		}
	}
	return x
}

// lookup returns the key of the service l names, or "": the namespace is
// the first of the namespace labels present, and the first service label
// whose value names a workload in it wins; without a namespace the name
// must be unique across namespaces.
func (x serviceIndex) lookup(l map[string]string) string {
	ns := ""
	for _, k := range x.labels.Namespace {
		if ns = l[k]; ns != "" {
			break
		}
	}
	for _, k := range x.labels.Service {
		name := l[k]
		if name == "" {
			continue
		}
		if key, ok := x.byName[ns+"/"+name]; ok && ns != "" {
			return key
		}
		if key, ok := x.byName["/"+name]; ok && ns == "" && x.count[name] == 1 {
			return key
		}
	}
	return ""
}

// AlertProblems are the notes for unavailable alert sources.
func AlertProblems(v AlertsView) []string {
	var out []string
	for _, src := range []struct {
		name string
		s    AlertSource
	}{{"Prometheus", v.Prometheus}, {"Alertmanager", v.Alertmanager}} {
		if src.s.Configured && !src.s.Available && src.s.Err != "" {
			out = append(out, fmt.Sprintf("alerts unavailable: %s %s: %s", src.name, src.s.URL, src.s.Err))
		}
	}
	if v.Prometheus.Available && v.RatesErr != "" {
		out = append(out, fmt.Sprintf("error rates unavailable: Prometheus %s: %s", v.Prometheus.URL, v.RatesErr))
	}
	return out
}
