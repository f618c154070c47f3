package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// kubeUser is the user name the API server gives the context's credentials, asked with a
// SelfSubjectReview by the test's own client.
func kubeUser(t *testing.T, contextName string) string {
	t.Helper()
	r, err := lc.Client(t, contextName).AuthenticationV1().SelfSubjectReviews().Create(context.Background(),
		&authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview on %s: %v", contextName, err)
	}
	if r.Status.UserInfo.Username == "" {
		t.Fatalf("SelfSubjectReview on %s: no user name", contextName)
	}
	return r.Status.UserInfo.Username
}

// amAlert is the part of Alertmanager's /api/v2/alerts the tests read.
type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State      string   `json:"state"`
		SilencedBy []string `json:"silencedBy"`
	} `json:"status"`
}

func amAlerts(url string) ([]amAlert, error) {
	resp, err := http.Get(url + "/api/v2/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v2/alerts: %s", resp.Status)
	}
	var as []amAlert
	return as, json.NewDecoder(resp.Body).Decode(&as)
}

// checkSilence asserts that the silence Alertmanager returned (/api/v2/silences) was created
// by user, has only exact, non-regex matchers with alertname=alertName and cluster=cluster
// among them (the screen shows only that cluster's alerts), and that Alertmanager then
// reports an alert of that name silenced by it.
func checkSilence(t *testing.T, amURL string, sil map[string]any, alertName, cluster, user string) {
	t.Helper()
	t.Logf("silence: createdBy=%v matchers=%v", sil["createdBy"], sil["matchers"])
	if got, _ := sil["createdBy"].(string); got != user {
		t.Errorf("silence createdBy = %q, want the kube user %q", got, user)
	}
	id, _ := sil["id"].(string)
	ms, _ := sil["matchers"].([]any)
	matchers := map[string]string{}
	for _, m := range ms {
		mm, _ := m.(map[string]any)
		n, _ := mm["name"].(string)
		v, _ := mm["value"].(string)
		if mm["isRegex"] != false || (mm["isEqual"] != nil && mm["isEqual"] != true) {
			t.Errorf("matcher %v is not an exact equality", mm)
		}
		matchers[n] = v
	}
	if matchers["alertname"] != alertName || matchers["cluster"] != cluster {
		t.Errorf("silence matchers %v: want alertname=%q and cluster=%q", matchers, alertName, cluster)
	}
	var silenced []amAlert
	err := clustertest.Eventually(30*time.Second, 500*time.Millisecond, func() (bool, error) {
		as, err := amAlerts(amURL)
		if err != nil {
			return false, nil
		}
		silenced = silenced[:0]
		for _, a := range as {
			if slices.Contains(a.Status.SilencedBy, id) {
				silenced = append(silenced, a)
			}
		}
		return len(silenced) > 0, nil
	})
	if err != nil {
		t.Fatalf("Alertmanager reports no alert silenced by %s (matchers %v)", id, matchers)
	}
	for _, a := range silenced {
		if a.Labels["alertname"] != alertName || a.Labels["cluster"] != cluster || a.Status.State != "suppressed" {
			t.Errorf("silence %s covers %v (state %s), want only %s alerts of %s, suppressed", id, a.Labels, a.Status.State, alertName, cluster)
		}
	}
}

// promAlertingRules counts the alerting rules Prometheus has loaded (/api/v1/rules).
func promAlertingRules(url string) (int, error) {
	resp, err := http.Get(url + "/api/v1/rules?type=alert")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Type string `json:"type"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	n := 0
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Type == "alerting" {
				n++
			}
		}
	}
	return n, nil
}

// checkAlertsScreen waits for the Alerts screen to agree with Prometheus's and
// Alertmanager's own APIs, read by the test: both sources up, the count of
// alerting rules, and the firing alerts of cluster (label cluster=<cluster>,
// not suppressed in Alertmanager): their count in the summary line
// and each one's name on a firing row. Alerts of other clusters must not show.
// Alerts start and resolve while the test reads, so the screen and the APIs
// are compared until they agree, both read in the same poll.
func checkAlertsScreen(t *testing.T, term *Terminal, promURL, amURL, cluster string) {
	t.Helper()
	var screen, why string
	deadline := time.Now().Add(60 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		rules, err := promAlertingRules(promURL)
		if err != nil || rules == 0 {
			why = fmt.Sprintf("Prometheus rules: %d, %v", rules, err)
			continue
		}
		as, err := amAlerts(amURL)
		if err != nil {
			why = fmt.Sprintf("Alertmanager alerts: %v", err)
			continue
		}
		var firing, others []string
		for _, a := range as {
			if a.Status.State == "suppressed" { // active or, briefly, unprocessed: firing
				continue
			}
			if a.Labels["cluster"] == cluster {
				firing = append(firing, a.Labels["alertname"])
			} else {
				others = append(others, a.Labels["alertname"])
			}
		}
		screen = term.Screen()
		why = ""
		switch {
		case LineWith(screen, "Prometheus", "● up") == "" || LineWith(screen, "Alertmanager", "● up") == "":
			why = "both sources up"
		case len(firing) == 0:
			why = "an alert of " + cluster + " firing in Alertmanager"
		case LineWith(screen, fmt.Sprintf("%d firing ·", len(firing)), fmt.Sprintf("· %d rules", rules)) == "":
			why = fmt.Sprintf("a summary of %d firing and %d rules (Alertmanager: %v)", len(firing), rules, firing)
		}
		for _, name := range firing {
			if why == "" && LineWith(screen, "firing", " "+name+" ") == "" {
				why = "a firing row for " + name
			}
		}
		for _, name := range others {
			if why == "" && !slices.Contains(firing, name) && LineWith(screen, " "+name+" ") != "" {
				why = fmt.Sprintf("no row for %s, firing on another cluster only", name)
			}
		}
		if why == "" {
			t.Logf("Alerts screen agrees with the APIs: firing %v, %d rules", firing, rules)
			return
		}
	}
	t.Fatalf("the Alerts screen never showed %s; screen:\n%s", why, screen)
}
