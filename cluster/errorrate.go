package cluster

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// rateLabel marks which half of the rate query a series comes from.
const rateLabel = "vigil_rate"

// promLabelName is a label name PromQL accepts unquoted.
var promLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// rateQuery is the instant query for every service's request and 5xx rates
// over the last two minutes, restricted to the context's alertLabels.match
// and grouped by the namespace and service labels usable in PromQL. It asks
// for both sums (told apart by rateLabel) rather than their ratio: a
// service that never answered a 5xx has no 5xx series, and the ratio would
// drop it instead of saying 0.
func rateQuery(l config.AlertLabels) (string, error) {
	if len(l.Service) == 0 {
		l.Service = config.DefaultServiceLabels
	}
	if len(l.Namespace) == 0 {
		l.Namespace = config.DefaultNamespaceLabels
	}
	var by []string
	for _, n := range append(slices.Clone(l.Namespace), l.Service...) {
		if promLabelName.MatchString(n) && n != rateLabel && !slices.Contains(by, n) {
			by = append(by, n)
		}
	}
	if len(by) == 0 {
		return "", fmt.Errorf("config alertLabels: no service or namespace label is a Prometheus label name (e.g. service, app, job)")
	}
	match, err := promMatchers(l.Match)
	if err != nil {
		return "", err
	}
	sum := func(sel string) string {
		return fmt.Sprintf("sum by (%s) (rate(http_requests_total{%s}[2m]))", strings.Join(by, ", "), sel)
	}
	errSel := strings.Join(append([]string{`status=~"5.."`}, match...), ",")
	return fmt.Sprintf(`label_replace(%s, %q, "errors", "", "") or label_replace(%s, %q, "requests", "", "")`,
		sum(errSel), rateLabel, sum(strings.Join(match, ",")), rateLabel), nil
}

// promMatchers turns alertLabels.match into PromQL equality matchers,
// sorted by name, with values quoted (PromQL strings take Go's escapes).
func promMatchers(m map[string]string) ([]string, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, k := range names {
		if !promLabelName.MatchString(k) {
			return nil, fmt.Errorf("config alertLabels.match: %q is not a Prometheus label name", k)
		}
		out = append(out, k+"="+strconv.Quote(m[k]))
	}
	return out, nil
}

// fetchRates runs the rate query and pairs each label set's two sums.
func fetchRates(ctx context.Context, api promv1.API, query string) ([]estate.RateSeries, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, _, _, err := api.Query(ctx, query, time.Now())
	if err != nil {
		return nil, fmt.Errorf("error-rate query: %w", err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("error-rate query: got a %s, want a vector", v.Type())
	}
	return pairRates(vec), nil
}

// pairRates folds the query's "errors" and "requests" series into one
// RateSeries per label set, sorted by labels. It is pure.
func pairRates(vec model.Vector) []estate.RateSeries {
	byLabels := map[string]*estate.RateSeries{}
	var keys []string
	for _, smp := range vec {
		val := float64(smp.Value)
		if math.IsNaN(val) || math.IsInf(val, 0) {
			continue
		}
		kind := string(smp.Metric[rateLabel])
		m := smp.Metric.Clone()
		delete(m, rateLabel)
		k := m.String()
		r := byLabels[k]
		if r == nil {
			r = &estate.RateSeries{Labels: labelMap(m)}
			byLabels[k] = r
			keys = append(keys, k)
		}
		switch kind {
		case "errors":
			r.Errors += val
		case "requests":
			r.Requests += val
		}
	}
	sort.Strings(keys)
	out := make([]estate.RateSeries, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byLabels[k])
	}
	return out
}
