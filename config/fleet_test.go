package config

import (
	"strings"
	"testing"
)

// TestFleetSource reads the fleet key as a user writes it: the Prometheus and label globally,
// the cluster per context, defaulting to the context's name.
func TestFleetSource(t *testing.T) {
	cfg, err := Parse([]byte(`fleet:
  prometheus: http://thanos-query.monitoring:9090
contexts:
  local-1-reviewer:
    fleet: {cluster: local-1}
  local-2:
    fleet: {clusterLabel: k8s_cluster}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ context, prom, label, cluster string }{
		{"local-1", "http://thanos-query.monitoring:9090", "cluster", "local-1"},
		{"local-1-reviewer", "http://thanos-query.monitoring:9090", "cluster", "local-1"},
		{"local-2", "http://thanos-query.monitoring:9090", "k8s_cluster", "local-2"},
	} {
		s := cfg.For(tt.context)
		if s.Fleet.Prometheus != tt.prom || s.FleetClusterLabel() != tt.label || s.FleetCluster(tt.context) != tt.cluster {
			t.Errorf("For(%s): fleet %+v, label %q, cluster %q; want %s %s %s", tt.context, s.Fleet, s.FleetClusterLabel(), s.FleetCluster(tt.context), tt.prom, tt.label, tt.cluster)
		}
	}
	if s := Default().For("x"); s.Fleet.Prometheus != "" {
		t.Errorf("default fleet source = %+v, want none (LISTs)", s.Fleet)
	}
}

// TestFleetSourceErrors: each mistake is named by line and field.
func TestFleetSourceErrors(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"not a URL", "fleet:\n  prometheus: thanos:9090\n", `line 2: fleet.prometheus: "thanos:9090" is not an http(s) URL`},
		{"bad label", "fleet:\n  prometheus: http://p:9090\n  clusterLabel: k8s-cluster\n", `line 3: fleet.clusterLabel: "k8s-cluster" is not a Prometheus label name`},
		{"global cluster", "fleet:\n  prometheus: http://p:9090\n  cluster: prod\n", "line 3: fleet.cluster: names one context's series: set it per context"},
		{"cluster without prometheus", "contexts:\n  prod:\n    fleet:\n      cluster: prod-eu\n", "line 4: contexts.prod.fleet.cluster: has no effect without fleet.prometheus"},
		{"unknown key", "fleet:\n  promethus: http://p:9090\n", `line 2: fleet.promethus: unknown field "promethus" (known fields: cluster, clusterLabel, prometheus)`},
		{"wrong type", "fleet: http://p:9090\n", "line 1: fleet: want a mapping, got the string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
