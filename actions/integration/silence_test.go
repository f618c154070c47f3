package integration

import (
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
