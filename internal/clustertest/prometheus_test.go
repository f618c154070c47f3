package clustertest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestSeedAlertsFire: Prometheus scrapes the simulated services of both clusters and the seed's
// three alert rules (with short `for:`) go firing and reach Alertmanager.
func TestSeedAlertsFire(t *testing.T) {
	p, err := lc.StartPrometheus(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	want := []string{"DatabaseConnectionHigh", "HighErrorRate", "PaymentServiceDown"}
	var firing []string
	err = clustertest.Eventually(150*time.Second, 2*time.Second, func() (bool, error) {
		var body struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if getErr := getJSON(p.URL+"/api/v1/alerts", &body); getErr != nil {
			return false, getErr
		}
		seen := map[string]bool{}
		for _, a := range body.Data.Alerts {
			if a.State == "firing" {
				seen[a.Labels["alertname"]] = true
			}
		}
		firing = firing[:0]
		for name := range seen {
			firing = append(firing, name)
		}
		sort.Strings(firing)
		for _, w := range want {
			if !seen[w] {
				return false, fmt.Errorf("firing: %v", firing)
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("seed alerts did not all fire in Prometheus: %v", err)
	}
	err = clustertest.Eventually(60*time.Second, time.Second, func() (bool, error) {
		var alerts []struct {
			Labels map[string]string `json:"labels"`
		}
		if getErr := getJSON(p.AlertmanagerURL+"/api/v2/alerts", &alerts); getErr != nil {
			return false, getErr
		}
		names := map[string]bool{}
		for _, a := range alerts {
			names[a.Labels["alertname"]] = true
		}
		for _, w := range want {
			if !names[w] {
				return false, fmt.Errorf("alertmanager has %v", names)
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("alerts did not reach Alertmanager: %v", err)
	}
	t.Logf("firing: %s", strings.Join(firing, ", "))
}

func getJSON(url string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
