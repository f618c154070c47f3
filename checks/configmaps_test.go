package checks_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// slimmedRunEqualsPlain runs the catalogue over inv as loaded and over a copy whose
// ConfigMaps were slimmed, and reports where their findings differ.
func slimmedRunEqualsPlain(t *testing.T, name string, inv *checks.Inventory) {
	t.Helper()
	plain := checks.Run(checks.Catalogue(), inv)
	slim := *inv
	slim.ConfigMaps = make([]*corev1.ConfigMap, len(inv.ConfigMaps))
	slimmed := 0
	for i, cm := range inv.ConfigMaps {
		c := cm.DeepCopy()
		checks.SlimConfigMap(c)
		if !reflect.DeepEqual(c.Data, cm.Data) {
			slimmed++
		}
		slim.ConfigMaps[i] = c
	}
	got := checks.Run(checks.Catalogue(), &slim)
	if !reflect.DeepEqual(plain, got) {
		for i := range max(len(plain), len(got)) {
			if i >= len(plain) || i >= len(got) || !reflect.DeepEqual(plain[i], got[i]) {
				var p, g any
				if i < len(plain) {
					p = plain[i]
				}
				if i < len(got) {
					g = got[i]
				}
				t.Fatalf("%s: finding %d differs once ConfigMaps are slimmed (%d of %d slimmed):\nplain %+v\nslim  %+v", name, i, slimmed, len(inv.ConfigMaps), p, g)
			}
		}
	}
}

// TestSlimConfigMapsChangeNoFinding: emptying the ConfigMap values no check reads changes
// no finding (status, evidence, order) of the whole catalogue, over the seed estate of both
// clusters, every check's fixtures, and 300 random estates of ConfigMaps mixing dashboards
// (valid, broken, unlabelled), rule files (percent annotations), Alertmanager and Prometheus
// configurations, the autoscaler's status and unrelated data under look-alike keys.
func TestSlimConfigMapsChangeNoFinding(t *testing.T) {
	root := filepath.Join("..", "testdata", "fintech")
	for _, cl := range []string{"local-1", "local-2"} {
		inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, cl)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.ConfigMaps) == 0 {
			t.Fatalf("precondition: the %s estate has no ConfigMap", cl)
		}
		slimmedRunEqualsPlain(t, "estate "+cl, inv)
	}
	fixtures, _ := filepath.Glob(filepath.Join("..", "testdata", "checks", "*", "*.yaml"))
	for _, f := range fixtures {
		inv, _ := loadFixture(t, f)
		slimmedRunEqualsPlain(t, f, inv)
	}
	values := []string{
		`{"title":"payments","panels":[]}`, `{"title": broken`, "",
		"groups:\n- name: payments\n  rules:\n  - alert: HighErrorRate\n    expr: rate(http_requests_total{code=~\"5..\"}[5m]) > 0.1\n    annotations:\n      summary: error rate above 10%\n",
		"groups:\n- name: ok\n  rules:\n  - alert: Down\n    expr: up == 0\n",
		"groups: [not: valid",
		"route:\n  receiver: pager\nreceivers:\n- name: pager\n",
		"global:\n  scrape_interval: 30s\nalerting:\n  alertmanagers:\n  - static_configs:\n    - targets: [alertmanager:9093]\n",
		"Cluster-autoscaler status at 2026-12-01:\nCluster-wide:\n  Health:      Unhealthy (ready=2)\n",
		"health:\n  status: Healthy\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		"log.level=debug\nfeature.x=true\n",
	}
	keys := []string{"dashboard.json", "payments.json", "rules.yaml", "alerts.yml", "alertmanager.yml", "alertmanager.yaml",
		"prometheus.yml", "prometheus-rules", "status", "ca.crt", "app.properties", "config.yaml"}
	names := []struct{ ns, name string }{{"kube-system", "cluster-autoscaler-status"}, {"fintech-monitoring", "prometheus-config"},
		{"fintech-monitoring", "grafana-dashboards"}, {"fintech-prod", "app-config"}, {"kube-system", "other"}}
	rng := rand.New(rand.NewPCG(16, 14))
	for i := range 300 {
		inv := &checks.Inventory{Config: checks.DefaultConfig()}
		for j := range 1 + rng.IntN(6) {
			n := names[rng.IntN(len(names))]
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: n.ns, Name: fmt.Sprintf("%s-%d", n.name, j)}, Data: map[string]string{},
				BinaryData: map[string][]byte{"blob": {1, 2, 3}}}
			if rng.IntN(3) == 0 {
				cm.Name = n.name // the exact name some checks look for
			}
			if rng.IntN(2) == 0 {
				cm.Labels = map[string]string{"grafana_dashboard": "1"}
			}
			for range 1 + rng.IntN(4) {
				cm.Data[keys[rng.IntN(len(keys))]] = values[rng.IntN(len(values))]
			}
			inv.ConfigMaps = append(inv.ConfigMaps, cm)
		}
		slimmedRunEqualsPlain(t, fmt.Sprintf("random estate %d", i), inv)
	}
}
