package actions

import (
	"context"
	"encoding/json"
	"github.com/vigil-k8s/vigil/actions/spec"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSilenceMatchersFromFiringAlerts: without explicit labels the matchers are the labels
// every firing alert with the alertname shares, and the request carries createdBy and the
// reason as comment.
func TestSilenceMatchersFromFiringAlerts(t *testing.T) {
	var posted map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v2/alerts":
			if f := r.URL.Query()["filter"]; len(f) != 2 || f[0] != `alertname="HighErrorRate"` || f[1] != `namespace="fintech-prod"` {
				t.Errorf("filter %v", f)
			}
			alert := func(pod string) map[string]any {
				return map[string]any{"labels": map[string]string{"alertname": "HighErrorRate", "namespace": "fintech-prod", "severity": "warning", "pod": pod},
					"annotations": map[string]string{}, "endsAt": "2026-11-26T20:00:00Z", "fingerprint": pod, "receivers": []any{},
					"startsAt": "2026-11-26T18:00:00Z", "status": map[string]any{"state": "active", "inhibitedBy": []string{}, "silencedBy": []string{}},
					"updatedAt": "2026-11-26T18:00:00Z"}
			}
			json.NewEncoder(w).Encode([]any{alert("payment-service-a"), alert("payment-service-b")})
		case r.URL.Path == "/api/v2/silences" && r.Method == http.MethodPost:
			json.NewDecoder(r.Body).Decode(&posted)
			json.NewEncoder(w).Encode(map[string]string{"silenceID": "0b1c2d3e-0000-4000-8000-000000000001"})
		case strings.HasPrefix(r.URL.Path, "/api/v2/silence/"):
			json.NewEncoder(w).Encode(map[string]any{"id": "0b1c2d3e-0000-4000-8000-000000000001", "status": map[string]string{"state": "active"},
				"updatedAt": "2026-11-26T18:00:00Z", "comment": "x", "createdBy": "y", "startsAt": "2026-11-26T18:00:00Z", "endsAt": "2026-11-26T20:00:00Z",
				"matchers": []any{map[string]any{"name": "alertname", "value": "HighErrorRate", "isRegex": false}}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env, _ := fakeEnv(t, nil)
	var err error
	if env.Alertmanager, err = NewAlertmanagerClient(srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	p, _ := newPipeline(t, env, PresetConfirmer{Answer: "local-1/fintech-prod/HighErrorRate"})
	out, err := p.Execute(context.Background(), SilenceAlert(env, spec.SilenceParams{Duration: 30 * time.Minute}),
		spec.Object{Kind: spec.KindAlert, Namespace: "fintech-prod", Name: "HighErrorRate"}, spec.Request{Reason: "INC-5"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Preview.String(), "2 firing alert(s) match") || strings.Contains(out.Preview.String(), "pod=") {
		t.Errorf("preview %s", out.Preview)
	}
	var names []string
	for _, m := range posted["matchers"].([]any) {
		names = append(names, m.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "alertname,namespace,severity" || posted["createdBy"] != "oncall@fintech" || posted["comment"] != "INC-5" {
		t.Fatalf("posted %v", posted)
	}
	if d := SilenceAlert(env, spec.SilenceParams{Duration: 30 * 24 * time.Hour}).Disabled(context.Background(), spec.Object{Kind: spec.KindAlert, Name: "x"}); !strings.Contains(d, "7-day limit") {
		t.Errorf("long silence: %q", d)
	}
	env.Alertmanager = nil
	if d := SilenceAlert(env, spec.SilenceParams{Duration: time.Hour}).Disabled(context.Background(), spec.Object{Kind: spec.KindAlert, Name: "x"}); !strings.Contains(d, "no Alertmanager configured") {
		t.Errorf("no alertmanager: %q", d)
	}
}
