package estate

import (
	"github.com/vigil-k8s/vigil/config"
	"reflect"
	"testing"
)

func TestJoinRates(t *testing.T) {
	services := []Service{
		{Namespace: "fintech-prod", Name: "user-service", Kind: "Deployment"},
		{Namespace: "fintech-prod", Name: "postgres", Kind: "StatefulSet", Labels: map[string]string{"app": "postgres-db"}},
		{Namespace: "fintech-staging", Name: "user-service", Kind: "Deployment"},
		{Namespace: "fintech-prod", Name: "api-gateway", Kind: "Deployment"},
	}
	series := func(req, errs float64, kv ...string) RateSeries {
		l := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return RateSeries{Labels: l, Requests: req, Errors: errs}
	}
	for _, tt := range []struct {
		name   string
		rates  []RateSeries
		labels config.AlertLabels
		want   map[string]ServiceRate
	}{
		{name: "by service label in its namespace",
			rates: []RateSeries{series(80, 20, "namespace", "fintech-prod", "service", "user-service", "job", "user-service"),
				series(5, 0, "namespace", "fintech-staging", "service", "user-service")},
			want: map[string]ServiceRate{"fintech-prod/user-service/Deployment": {80, 20}, "fintech-staging/user-service/Deployment": {5, 0}}},
		{name: "by app label of the workload",
			rates: []RateSeries{series(3, 1, "namespace", "fintech-prod", "app", "postgres-db")},
			want:  map[string]ServiceRate{"fintech-prod/postgres/StatefulSet": {3, 1}}},
		{name: "series of one service summed",
			rates: []RateSeries{series(10, 1, "namespace", "fintech-prod", "job", "api-gateway", "instance", "a"),
				series(20, 2, "namespace", "fintech-prod", "job", "api-gateway", "instance", "b")},
			want: map[string]ServiceRate{"fintech-prod/api-gateway/Deployment": {30, 3}}},
		{name: "ambiguous without namespace, unknown service dropped",
			rates: []RateSeries{series(1, 1, "service", "user-service"), series(1, 1, "namespace", "fintech-prod", "service", "ledger")},
			want:  map[string]ServiceRate{}},
		{name: "only configured labels join",
			rates:  []RateSeries{series(1, 0, "namespace", "fintech-prod", "service", "user-service")},
			labels: config.AlertLabels{Service: []string{"job"}},
			want:   map[string]ServiceRate{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := JoinRates(tt.rates, services, tt.labels); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("JoinRates = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWithRates(t *testing.T) {
	services := []Service{
		{Namespace: "p", Name: "user", Kind: "Deployment"},
		{Namespace: "p", Name: "idle", Kind: "Deployment"},
		{Namespace: "p", Name: "unscraped", Kind: "Deployment"},
	}
	withRates(services, []RateSeries{
		{Labels: map[string]string{"namespace": "p", "service": "user"}, Requests: 80, Errors: 20},
		{Labels: map[string]string{"namespace": "p", "service": "idle"}},
	}, config.AlertLabels{})
	if s := services[0]; !s.ErrorRateKnown || s.ErrorRate != 0.25 || s.RequestRate != 80 {
		t.Errorf("user: known=%v rate=%v rps=%v", s.ErrorRateKnown, s.ErrorRate, s.RequestRate)
	}
	if s := services[1]; !s.ErrorRateKnown || s.ErrorRate != 0 {
		t.Errorf("idle: known=%v rate=%v", s.ErrorRateKnown, s.ErrorRate)
	}
	if s := services[2]; s.ErrorRateKnown {
		t.Errorf("unscraped is known: %+v", s)
	}
}
