package spec

import (
	"fmt"
	"strings"
)

// Kinds of Object vigil acts on.
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

// Object is what an action acts on: a workload, an Argo CD application, an ExternalSecret,
// an alert or a silence.
type Object struct {
	// Kind is one of the Kind constants.
	Kind string
	// Namespace is empty for cluster-scoped objects (and for Alertmanager silences).
	Namespace string
	// Name is the object's name (an alert's alertname, a silence's ID).
	Name string
}

// String is kind/namespace/name in lower-case kind, as the audit log records it.
func (o Object) String() string {
	if o.Namespace == "" {
		return strings.ToLower(o.Kind) + "/" + o.Name
	}
	return strings.ToLower(o.Kind) + "/" + o.Namespace + "/" + o.Name
}

// ConfirmText is what an operator types to confirm an action on o in a kube context:
// `<context>/<namespace>/<name>` (`<context>/<name>` when o has no namespace).
func (o Object) ConfirmText(kubeContext string) string {
	if o.Namespace == "" {
		return kubeContext + "/" + o.Name
	}
	return kubeContext + "/" + o.Namespace + "/" + o.Name
}

var kindAliases = map[string]string{
	"deploy": KindDeployment, "deployment": KindDeployment, "deployments": KindDeployment,
	"sts": KindStatefulSet, "statefulset": KindStatefulSet, "statefulsets": KindStatefulSet,
	"ds": KindDaemonSet, "daemonset": KindDaemonSet, "daemonsets": KindDaemonSet,
	"app": KindApplication, "application": KindApplication, "applications": KindApplication,
	"es": KindExternalSecret, "externalsecret": KindExternalSecret, "externalsecrets": KindExternalSecret,
	"ces": KindClusterExternalSecret, "clusterexternalsecret": KindClusterExternalSecret, "clusterexternalsecrets": KindClusterExternalSecret,
}

// ParseObject reads kubectl-style `kind/name` (deploy/payment-service, sts/postgres,
// ds/node-exporter, app/fintech-app, es/payment-service-secrets) in namespace ns. defaultKind
// is used when ref has no kind.
func ParseObject(ref, ns, defaultKind string) (Object, error) {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok {
		kind, name = defaultKind, ref
	} else {
		k, known := kindAliases[strings.ToLower(kind)]
		if !known {
			return Object{}, fmt.Errorf("%q: unknown kind %q (deploy, sts, ds, app, es, ces)", ref, kind)
		}
		kind = k
	}
	if kind == "" || name == "" {
		return Object{}, fmt.Errorf("%q: want kind/name, e.g. deploy/payment-service", ref)
	}
	if kind == KindClusterExternalSecret {
		ns = ""
	}
	return Object{Kind: kind, Namespace: ns, Name: name}, nil
}
