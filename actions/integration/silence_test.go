package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// TestSilenceInRealAlertmanager creates a silence in a real Alertmanager (Debian's, started by
// testdata/prometheus/start.sh) and expires it, both through the pipeline.
func TestSilenceInRealAlertmanager(t *testing.T) {
	prom, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prom.Stop)
	e := env(t, "local-1")
	am, err := actions.NewAlertmanagerClient(prom.AlertmanagerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Alertmanager = am
	user, _ := e.User(ctxT(t, 10*time.Second))

	// fintech-prod is production: the typed target confirms.
	p, path := pipeline(t, e, "local-1/fintech-prod/PaymentServiceDown")
	target := spec.Object{Kind: spec.KindAlert, Namespace: "fintech-prod", Name: "PaymentServiceDown"}
	a := actions.SilenceAlert(e, spec.SilenceParams{Duration: 2 * time.Hour, Labels: map[string]string{"namespace": "fintech-prod", "severity": "critical"}})
	out, err := p.Execute(ctxT(t, 30*time.Second), a, target, spec.Request{Reason: "INC-123: payment-service maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("preview:\n%s\nresult: %+v", out.Preview, out.Result)
	id := strings.TrimSuffix(strings.TrimPrefix(out.Result.Message, "silence "), " created")
	s, err := am.Silence(ctxT(t, 10*time.Second), id)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Status.State != "active" || *s.CreatedBy != user || *s.Comment != "INC-123: payment-service maintenance" {
		t.Fatalf("silence %s: state %s createdBy %s comment %q", id, *s.Status.State, *s.CreatedBy, *s.Comment)
	}
	got := map[string]string{}
	for _, m := range s.Matchers {
		got[*m.Name] = *m.Value
		if *m.IsRegex || (m.IsEqual != nil && !*m.IsEqual) {
			t.Errorf("matcher %s is not an exact match", *m.Name)
		}
	}
	if len(got) != 3 || got["alertname"] != "PaymentServiceDown" || got["namespace"] != "fintech-prod" || got["severity"] != "critical" {
		t.Fatalf("matchers %v", got)
	}
	if d := time.Until(time.Time(*s.EndsAt)); d < 119*time.Minute || d > 121*time.Minute {
		t.Errorf("ends in %s", d)
	}

	// Expire it. The silence's namespace matcher (fintech-prod) makes it protected: "yes" is
	// refused, the typed <context>/<silence-id> is accepted.
	expire := spec.Object{Kind: spec.KindSilence, Name: id}
	p.Confirmer = actions.PresetConfirmer{Answer: "yes"}
	if _, err = p.Execute(ctxT(t, 30*time.Second), actions.ExpireSilence(e), expire, spec.Request{Reason: "INC-123 over"}); err == nil ||
		!strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("yes expired a production silence: %v", err)
	}
	p.Confirmer = actions.PresetConfirmer{Answer: "local-1/" + id}
	out, err = p.Execute(ctxT(t, 30*time.Second), actions.ExpireSilence(e), expire, spec.Request{Reason: "INC-123 over"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.Verified != "silence "+id+" is expired" {
		t.Fatalf("result %+v", out.Result)
	}
	if d := actions.ExpireSilence(e).Disabled(ctxT(t, 10*time.Second), expire); d != "silence "+id+" has already expired" {
		t.Errorf("Disabled after expiry = %q", d)
	}
	if recs := records(t, path); len(recs) != 5 {
		t.Errorf("audit has %d records, want 5 (create started+finished, refused, expire started+finished)", len(recs))
	}
}

// TestSilenceStaysInItsCluster: two clusters share one Alertmanager and each fires the same
// alert, labelled with its cluster (the alerts are posted to a real Alertmanager as Prometheus
// would post them). From local-1, with the context's alertLabels.match {cluster: local-1} on
// the client, a silence of the alert covers local-1's and not local-2's — as Alertmanager
// itself reports each alert's silencedBy. Without the match the labels both alerts share drop
// the cluster, and local-2's alert would be silenced from local-1.
func TestSilenceStaysInItsCluster(t *testing.T) {
	prom, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prom.Stop)
	name := "VigilScope" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	now := time.Now().UTC()
	var posted []map[string]any
	for _, c := range []string{"local-1", "local-2"} {
		posted = append(posted, map[string]any{"labels": map[string]string{"alertname": name, "namespace": "fintech-staging", "cluster": c, "severity": "warning"},
			"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339)})
	}
	body, _ := json.Marshal(posted)
	resp, err := http.Post(prom.AlertmanagerURL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting the alerts: %s", resp.Status)
	}
	// silencedBy, per cluster, as Alertmanager reports it.
	silencedBy := func() map[string][]string {
		t.Helper()
		r, gerr := http.Get(prom.AlertmanagerURL + "/api/v2/alerts?filter=" + url.QueryEscape(fmt.Sprintf("alertname=%q", name)))
		if gerr != nil {
			t.Fatal(gerr)
		}
		defer r.Body.Close()
		var alerts []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				SilencedBy []string `json:"silencedBy"`
			} `json:"status"`
		}
		if derr := json.NewDecoder(r.Body).Decode(&alerts); derr != nil {
			t.Fatal(derr)
		}
		out := map[string][]string{}
		for _, a := range alerts {
			out[a.Labels["cluster"]] = a.Status.SilencedBy
		}
		return out
	}
	if got := silencedBy(); len(got) != 2 {
		t.Fatalf("Alertmanager holds the alert of %d clusters, want 2: %v", len(got), got)
	}

	e := env(t, "local-1")
	am, err := actions.NewAlertmanagerClient(prom.AlertmanagerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	am.Match = map[string]string{"cluster": "local-1"}
	e.Alertmanager = am
	p, _ := pipeline(t, e, "yes") // fintech-staging is not production
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.SilenceAlert(e, spec.SilenceParams{Duration: time.Hour}),
		spec.Object{Kind: spec.KindAlert, Namespace: "fintech-staging", Name: name}, spec.Request{Reason: "CHG-9"})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(out.Result.Message, "silence "), " created")
	t.Cleanup(func() {
		_, _ = p.Execute(ctxT(t, 30*time.Second), actions.ExpireSilence(e), spec.Object{Kind: spec.KindSilence, Name: id}, spec.Request{Reason: "cleanup"})
	})
	got := silencedBy()
	if !slices.Contains(got["local-1"], id) || len(got["local-2"]) != 0 {
		t.Errorf("silence %s: local-1's alert silenced by %v, local-2's by %v; want local-1's only\npreview:\n%s", id, got["local-1"], got["local-2"], out.Preview)
	}
}
