package actions

import (
	"fmt"
	"strings"
)

// Kinds vigil acts on.
const (
	KindDeployment            = "Deployment"
	KindStatefulSet           = "StatefulSet"
	KindDaemonSet             = "DaemonSet"
	KindApplication           = "Application"
	KindExternalSecret        = "ExternalSecret"
	KindClusterExternalSecret = "ClusterExternalSecret"
	KindAlert                 = "Alert"
	KindSilence               = "Silence"
)

var kindAliases = map[string]string{
	"deploy": KindDeployment, "deployment": KindDeployment, "deployments": KindDeployment,
	"sts": KindStatefulSet, "statefulset": KindStatefulSet, "statefulsets": KindStatefulSet,
	"ds": KindDaemonSet, "daemonset": KindDaemonSet, "daemonsets": KindDaemonSet,
	"app": KindApplication, "application": KindApplication, "applications": KindApplication,
	"es": KindExternalSecret, "externalsecret": KindExternalSecret, "externalsecrets": KindExternalSecret,
	"ces": KindClusterExternalSecret, "clusterexternalsecret": KindClusterExternalSecret, "clusterexternalsecrets": KindClusterExternalSecret,
}

// ParseTarget reads kubectl-style `kind/name` (deploy/payment-service, sts/postgres,
// ds/node-exporter, app/fintech-app, es/payment-service-secrets) in namespace ns. defaultKind
// is used when ref has no kind.
func ParseTarget(ref, ns, defaultKind string) (Target, error) {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok {
		kind, name = defaultKind, ref
	} else {
		k, known := kindAliases[strings.ToLower(kind)]
		if !known {
			return Target{}, fmt.Errorf("%q: unknown kind %q (deploy, sts, ds, app, es, ces)", ref, kind)
		}
		kind = k
	}
	if kind == "" || name == "" {
		return Target{}, fmt.Errorf("%q: want kind/name, e.g. deploy/payment-service", ref)
	}
	if kind == KindClusterExternalSecret {
		ns = ""
	}
	return Target{Kind: kind, Namespace: ns, Name: name}, nil
}

// resourceOf is the API resource of a kind.
func resourceOf(kind string) string {
	switch kind {
	case KindDeployment:
		return "deployments"
	case KindStatefulSet:
		return "statefulsets"
	case KindDaemonSet:
		return "daemonsets"
	case KindApplication:
		return "applications"
	case KindExternalSecret:
		return "externalsecrets"
	case KindClusterExternalSecret:
		return "clusterexternalsecrets"
	}
	return strings.ToLower(kind) + "s"
}
