package checks

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ConfigMapValueRead says whether a check reads the value of data[key] of cm.
// The checks read ConfigMaps for Grafana dashboards (labelled
// grafana_dashboard, their .json keys), Prometheus rule files (any value
// holding "groups:"), Alertmanager and Prometheus configurations (keys naming
// them) and the cluster autoscaler's status; every other value is carried
// for nothing. It must stay in step with the readers in monitoring.go and
// scaling.go: TestSlimConfigMapsChangeNoFinding holds it to them.
func ConfigMapValueRead(cm *corev1.ConfigMap, key string) bool {
	v := cm.Data[key]
	switch {
	case cm.Labels["grafana_dashboard"] != "" && strings.HasSuffix(key, ".json"): // evalDashboards
	case strings.Contains(v, "groups:"): // definedAlerts, percentWithoutRatio
	case strings.Contains(key, "alertmanager"): // alertmanagerConfigs
	case strings.HasPrefix(key, "prometheus"): // evalAlertmanager's Prometheus configurations
	case cm.Namespace == "kube-system" && cm.Name == "cluster-autoscaler-status" && key == "status": // evalClusterAutoscaler
	default:
		return false
	}
	return true
}

// SlimConfigMap empties, in place, the values of cm no check reads
// (ConfigMapValueRead) and drops its binary data; the keys stay, so what a
// ConfigMap holds can still be named. A cache keeps only what the checks
// need of each ConfigMap (CA bundles, application settings and scripts are
// most of a cluster's ConfigMap bytes).
func SlimConfigMap(cm *corev1.ConfigMap) {
	cm.BinaryData = nil
	for k := range cm.Data {
		if !ConfigMapValueRead(cm, k) {
			cm.Data[k] = ""
		}
	}
}
