package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	amsilence "github.com/prometheus/alertmanager/api/v2/client/silence"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/alertmanager"
)

// AlertsResult is one poll of the alert sources, stamped with the session
// it belongs to so a stale one (after a context switch) is dropped.
type AlertsResult struct {
	// Context and Generation identify the session that polled.
	Context    string
	Generation uint64
	// View is what the sources said, not yet joined to services.
	View estate.AlertsView
}

// alertsState is the latest AlertsResult of a session.
type alertsState struct {
	mu     sync.Mutex
	result AlertsResult
}

func (a *alertsState) get() estate.AlertsView {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.result.View
}

// accept stores r if it belongs to (ctx, gen).
func (a *alertsState) accept(r AlertsResult, ctx string, gen uint64) bool {
	if r.Context != ctx || r.Generation != gen {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.result = r
	return true
}

// alertClients are the HTTP clients of one context's alert sources.
type alertClients struct {
	prom promv1.API
	am   *amclient.AlertmanagerAPI
}

func newAlertClients(s config.Settings, wrap func(*http.Client) *http.Client) (alertClients, error) {
	var c alertClients
	hc := &http.Client{Timeout: 10 * time.Second}
	if wrap != nil {
		hc = wrap(hc)
	}
	if s.Prometheus != "" {
		pc, err := newPrometheusClient(s.Prometheus, hc)
		if err != nil {
			return c, fmt.Errorf("prometheus %s: %w", s.Prometheus, err)
		}
		c.prom = promv1.NewAPI(pc)
	}
	if s.Alertmanager != "" {
		am, err := alertmanager.NewAPI(s.Alertmanager, hc)
		if err != nil {
			return c, err
		}
		c.am = am
	}
	return c, nil
}

// pollAlerts polls Prometheus and Alertmanager until ctx ends. Each source
// has its own schedule: every AlertsInterval while it answers, with a
// doubling backoff (up to MaxAlertsBackoff) after failures. A failing
// source never stops anything else.
func (s *Session) pollAlerts(ctx context.Context) {
	set := s.opts.Settings
	view := estate.AlertsView{
		Prometheus:   estate.AlertSource{URL: set.Prometheus, Configured: set.Prometheus != ""},
		Alertmanager: estate.AlertSource{URL: set.Alertmanager, Configured: set.Alertmanager != ""},
	}
	clients, err := newAlertClients(set, s.opts.WrapClient)
	if err != nil {
		view.Prometheus.Err = err.Error()
		s.alerts.accept(AlertsResult{Context: s.opts.Context, Generation: s.opts.Generation, View: view}, s.opts.Context, s.opts.Generation)
		return
	}
	if clients.prom == nil && clients.am == nil {
		s.alerts.accept(AlertsResult{Context: s.opts.Context, Generation: s.opts.Generation, View: view}, s.opts.Context, s.opts.Generation)
		return
	}
	rq, rqErr := rateQuery(set.AlertLabels)
	var promAlerts, amAlerts []estate.Alert
	var promFails, amFails int
	nextProm, nextAM := time.Now(), time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		if clients.prom != nil && !now.Before(nextProm) {
			alerts, rules, err := fetchPrometheus(ctx, clients.prom)
			if ctx.Err() != nil {
				return
			}
			promFails = sourceResult(&view.Prometheus, err, promFails, now)
			if err == nil {
				promAlerts, view.Rules = estate.KeepAlerts(alerts, set.AlertLabels), rules
			}
			view.Rates, view.RatesErr = nil, ""
			switch {
			case rqErr != nil:
				view.RatesErr = rqErr.Error()
			case err == nil: // a failing Prometheus is already reported
				rates, err := fetchRates(ctx, clients.prom, rq)
				if ctx.Err() != nil {
					return
				}
				view.Rates, view.RatesErr = rates, Explain(err)
			}
			nextProm = now.Add(s.backoff(promFails))
			view.Prometheus.NextRetry = nextProm
		}
		if clients.am != nil && !now.Before(nextAM) {
			alerts, silences, err := fetchAlertmanager(ctx, clients.am)
			if ctx.Err() != nil {
				return
			}
			amFails = sourceResult(&view.Alertmanager, err, amFails, now)
			if err == nil {
				amAlerts, view.Silences = estate.KeepAlerts(alerts, set.AlertLabels), silences
			}
			nextAM = now.Add(s.backoff(amFails))
			view.Alertmanager.NextRetry = nextAM
		}
		out := view
		out.Alerts = estate.MergeAlerts(promAlerts, view.Prometheus.Available, amAlerts, view.Alertmanager.Available)
		s.alerts.accept(AlertsResult{Context: s.opts.Context, Generation: s.opts.Generation, View: out}, s.opts.Context, s.opts.Generation)
		s.markDirty()
		next := nextAM
		if clients.am == nil || (clients.prom != nil && nextProm.Before(nextAM)) {
			next = nextProm
		}
		timer.Reset(time.Until(next))
	}
}

// backoff is the delay before the next poll after fails failures in a row.
func (s *Session) backoff(fails int) time.Duration {
	d := s.opts.AlertsInterval
	if fails == 0 {
		return d
	}
	d = min(time.Second, d) // retry soon after the first failure
	for i := 1; i < fails && d < s.opts.MaxAlertsBackoff; i++ {
		d *= 2
	}
	return min(d, s.opts.MaxAlertsBackoff)
}

func sourceResult(src *estate.AlertSource, err error, fails int, now time.Time) int {
	if err != nil {
		src.Available, src.Err = false, Explain(err)
		return fails + 1
	}
	src.Available, src.Err, src.LastSuccess = true, "", now
	return 0
}

func fetchPrometheus(ctx context.Context, api promv1.API) ([]estate.Alert, []estate.AlertRule, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := api.Alerts(ctx)
	if err != nil {
		return nil, nil, err
	}
	alerts := make([]estate.Alert, 0, len(res.Alerts))
	for _, a := range res.Alerts {
		alerts = append(alerts, estate.Alert{
			Name: string(a.Labels["alertname"]), State: string(a.State), Severity: string(a.Labels["severity"]),
			Summary: string(a.Annotations["summary"]), Description: string(a.Annotations["description"]),
			Labels: labelMap(a.Labels), Since: a.ActiveAt, Value: a.Value, Source: "prometheus",
		})
	}
	rules, err := fetchRules(ctx, api)
	if err != nil {
		return nil, nil, err
	}
	return alerts, rules, nil
}

// LoadedAlertRules asks the Prometheus at address which alerting rules it
// has loaded (GET /api/v1/rules) through hc, as a Session's poll does:
// vigil check's monitoring-alert-rules-loaded reads the names. The result
// is not nil when Prometheus answered, even without rules.
func LoadedAlertRules(ctx context.Context, address string, hc *http.Client) ([]string, error) {
	pc, err := newPrometheusClient(address, hc)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", address, err)
	}
	rules, err := fetchRules(ctx, promv1.NewAPI(pc))
	if perr := (*promv1.Error)(nil); errors.As(err, &perr) {
		return nil, fmt.Errorf("GET /api/v1/rules: %s", perr.Msg) // not "client_error: client error: 404"
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(rules))
	for _, r := range rules {
		names = append(names, r.Name)
	}
	return names, nil
}

// fetchRules returns Prometheus's alerting rules (recording rules skipped).
func fetchRules(ctx context.Context, api promv1.API) ([]estate.AlertRule, error) {
	rr, err := api.Rules(ctx, nil)
	if err != nil {
		return nil, err
	}
	var rules []estate.AlertRule
	for _, g := range rr.Groups {
		for _, r := range g.Rules {
			ar, ok := r.(promv1.AlertingRule)
			if !ok {
				continue
			}
			rules = append(rules, estate.AlertRule{Group: g.Name, File: g.File, Name: ar.Name, Query: ar.Query,
				For: time.Duration(ar.Duration * float64(time.Second)), State: ar.State, Health: string(ar.Health),
				LastError: ar.LastError, Active: len(ar.Alerts)})
		}
	}
	return rules, nil
}

func labelMap[K, V ~string](l map[K]V) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[string(k)] = string(v)
	}
	return out
}

func fetchAlertmanager(ctx context.Context, am *amclient.AlertmanagerAPI) ([]estate.Alert, []estate.Silence, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := am.Alert.GetAlerts(amalert.NewGetAlertsParamsWithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	var alerts []estate.Alert
	for _, a := range res.Payload {
		al := estate.Alert{Labels: labelMap(a.Labels), Source: "alertmanager", Summary: a.Annotations["summary"], Description: a.Annotations["description"]}
		al.Name, al.Severity = al.Labels["alertname"], al.Labels["severity"]
		if a.Fingerprint != nil {
			al.Fingerprint = *a.Fingerprint
		}
		if a.StartsAt != nil {
			al.Since = time.Time(*a.StartsAt)
		}
		al.State = "firing"
		if a.Status != nil {
			al.SilencedBy = a.Status.SilencedBy
			if a.Status.State != nil && *a.Status.State == "suppressed" {
				al.State = "suppressed"
			}
		}
		alerts = append(alerts, al)
	}
	sres, err := am.Silence.GetSilences(amsilence.NewGetSilencesParamsWithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	var silences []estate.Silence
	for _, s := range sres.Payload {
		if s.Status == nil || s.Status.State == nil || *s.Status.State == "expired" {
			continue
		}
		sl := estate.Silence{State: *s.Status.State}
		if s.ID != nil {
			sl.ID = *s.ID
		}
		if s.CreatedBy != nil {
			sl.CreatedBy = *s.CreatedBy
		}
		if s.Comment != nil {
			sl.Comment = *s.Comment
		}
		if s.StartsAt != nil {
			sl.StartsAt = time.Time(*s.StartsAt)
		}
		if s.EndsAt != nil {
			sl.EndsAt = time.Time(*s.EndsAt)
		}
		for _, m := range s.Matchers {
			if m == nil || m.Name == nil || m.Value == nil {
				continue
			}
			op := "="
			if m.IsRegex != nil && *m.IsRegex {
				op = "=~"
			}
			if m.IsEqual != nil && !*m.IsEqual {
				op = strings.Replace(op, "=", "!", 1)
				if op == "!" {
					op = "!="
				}
			}
			sl.Matchers = append(sl.Matchers, fmt.Sprintf("%s%s%q", *m.Name, op, *m.Value))
		}
		silences = append(silences, sl)
	}
	sort.Slice(silences, func(i, j int) bool { return silences[i].EndsAt.Before(silences[j].EndsAt) })
	return alerts, silences, nil
}
