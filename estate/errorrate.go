package estate

import (
	"github.com/vigil-k8s/vigil/config"
)

// ServiceRate is a service's joined HTTP traffic.
type ServiceRate struct {
	// Requests is all requests per second; Errors the 5xx ones.
	Requests, Errors float64
}

// JoinRates sums the rate series per service key, joining each series'
// labels to a service as JoinAlerts joins an alert's. Series that name no
// service are dropped. It is pure.
func JoinRates(rates []RateSeries, services []Service, labels config.AlertLabels) map[string]ServiceRate {
	idx := newServiceIndex(services, labels)
	out := map[string]ServiceRate{}
	for _, r := range rates {
		key := idx.lookup(r.Labels)
		if key == "" {
			continue
		}
		sr := out[key]
		sr.Requests += r.Requests
		sr.Errors += r.Errors
		out[key] = sr
	}
	return out
}

// withRates sets each service's error and request rates from the joined
// series; a service no series joined to stays unknown.
func withRates(services []Service, rates []RateSeries, labels config.AlertLabels) {
	if len(rates) == 0 {
		return
	}
	joined := JoinRates(rates, services, labels)
	for i := range services {
		r, ok := joined[services[i].Key()]
		if !ok {
			continue
		}
		s := &services[i]
		s.ErrorRateKnown, s.RequestRate, s.ErrorRate = true, r.Requests, 0
		if r.Requests > 0 {
			s.ErrorRate = min(1, r.Errors/r.Requests)
		}
	}
}
