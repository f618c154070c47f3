package actions

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/internal/alertmanager"
)

// AlertmanagerClient talks to Alertmanager's v2 API through Alertmanager's own generated
// client (github.com/prometheus/alertmanager/api/v2/client, v0.35.0). It was chosen over plain
// net/http because it builds with our client-go v0.37 dependency set without a replace
// directive and keeps the wire format Alertmanager's own; the price, measured when it was
// added, is ~6 MB of binary and ~70 packages (go-openapi runtime, OpenTelemetry), and minor
// upgrades of go-openapi/swag and golang.org/x modules shared with client-go.
type AlertmanagerClient struct {
	// URL is Alertmanager's base URL, e.g. http://127.0.0.1:9093.
	URL string
	// Match are the labels of the context's alerts in an Alertmanager several clusters share
	// (the config's alertLabels.match, e.g. cluster: prod-eu): the firing alerts looked up
	// carry them, and a silence always matches them, so it never silences another cluster's.
	Match map[string]string
	api   *amclient.AlertmanagerAPI
}

// NewAlertmanagerClient returns a client for the Alertmanager at rawURL; hc may be nil.
func NewAlertmanagerClient(rawURL string, hc *http.Client) (*AlertmanagerClient, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	api, err := alertmanager.NewAPI(rawURL, hc)
	if err != nil {
		return nil, err
	}
	return &AlertmanagerClient{URL: rawURL, api: api}, nil
}

// Alerts returns the active alerts with alertname (and namespace, when not empty).
func (c *AlertmanagerClient) Alerts(ctx context.Context, alertname, namespace string) ([]*models.GettableAlert, error) {
	filter := []string{fmt.Sprintf("alertname=%q", alertname)}
	if namespace != "" {
		filter = append(filter, fmt.Sprintf("namespace=%q", namespace))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Match)) {
		filter = append(filter, fmt.Sprintf("%s=%q", k, c.Match[k]))
	}
	res, err := c.api.Alert.GetAlerts(alert.NewGetAlertsParamsWithContext(ctx).WithFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("alertmanager %s: listing alerts: %w", c.URL, err)
	}
	return res.Payload, nil
}

// Silence returns one silence.
func (c *AlertmanagerClient) Silence(ctx context.Context, id string) (*models.GettableSilence, error) {
	res, err := c.api.Silence.GetSilence(silence.NewGetSilenceParamsWithContext(ctx).WithSilenceID(strfmt.UUID(id)))
	if err != nil {
		return nil, fmt.Errorf("alertmanager %s: silence %s: %w", c.URL, id, err)
	}
	return res.Payload, nil
}

// SilenceAlert returns the action that silences an alert in Alertmanager: exact matchers from
// the alert's labels, the duration, the operator's reason as comment and the kube user as
// createdBy. Object: Kind Alert, Name the alertname, Namespace the alert's namespace label.
func SilenceAlert(env *Env, p spec.SilenceParams) *Action {
	a := newAction(env, p, nil)
	// scoped adds the context's labels (Match) the matchers do not set: the silence stays in
	// the context's cluster whatever else it matches.
	scoped := func(m map[string]string) map[string]string {
		for k, v := range env.Alertmanager.Match {
			if _, set := m[k]; !set {
				m[k] = v
			}
		}
		return m
	}
	matchers := func(ctx context.Context, t spec.Object) (map[string]string, int, error) {
		if len(p.Labels) > 0 {
			m := map[string]string{"alertname": t.Name}
			for k, v := range p.Labels {
				m[k] = v
			}
			return scoped(m), -1, nil
		}
		alerts, err := env.Alertmanager.Alerts(ctx, t.Name, t.Namespace)
		if err != nil {
			return nil, 0, err
		}
		m := map[string]string{"alertname": t.Name}
		if t.Namespace != "" {
			m["namespace"] = t.Namespace
		}
		for i, al := range alerts { // the labels every firing alert shares
			if i == 0 {
				for k, v := range al.Labels {
					m[k] = v
				}
				continue
			}
			for k, v := range m {
				if al.Labels[k] != v {
					delete(m, k)
				}
			}
		}
		return scoped(m), len(alerts), nil
	}
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			switch {
			case env.Alertmanager == nil:
				return "no Alertmanager configured (give --alertmanager-url, or alertmanager: in the config)", nil
			case p.Duration <= 0:
				return "a silence needs a positive duration", nil
			case p.Duration > 7*24*time.Hour:
				return fmt.Sprintf("a silence of %s is longer than the 7-day limit: fix the alert instead", p.Duration), nil
			}
			return "", nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			m, n, err := matchers(ctx, t)
			if err != nil {
				return previewed{}, err
			}
			end := time.Now().Add(p.Duration).UTC().Format(time.RFC3339)
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("silence %s for %s (until %s)", t.Name, p.Duration, end)}}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				pv.Details = append(pv.Details, fmt.Sprintf("matcher %s=%q", k, m[k]))
			}
			switch {
			case n == 0:
				pv.Warnings = append(pv.Warnings, "no firing alert matches: the silence covers future alerts only")
			case n > 0:
				pv.Details = append(pv.Details, fmt.Sprintf("%d firing alert(s) match", n))
			}
			if ns := m["namespace"]; ns != "" && ns != t.Namespace {
				pv.Namespaces = []string{ns}
			}
			if m["namespace"] == "" {
				pv.Unpinned = "the silence has no namespace matcher: it silences " + t.Name + " in every namespace, production included"
			}
			pv.plan = m
			for _, k := range slices.Sorted(maps.Keys(m)) {
				pv.Plan = append(pv.Plan, fmt.Sprintf("matcher %s=%s", k, m[k]))
			}
			pv.DryRun = "no server-side dry run in Alertmanager"
			if n >= 0 {
				pv.DryRun += ": matchers taken from its active alerts"
			}
			return pv, nil
		},
		execute: func(ctx context.Context, tok execToken, t spec.Object, _ func(string)) (executed, error) {
			m, ok := tok.plan.(map[string]string) // the matchers previewed, not computed again
			if !ok || len(m) == 0 {
				return executed{}, fmt.Errorf("no previewed matchers to execute")
			}
			now := time.Now()
			start, end := strfmt.DateTime(now), strfmt.DateTime(now.Add(p.Duration))
			comment := tok.reason
			if comment == "" {
				comment = "silenced from vigil"
			}
			user := tok.user
			body := &models.PostableSilence{Silence: models.Silence{
				Matchers: toMatchers(m), StartsAt: &start, EndsAt: &end, CreatedBy: &user, Comment: &comment}}
			res, err := env.Alertmanager.api.Silence.PostSilences(silence.NewPostSilencesParamsWithContext(ctx).WithSilence(body))
			if err != nil {
				return executed{}, fmt.Errorf("alertmanager %s: creating the silence: %w", env.Alertmanager.URL, err)
			}
			id := res.Payload.SilenceID
			return executed{Result: spec.Result{Message: "silence " + id + " created"}, state: id}, nil
		},
		verify: func(ctx context.Context, _ spec.Object, res executed, _ func(string)) (string, error) {
			id, _ := res.state.(string)
			s, err := env.Alertmanager.Silence(ctx, id)
			if err != nil {
				return "", err
			}
			if st := *s.Status.State; st != "active" && st != "pending" {
				return "", fmt.Errorf("silence %s is %s", id, st)
			}
			return "silence " + id + " is " + *s.Status.State, nil
		},
	}
	return a
}

// ExpireSilence returns the action that expires a silence. Object: Kind Silence, Name its ID.
func ExpireSilence(env *Env) *Action {
	a := newAction(env, spec.ExpireSilenceParams{}, nil)
	a.steps = steps{
		precheck: func(ctx context.Context, t spec.Object) (string, error) {
			if env.Alertmanager == nil {
				return "no Alertmanager configured (give --alertmanager-url, or alertmanager: in the config)", nil
			}
			s, err := env.Alertmanager.Silence(ctx, t.Name)
			if err != nil {
				return "", err
			}
			if *s.Status.State == "expired" {
				return "silence " + t.Name + " has already expired", nil
			}
			return "", nil
		},
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			s, err := env.Alertmanager.Silence(ctx, t.Name)
			if err != nil {
				return previewed{}, err
			}
			pv := previewed{Preview: spec.Preview{Summary: fmt.Sprintf("expire silence %s (created by %s: %q)", t.Name, deref(s.CreatedBy), deref(s.Comment))}}
			for _, m := range s.Matchers {
				pv.Details = append(pv.Details, fmt.Sprintf("matcher %s=%q", deref(m.Name), deref(m.Value)))
				if deref(m.Name) == "namespace" {
					pv.Namespaces = append(pv.Namespaces, deref(m.Value))
				}
			}
			pv.Warnings = append(pv.Warnings, "the alerts it covers will notify again")
			pv.DryRun = "no server-side dry run in Alertmanager"
			return pv, nil
		},
		execute: func(ctx context.Context, _ execToken, t spec.Object, _ func(string)) (executed, error) {
			_, err := env.Alertmanager.api.Silence.DeleteSilence(silence.NewDeleteSilenceParamsWithContext(ctx).WithSilenceID(strfmt.UUID(t.Name)))
			if err != nil {
				return executed{}, fmt.Errorf("alertmanager %s: expiring silence %s: %w", env.Alertmanager.URL, t.Name, err)
			}
			return executed{Result: spec.Result{Message: "silence " + t.Name + " expired"}}, nil
		},
		verify: func(ctx context.Context, t spec.Object, _ executed, _ func(string)) (string, error) {
			s, err := env.Alertmanager.Silence(ctx, t.Name)
			if err != nil {
				return "", err
			}
			if *s.Status.State != "expired" {
				return "", fmt.Errorf("silence %s is still %s", t.Name, *s.Status.State)
			}
			return "silence " + t.Name + " is expired", nil
		},
	}
	return a
}

func toMatchers(m map[string]string) models.Matchers {
	var out models.Matchers
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name, value, f, t := k, m[k], false, true
		out = append(out, &models.Matcher{Name: &name, Value: &value, IsRegex: &f, IsEqual: &t})
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
