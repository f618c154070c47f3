package actions

import (
	"github.com/vigil-k8s/vigil/actions/spec"
	"strings"
)

// resourceOf is the API resource of a kind.
func resourceOf(kind string) string {
	switch kind {
	case spec.KindDeployment:
		return "deployments"
	case spec.KindStatefulSet:
		return "statefulsets"
	case spec.KindDaemonSet:
		return "daemonsets"
	case spec.KindApplication:
		return "applications"
	case spec.KindExternalSecret:
		return "externalsecrets"
	case spec.KindClusterExternalSecret:
		return "clusterexternalsecrets"
	}
	return strings.ToLower(kind) + "s"
}
