package actions

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/cluster"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProductionLabel marks a namespace as production: its targets are confirmed by typing them.
const ProductionLabel = "environment"

// allowed asks the API server (SelfSubjectAccessReview) whether the user may perform access on
// t's exact namespace and name; it returns "" when allowed, else the reason to show. Answers
// are cached per Env.
func (e *Env) allowed(ctx context.Context, a Permission, t spec.Object) (string, error) {
	ok, _, err := e.reviews.Review(ctx, e.Kube, cluster.AccessQuery{Verb: a.Verb, Group: a.Group, Resource: a.Resource,
		Subresource: a.Subresource, Namespace: t.Namespace, Name: t.Name})
	if err != nil {
		return "", fmt.Errorf("checking whether you may %s (SelfSubjectAccessReview): %w", a, err)
	}
	if !ok {
		return forbiddenReason(a, t), nil
	}
	return "", nil
}

// forbiddenReason reads like kubectl's: "forbidden: you cannot patch deployments in fintech-prod".
func forbiddenReason(a Permission, t spec.Object) string {
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	where := ""
	if t.Namespace != "" {
		where = " in " + t.Namespace
	}
	return fmt.Sprintf("forbidden: you cannot %s %s%s", a.Verb, res, where)
}

// protected reports whether t (and the namespaces the preview says it changes) needs a typed
// confirmation: a protected context, or a namespace labelled environment=production. A
// namespace that cannot be read or is not found counts as protected: when in doubt, ask for
// more.
func (e *Env) protected(ctx context.Context, t spec.Object, extra []string) (bool, string) {
	if ok, why := e.contextProtected(); ok {
		return true, why
	}
	seen := map[string]bool{}
	for _, ns := range append([]string{t.Namespace}, extra...) {
		if ns == "" || seen[ns] {
			continue
		}
		seen[ns] = true
		n, err := e.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, fmt.Sprintf("namespace %s was not found, so it is treated as production", ns)
		}
		if err != nil {
			return true, fmt.Sprintf("namespace %s could not be read (%v), so it is treated as production", ns, shortErr(err))
		}
		if isProduction(n) {
			return true, fmt.Sprintf("namespace %s is labelled %s=production", ns, ProductionLabel)
		}
	}
	return false, ""
}

func isProduction(n *corev1.Namespace) bool {
	return strings.EqualFold(n.Labels[ProductionLabel], "production")
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
