package history

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

func TestErrorRateSamples(t *testing.T) {
	s := New(60, 5*time.Second)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i, svc := range []estate.Service{
		{Namespace: "p", Name: "user", Kind: "Deployment", ErrorRateKnown: true, ErrorRate: 0.25},
		{Namespace: "p", Name: "user", Kind: "Deployment"}, // query failed: unknown, not 0
		{Namespace: "p", Name: "user", Kind: "Deployment", ErrorRateKnown: true},
	} {
		s.AddAt(estate.Snapshot{Services: []estate.Service{svc}}, t0.Add(time.Duration(i)*5*time.Second))
	}
	ser := s.Series("p/user/Deployment")
	if got := Values(ser, func(x Sample) float64 { return x.Errors }); !reflect.DeepEqual(got, []float64{25, 0}) {
		t.Errorf("error-rate values = %v, want [25 0] (unknown skipped)", got)
	}
}
