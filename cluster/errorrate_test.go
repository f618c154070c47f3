package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

func TestRateQuery(t *testing.T) {
	for _, tt := range []struct {
		name    string
		labels  config.AlertLabels
		by      string // the grouping, e.g. "namespace, service, app, job"
		errSel  string // the 5xx selector
		allSel  string // the all-requests selector
		wantErr string
	}{
		{name: "defaults, no match", by: "namespace, service, app, job", errSel: `status=~"5.."`, allSel: ""},
		{name: "shared Prometheus", labels: config.AlertLabels{Match: map[string]string{"cluster": "local-1"}},
			by: "namespace, service, app, job", errSel: `status=~"5..",cluster="local-1"`, allSel: `cluster="local-1"`},
		{name: "matchers sorted, values escaped",
			labels: config.AlertLabels{Match: map[string]string{"region": `eu"west\1`, "cluster": "a\nb"}},
			by:     "namespace, service, app, job", errSel: `status=~"5..",cluster="a\nb",region="eu\"west\\1"`,
			allSel: `cluster="a\nb",region="eu\"west\\1"`},
		{name: "labels not usable in PromQL skipped, duplicates once",
			labels: config.AlertLabels{Service: []string{"app.kubernetes.io/name", "job", "namespace"}, Namespace: []string{"kubernetes_namespace"}},
			by:     "kubernetes_namespace, job, namespace", errSel: `status=~"5.."`},
		{name: "no usable label", labels: config.AlertLabels{Service: []string{"app.kubernetes.io/name"}, Namespace: []string{"k8s-ns"}},
			wantErr: "no service or namespace label"},
		{name: "match key not a label name", labels: config.AlertLabels{Match: map[string]string{"cluster name": "x"}},
			wantErr: `"cluster name" is not a Prometheus label name`},
		{name: "match key cannot inject", labels: config.AlertLabels{Match: map[string]string{`a="b"}) or vector(1`: "x"}},
			wantErr: "is not a Prometheus label name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q, err := rateQuery(tt.labels)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := `label_replace(sum by (` + tt.by + `) (rate(http_requests_total{` + tt.errSel + `}[2m])), "vigil_rate", "errors", "", "")` +
				` or label_replace(sum by (` + tt.by + `) (rate(http_requests_total{` + tt.allSel + `}[2m])), "vigil_rate", "requests", "", "")`
			if q != want {
				t.Errorf("query\n got %s\nwant %s", q, want)
			}
		})
	}
}

func TestPairRates(t *testing.T) {
	smp := func(kind, ns, svc string, v float64) *model.Sample {
		return &model.Sample{Metric: model.Metric{rateLabel: model.LabelValue(kind), "namespace": model.LabelValue(ns), "service": model.LabelValue(svc)}, Value: model.SampleValue(v)}
	}
	got := pairRates(model.Vector{
		smp("requests", "prod", "user", 80), smp("errors", "prod", "user", 20),
		smp("requests", "prod", "gw", 30), // no 5xx series at all
		smp("errors", "prod", "odd", math.NaN()),
	})
	want := []estate.RateSeries{
		{Labels: map[string]string{"namespace": "prod", "service": "gw"}, Requests: 30},
		{Labels: map[string]string{"namespace": "prod", "service": "user"}, Requests: 80, Errors: 20},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pairRates = %+v\nwant %+v", got, want)
	}
}

// fakePrometheus answers the alerts, rules and query endpoints; query
// fails with queryErr when it is set.
func fakePrometheus(t *testing.T, queryErr string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/alerts":
			fmt.Fprint(w, `{"status":"success","data":{"alerts":[{"labels":{"alertname":"HighErrorRate","severity":"critical","namespace":"p","service":"user","cluster":"c1"},"annotations":{},"state":"firing","activeAt":"2026-11-26T10:00:00Z","value":"2e-01"}]}}`)
		case "/api/v1/rules":
			fmt.Fprint(w, `{"status":"success","data":{"groups":[]}}`)
		case "/api/v1/query":
			_ = r.ParseForm()
			if !strings.Contains(r.Form.Get("query"), `cluster="c1"`) {
				t.Errorf("query without the match: %s", r.Form.Get("query"))
			}
			if queryErr != "" {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprintf(w, `{"status":"error","errorType":"execution","error":%q}`, queryErr)
				return
			}
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[`+
				`{"metric":{"namespace":"p","service":"user","vigil_rate":"requests"},"value":[1764151200,"80"]},`+
				`{"metric":{"namespace":"p","service":"user","vigil_rate":"errors"},"value":[1764151200,"20"]}]}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPollRates: the Prometheus poll fills the rates with the alerts, and a
// failing rate query is recorded without costing the alerts.
func TestPollRates(t *testing.T) {
	for _, tt := range []struct {
		name, queryErr string
		wantRates      int
	}{{name: "answers", wantRates: 1}, {name: "query fails", queryErr: "boom"}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakePrometheus(t, tt.queryErr)
			s, err := New(Options{Client: fake.NewClientset(), Context: "c1", Namespaces: []string{"p"}, Generation: 3,
				Settings: config.Settings{Prometheus: srv.URL, AlertLabels: config.AlertLabels{Match: map[string]string{"cluster": "c1"}}},
				Logger:   slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			v := firstPoll(t, s)
			if !v.Prometheus.Available || len(v.Alerts) != 1 {
				t.Fatalf("alerts: available=%v alerts=%d err=%q", v.Prometheus.Available, len(v.Alerts), v.Prometheus.Err)
			}
			if len(v.Rates) != tt.wantRates || (tt.queryErr == "") != (v.RatesErr == "") || !strings.Contains(v.RatesErr, tt.queryErr) {
				t.Errorf("rates = %+v, err %q", v.Rates, v.RatesErr)
			}
			probs := estate.AlertProblems(v)
			if tt.queryErr != "" && (len(probs) != 1 || !strings.Contains(probs[0], "error rates unavailable")) {
				t.Errorf("problems = %q", probs)
			}
			if tt.queryErr == "" && len(probs) != 0 {
				t.Errorf("problems = %q", probs)
			}
		})
	}
}

// firstPoll runs s's alerts poller until its first successful Prometheus
// poll (5 s at most) and returns what it holds then; the poller stops when
// the test ends.
func firstPoll(t *testing.T, s *Session) estate.AlertsView {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.pollAlerts(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	v := s.alerts.get()
	for v.Prometheus.LastSuccess.IsZero() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		v = s.alerts.get()
	}
	return v
}
