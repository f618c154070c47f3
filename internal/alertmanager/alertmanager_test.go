package alertmanager

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/api/v2/client/alert"
)

// TestNewAPIPaths: the request lands on the base URL's path prefix plus
// /api/v2, with or without a trailing slash (a pure unit test of the URL
// construction; the real Alertmanager answers in cluster/integration and
// actions/integration).
func TestNewAPIPaths(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/am", srv.URL + "/am/"} {
		api, err := NewAPI(base, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.Alert.GetAlerts(alert.NewGetAlertsParamsWithContext(context.Background())); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
	}
	want := "GET /api/v2/alerts,GET /api/v2/alerts,GET /am/api/v2/alerts,GET /am/api/v2/alerts"
	if strings.Join(got, ",") != want {
		t.Errorf("requests %v, want %s", got, want)
	}
	for _, bad := range []string{"alertmanager:9093", "/just/a/path", "http://"} {
		if _, err := NewAPI(bad, nil); err == nil || !strings.Contains(err.Error(), "want e.g. http://alertmanager:9093") {
			t.Errorf("NewAPI(%q) = %v, want the URL refused", bad, err)
		}
	}
}
