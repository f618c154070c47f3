package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// TestAlertSourceDownAlone (issue 14): with real Prometheus and
// Alertmanager behind proxies, each goes down alone (its port refuses
// connections). The alerts degrade with the reason, named for the source
// that is down; the alerts shown are exactly what the source still up
// serves (its own HTTP API, read here); the source still up stays
// available; and the rest of the snapshot keeps updating: a label written
// through client-go during the outage shows, the session connected and
// synced. Then the source comes back behind the same URL without a restart.
func TestAlertSourceDownAlone(t *testing.T) {
	prom, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	defer prom.Stop()
	pp, ap := newProxy(t), newProxy(t)
	pp.set(prom.URL)
	ap.set(prom.AlertmanagerURL)
	kc := lc.Client(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	ctx := context.Background()
	if _, err = kc.AppsV1().Deployments(ns).Create(ctx, faultDeployment("marker", 1, "start"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := start(t, "local-1", func(o *cluster.Options) {
		o.Namespaces = append(slices.Clone(config.DefaultNamespaces), ns)
		o.Settings.Prometheus, o.Settings.Alertmanager = pp.url(), ap.url()
	})
	waitSnap(t, s, 150*time.Second, "both alert sources available, alerts firing", func(s estate.Snapshot) bool {
		return s.Synced && s.Alerts.Prometheus.Available && s.Alerts.Alertmanager.Available && s.Alerts.Firing > 0
	})

	for _, tc := range []struct {
		name     string
		down, up *proxy
		downURL  string
		source   func(estate.AlertsView) (down, up estate.AlertSource)
		served   func(t *testing.T) []string // the alerts the source still up serves
	}{
		{"Prometheus", pp, ap, prom.URL,
			func(v estate.AlertsView) (estate.AlertSource, estate.AlertSource) {
				return v.Prometheus, v.Alertmanager
			},
			func(t *testing.T) []string { return alertmanagerAlerts(t, prom.AlertmanagerURL) }},
		{"Alertmanager", ap, pp, prom.AlertmanagerURL,
			func(v estate.AlertsView) (estate.AlertSource, estate.AlertSource) {
				return v.Alertmanager, v.Prometheus
			},
			func(t *testing.T) []string { return prometheusAlerts(t, prom.URL) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.down.stop()
			defer tc.down.resume(t) // a failure here leaves the next subtest its source
			downAt := time.Now()
			mark := strings.ToLower(tc.name) + "-down"
			patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, faultLabel, mark)
			if _, err := kc.AppsV1().Deployments(ns).Patch(ctx, "marker", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			snap := waitSnap(t, s, 60*time.Second, tc.name+" down alone, the label written during the outage shown", func(s estate.Snapshot) bool {
				down, up := tc.source(s.Alerts)
				m, _ := service(s, ns, "marker")
				return !down.Available && up.Available && hasProblem(s, "alerts unavailable: "+tc.name) && m.Labels[faultLabel] == mark
			})
			down, up := tc.source(snap.Alerts)
			t.Logf("%s down: noticed in %s; the alerts pane says %q; the other source (%s) still available, %d alerts shown", tc.name,
				time.Since(downAt).Round(10*time.Millisecond), down.Err, up.URL, len(snap.Alerts.Alerts))
			if !strings.Contains(down.Err, "refused") {
				t.Errorf("%s's reason = %q, want the refused connection named", tc.name, down.Err)
			}
			if !snap.Conn.Connected || !snap.Synced {
				t.Errorf("with %s down the session is not well: connected=%v synced=%v %q", tc.name, snap.Conn.Connected, snap.Synced, snap.Conn.Reason)
			}
			for _, p := range snap.Problems {
				if strings.HasPrefix(p, "alerts unavailable:") && !strings.Contains(p, tc.name) {
					t.Errorf("problem %q blames the source that is up", p)
				}
			}
			// The alerts shown are exactly the ones the source still up serves.
			var got, want []string
			for try := 0; try < 30; try++ {
				if try > 0 {
					time.Sleep(time.Second)
				}
				got = snapshotAlerts(latest(t, s))
				want = tc.served(t)
				if slices.Equal(got, want) {
					break
				}
			}
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("with %s down the snapshot's alerts are\n  %q\nthe source that is up serves\n  %q", tc.name, got, want)
			}

			tc.down.resume(t)
			waitSnap(t, s, 60*time.Second, tc.name+" back", func(s estate.Snapshot) bool {
				d, u := tc.source(s.Alerts)
				return d.Available && u.Available && !hasProblem(s, "alerts unavailable")
			})
		})
	}
}

// snapshotAlerts are the snapshot's alerts as "state labels" lines, sorted;
// Alertmanager's are "active" (not suppressed), as its API says.
func snapshotAlerts(snap estate.Snapshot) []string {
	var out []string
	for _, a := range snap.Alerts.Alerts {
		state := a.State
		if a.Source == "alertmanager" && state == "firing" {
			state = "active"
		}
		out = append(out, state+" "+labelString(a.Labels))
	}
	sort.Strings(out)
	return out
}

func labelString(l map[string]string) string {
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// prometheusAlerts are Prometheus's alerts, from its own /api/v1/alerts.
func prometheusAlerts(t *testing.T, base string) []string {
	t.Helper()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	getAlerts(t, base+"/api/v1/alerts", &body)
	var out []string
	for _, a := range body.Data.Alerts {
		out = append(out, a.State+" "+labelString(a.Labels))
	}
	sort.Strings(out)
	return out
}

// alertmanagerAlerts are Alertmanager's alerts, from its own /api/v2/alerts.
func alertmanagerAlerts(t *testing.T, base string) []string {
	t.Helper()
	var body []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	getAlerts(t, base+"/api/v2/alerts", &body)
	var out []string
	for _, a := range body {
		out = append(out, a.Status.State+" "+labelString(a.Labels))
	}
	sort.Strings(out)
	return out
}

func getAlerts(t *testing.T, url string, v any) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
